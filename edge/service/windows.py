"""Cutting a stream into windows by stream time (DESIGN.md "Windows of a live stream").

Window ``k`` spans ``[k·hop, k·hop + window_s)`` with ``hop = window_s − overlap_s``, on the source's
own timeline, so windows do not drift with processing delays. Each open window keeps only what
selection keeps (a :class:`KeyframePool`, O(K) frames), its frame-score curve (at most 600 pairs) and
its own audio, so memory is bounded by ``ceil(window_s / hop)`` windows whatever the stream's length.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from edge.select import KeyframePool, ScoreCurve
from edge.types import AudioChunk, Detections, Frame, FrameScore, Transcript


@dataclass
class OpenWindow:
    """One window while frames stream past: its candidates, its audio, what it saw."""

    index: int
    start: float  # seconds on the source timeline
    end: float  # exclusive; inf for a file read as one window
    pool: KeyframePool
    # every sampled frame's (pts, total), for the evidence's score curve (bounded: edge.select.curve)
    curve: ScoreCurve = field(default_factory=ScoreCurve, repr=False)
    started_at: float = field(default_factory=time.time)  # wall clock of the first frame, for the record
    first_pts: float | None = None
    last_pts: float | None = None
    audio_rate: int = 16000
    cut_short: bool = False  # closed before its end (end of source, disconnect, shutdown)
    # audio not yet transcribed (at most one ASR chunk: longer stretches go to ASR as they fill)
    _audio: list[np.ndarray] = field(default_factory=list, repr=False)
    _audio_t0: float | None = None  # stream time of the first buffered sample
    _buffered: int = 0
    # speech of the chunks transcribed while the window was open, in order, and what failed
    speech: list[Transcript] = field(default_factory=list, repr=False)
    speech_failures: list[str] = field(default_factory=list)
    _pending: int = 0  # chunks handed to ASR and not yet back
    _speech_done: threading.Condition = field(default_factory=threading.Condition, repr=False)

    @property
    def frames(self) -> int:
        return self.pool.count

    def offer(self, frame: Frame, score: FrameScore, detections: Detections) -> None:
        if self.first_pts is None:
            self.first_pts = frame.pts
            self.started_at = time.time()
        self.last_pts = frame.pts
        self.pool.offer(frame, score, detections)
        self.curve.add(frame.pts, score.total)

    def add_audio(self, chunk: AudioChunk) -> None:
        """Keep the part of ``chunk`` that lies inside the window."""
        self.audio_rate = chunk.rate
        begin = max(0, math.ceil((self.start - chunk.start) * chunk.rate))
        stop = len(chunk.samples) if math.isinf(self.end) else min(len(chunk.samples), math.floor((self.end - chunk.start) * chunk.rate))
        if stop > begin:
            if self._audio_t0 is None:
                self._audio_t0 = chunk.start + begin / chunk.rate
            self._audio.append(chunk.samples[begin:stop])
            self._buffered += stop - begin

    def take_audio(self, min_samples: int = 0) -> tuple[float, np.ndarray] | None:
        """The buffered audio and its start time, once at least ``min_samples`` wait (0: whatever waits)."""
        if not self._buffered or self._buffered < min_samples or self._audio_t0 is None:
            return None
        taken = (self._audio_t0, np.concatenate(self._audio))
        self._audio, self._audio_t0, self._buffered = [], None, 0
        return taken

    def speech_pending(self) -> None:
        """A chunk of this window went to ASR."""
        with self._speech_done:
            self._pending += 1

    def add_speech(self, transcript: Transcript | None, failure: str | None = None) -> None:
        """ASR's answer for one chunk (in order: one ASR thread per stream)."""
        with self._speech_done:
            if transcript is not None:
                self.speech.append(transcript)
            if failure:
                self.speech_failures.append(failure)
            self._pending -= 1
            self._speech_done.notify_all()

    def wait_speech(self, timeout: float | None = None) -> bool:
        """Wait until every chunk handed to ASR is back; True if none is outstanding."""
        with self._speech_done:
            return self._speech_done.wait_for(lambda: self._pending <= 0, timeout)

    def span(self) -> tuple[float, float]:
        """The stream time the window covers: its bounds, or up to its last frame if it was cut short."""
        if math.isinf(self.end):
            return 0.0, float(self.last_pts or 0.0)
        if not self.cut_short or self.last_pts is None:
            return self.start, self.end
        return self.start, min(self.end, max(self.last_pts, self.start))


class WindowCutter:
    """Assigns frames and audio to the windows they fall in and says which windows are complete.

    ``window_s`` None: one window for the whole source (a file), complete only at :meth:`close_all`.
    """

    def __init__(self, window_s: float | None, overlap_s: float, pool_factory) -> None:
        if window_s is not None and not 0 <= overlap_s < window_s:
            raise ValueError(f"overlap {overlap_s} s must be at least 0 and below the window's {window_s} s")
        self.window_s = window_s
        self.hop = None if window_s is None else window_s - overlap_s
        self._pool_factory = pool_factory
        self._open: dict[int, OpenWindow] = {}
        self._next = 0  # windows below this index are done (or were empty and skipped)

    @property
    def open_windows(self) -> list[OpenWindow]:
        return [self._open[k] for k in sorted(self._open)]

    def windows_at(self, t: float) -> list[OpenWindow]:
        """The windows containing stream time ``t`` (opening them as needed), oldest first."""
        if self.window_s is None or self.hop is None:
            return [self._window(0)]
        last = math.floor(t / self.hop)
        first = max(self._next, math.floor((t - self.window_s) / self.hop) + 1)
        return [self._window(k) for k in range(first, last + 1) if k * self.hop <= t < k * self.hop + self.window_s]

    def add_audio(self, chunk: AudioChunk) -> None:
        """Hand the chunk to every open window it overlaps (windows open on frames, not on audio)."""
        for window in self._open.values():
            window.add_audio(chunk)

    def complete(self, t: float) -> list[OpenWindow]:
        """Windows that end at or before stream time ``t``, removed and oldest first; empty ones are dropped."""
        if self.window_s is None:
            return []
        done = [self._open.pop(k) for k in sorted(self._open) if self._open[k].end <= t]
        if self.hop is not None:
            self._next = max(self._next, math.floor((t - self.window_s) / self.hop) + 1)
        return [w for w in done if w.frames]

    def close_all(self) -> list[OpenWindow]:
        """Every open window that saw a frame (end of source, disconnect, shutdown), oldest first."""
        done = [self._open.pop(k) for k in sorted(self._open)]
        if done:
            self._next = max(self._next, done[-1].index + 1)
        for window in done:
            window.cut_short = True
        return [w for w in done if w.frames]

    def _window(self, k: int) -> OpenWindow:
        window = self._open.get(k)
        if window is None:
            if self.window_s is None or self.hop is None:
                window = OpenWindow(k, 0.0, math.inf, self._pool_factory())
            else:
                window = OpenWindow(k, k * self.hop, k * self.hop + self.window_s, self._pool_factory())
            self._open[k] = window
        return window
