"""One stream's worker: its source, its windows, and the hand-over of each finished window.

A reader loop takes sampled frames and audio from the source, scores frames with the shared models
and offers each to every open window; a finisher thread turns complete windows into documents and
commits them, so that OCR, ASR and fusion never hold up the source. The queue between the two holds
at most two windows: a finisher that falls behind backs the reader up into the source's own bounded
queue, which drops the oldest frames and counts them. Nothing in a worker touches another stream:
any failure is logged in one line, shown in the stream's state, and the source is opened again.
"""

from __future__ import annotations

import logging
import queue
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from edge.config import Config
from edge.config.models import StreamConfig
from edge.config.secrets import read_secret
from edge.errors import LiveGuardError
from edge.service.recognizer import Recognizer, WindowDocuments, frames_per_second
from edge.service.snapshot import StreamSnapshot, StreamState
from edge.service.windows import OpenWindow, WindowCutter
from edge.sources import FolderWatcher, SourceEvent, masked, open_source, source_kind
from edge.sources.urls import local_path
from edge.timing import StageTimer
from edge.types import AudioChunk, Frame, StreamInfo

log = logging.getLogger("liveguard.worker")

Deliver = Callable[[str, WindowDocuments], None]  # (stream id, documents): commits them durably, then returns

_FINISHED = 2  # complete windows waiting for the finisher at most
_POLL_S = 0.5
# A window's OCR, ASR and fusion are bounded by their own timeouts (the cloud's retries included); one that
# takes longer than this is stuck, and the reader waiting on it stops feeding the watchdog.
_FINISH_BOUND_S = 600.0
_LIVE_EVENTS = {"connecting": "connecting", "streaming": "streaming", "reconnecting": "reconnecting",
                "stalled": "stalled", "ended": "ended"}


@dataclass
class _Closed:
    """A complete window on its way to the finisher, and what to do once its documents are committed."""

    window: OpenWindow | None  # None: nothing to finish, only ``committed`` to call in order
    info: StreamInfo
    committed: Callable[[], None] | None = None


class StreamWorker:
    """Serves one configured stream until :meth:`stop`; never raises out of its threads."""

    def __init__(self, stream: StreamConfig, config: Config, recognizer: Recognizer, deliver: Deliver) -> None:
        self.stream = stream
        self.config = config
        self.recognizer = recognizer
        self.deliver = deliver
        self.kind = source_kind(stream.url)
        self.url = masked(stream.url)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._state: StreamState = "starting"
        self._since = time.time()
        self._reason = ""
        self._transitions: dict[str, int] = {}
        self._counts = {"frames_read": 0, "windows_done": 0, "windows_failed": 0, "reconnects": 0}
        self._fps = 0.0
        self._lag = 0.0
        self._stages: dict[str, float] = {}  # busy seconds per stage, over the worker's life
        self._last_frame: float | None = None
        self.heartbeat = time.monotonic()  # the reader's: bumped while it makes progress (the watchdog's input)
        self._finishing_since: float | None = None  # when the finisher began the window it is on
        self._source: Any = None
        self._dropped_before = 0  # frames dropped by earlier sources of this worker
        self._finished: queue.Queue[_Closed | None] = queue.Queue(maxsize=_FINISHED)
        self._reader = threading.Thread(target=self._read_loop, name=f"liveguard-read-{stream.id}", daemon=True)
        self._finisher = threading.Thread(target=self._finish_loop, name=f"liveguard-finish-{stream.id}", daemon=True)
        # speech of long windows is transcribed chunk by chunk while they are open, so no window holds
        # more than one ASR chunk of audio (a 2-hour file read as one window included)
        self._speech: queue.Queue[tuple[OpenWindow, float, Any] | None] = queue.Queue(maxsize=2)
        self._listener = threading.Thread(target=self._speech_loop, name=f"liveguard-asr-{stream.id}", daemon=True)

    # -- control -------------------------------------------------------------------------------

    def start(self) -> StreamWorker:
        self._reader.start()
        self._finisher.start()
        self._listener.start()
        return self

    def stop(self) -> None:
        """Ask both threads to end: open windows are finished and committed first (see :meth:`join`)."""
        self._stop.set()

    def join(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s for the worker to commit its in-flight windows and end; True if it did."""
        deadline = time.monotonic() + timeout
        for thread in (self._reader, self._listener, self._finisher):
            thread.join(max(0.0, deadline - time.monotonic()))
        return not self.alive

    @property
    def alive(self) -> bool:
        return any(thread.is_alive() for thread in (self._reader, self._listener, self._finisher))

    def snapshot(self) -> StreamSnapshot:
        source = self._source
        dropped = self._dropped_before + (int(getattr(source, "frames_dropped", 0)) if source is not None else 0)
        with self._lock:
            last = self._last_frame
            return StreamSnapshot(
                id=self.stream.id, kind=self.kind, url=self.url, state=self._state, since=self._since, reason=self._reason,
                frames_read=self._counts["frames_read"], frames_dropped=dropped,
                windows_done=self._counts["windows_done"], windows_failed=self._counts["windows_failed"],
                reconnects=self._counts["reconnects"], transitions=dict(self._transitions), fps=round(self._fps, 3),
                lag_s=round(self._lag, 3), last_frame_age_s=None if last is None else round(time.monotonic() - last, 3),
                stage_seconds={stage: round(seconds, 3) for stage, seconds in self._stages.items()},
            )

    # -- state ---------------------------------------------------------------------------------

    def _enter(self, state: StreamState, reason: str = "") -> None:
        with self._lock:
            if state == self._state and reason == self._reason:
                return
            changed = state != self._state
            self._state, self._reason = state, reason
            if changed:
                self._since = time.time()
                self._transitions[state] = self._transitions.get(state, 0) + 1
                if state == "reconnecting":
                    self._counts["reconnects"] += 1
        if changed:
            line = f"stream {self.stream.id} ({self.url}): {state}" + (f": {reason}" if reason else "")
            (log.warning if state in ("reconnecting", "stalled", "failed") else log.info)(line)

    def _add_stages(self, timings: dict[str, float]) -> None:
        for stage, seconds in timings.items():
            self._stages[stage] = self._stages.get(stage, 0.0) + seconds

    # -- the reader ------------------------------------------------------------------------------

    def _read_loop(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                if self.kind == "folder":
                    self._serve_folder()
                else:
                    self._serve_source(self.stream.url, window_s=self._window_s(live=self.kind != "file"))
                    if self.kind == "file" and not self._stop.is_set():
                        self._enter("ended", self._reason or "end of file")
                        break
                failures = 0
            except Exception as exc:  # a bug or an unexpected failure: this stream only, and it starts over
                failures += 1
                delay = min(self.config.sources.reconnect_max_s, self.config.sources.reconnect_min_s * 2 ** min(failures, 10))
                self._enter("failed", f"{type(exc).__name__}: {exc}; restarting in {delay:.0f} s")
                log.debug("stream %s failed", self.stream.id, exc_info=True)
                self._stop.wait(delay * random.uniform(0.5, 1.0))
        self._speech.put(None)  # the ASR thread ends after the chunks queued before this
        self._finished.put(None)  # the finisher ends after the windows queued before this
        if self._state not in ("ended", "failed"):
            self._enter("stopped")

    def _window_s(self, live: bool) -> float | None:
        windows = self.config.windows
        return windows.window_s if live or windows.files == "windows" else None

    def _serve_folder(self) -> None:
        sources = self.config.sources
        state_file = self.config.service.state_dir / "folders" / f"{self.stream.id}.sqlite"
        with FolderWatcher(local_path(self.stream.url), state_file, sources.folder_poll_s, sources.folder_settle_s) as watcher:
            self._enter("idle", "waiting for new files")
            while not self._stop.is_set():
                self.heartbeat = time.monotonic()
                for path in watcher.poll():
                    if self._stop.is_set():
                        return
                    # marked done only once its last window is committed: a crash mid-file reads it again
                    self._serve_source(str(path), self._window_s(live=False), committed=lambda p=path: watcher.mark_done(p))
                    self._enter("idle", "waiting for new files")
                self._stop.wait(sources.folder_poll_s)

    def _serve_source(self, url: str, window_s: float | None, committed: Callable[[], None] | None = None) -> None:
        """Read one source until it ends (a file) or the worker stops (a live source reconnects by itself)."""
        cfg = self.config
        cutter = WindowCutter(window_s, cfg.windows.overlap_s, self.recognizer.new_pool)
        live = self.kind not in ("file", "folder")
        info = StreamInfo(id=self.stream.id, source=local_path(url).name if not live else self.url)
        source = self._open(url, live)
        self._source = source
        started = time.monotonic()
        try:
            source.start()
            for batch in self._batches(source):
                self.heartbeat = time.monotonic()
                frames = [item for item in batch if isinstance(item, Frame)]
                if frames:
                    self._offer(cutter, frames)
                    for window in cutter.complete(frames[-1].pts):
                        self._hand(window, info)
                for item in batch:
                    if isinstance(item, AudioChunk):
                        cutter.add_audio(item)
                        self._hear(cutter)
                    elif isinstance(item, SourceEvent):
                        self._enter(_LIVE_EVENTS.get(item.state, "streaming"), item.reason)  # type: ignore[arg-type]
                        if item.state == "ended":
                            break
                if live and not frames:  # no frame for a while: close windows whose time is past
                    for window in cutter.complete(time.monotonic() - started - cfg.sources.stall_s):
                        self._hand(window, info)
                if any(isinstance(i, SourceEvent) and i.state == "ended" for i in batch):
                    break
        finally:
            source.close()
            self._dropped_before += int(getattr(source, "frames_dropped", 0))
            self._source = None
            windows = cutter.close_all()  # end of source or shutdown: what the windows saw is committed
            for i, window in enumerate(windows):
                self._hand(window, info, committed if i == len(windows) - 1 else None)
            if not windows and committed is not None:
                self._hand(None, info, committed)  # after the windows queued before it

    def _open(self, url: str, live: bool) -> Any:
        cfg, stream = self.config, self.stream
        password = read_secret(f"streams.{stream.id}.password", stream.password_file, stream.password_env) if live else None
        return open_source(
            url, cfg.sampling.fps, cfg.sources, audio=self.recognizer.hears, audio_chunk_seconds=1.0,
            queue_frames=cfg.runtime.queue_frames, username=stream.username if live else None,
            password=password.get_secret_value() if password is not None else None,
        )

    def _batches(self, source: Any) -> Iterator[list[Any]]:
        """What the source has, in up to detector-batch-sized groups of frames; empty when it had nothing."""
        size = self.config.detector.batch_size
        while not self._stop.is_set():
            item = source.get(_POLL_S)
            batch = [] if item is None else [item]
            frames = 1 if isinstance(item, Frame) else 0
            while item is not None and frames < size:
                item = source.get(0)
                if item is None:
                    break
                batch.append(item)
                frames += isinstance(item, Frame)
                if isinstance(item, SourceEvent):
                    break
            yield batch

    def _offer(self, cutter: WindowCutter, frames: list[Frame]) -> None:
        timer = StageTimer()
        scored = self.recognizer.score(frames, timer)
        now = time.monotonic()
        with self._lock:
            self._counts["frames_read"] += len(frames)
            self._last_frame = now
            self._add_stages(timer.as_dict())
        if self._state not in ("streaming",) and self.kind in ("file", "folder"):
            self._enter("streaming", "")
        for frame, (score, detections) in zip(frames, scored, strict=True):
            for window in cutter.windows_at(frame.pts):
                window.offer(frame, score, detections)

    def _hear(self, cutter: WindowCutter) -> None:
        """Hand each open window's audio to ASR once a whole chunk of it waits."""
        for window in cutter.open_windows:
            taken = window.take_audio(self.recognizer.asr_chunk_samples)
            if taken is not None:
                window.speech_pending()
                self._wait_put(self._speech, (window, *taken), self._listener)

    def _speech_loop(self) -> None:
        while (job := self._speech.get()) is not None:
            window, start, samples = job
            timer = StageTimer()
            transcript, failure = self.recognizer.transcribe(samples, start, timer)
            window.add_speech(transcript, failure)
            with self._lock:
                self._add_stages(timer.as_dict())

    def _wait_put(self, target: queue.Queue, item: Any, consumer: threading.Thread) -> None:
        """Put ``item``, waiting while ``target`` is full (the reader stays alive for the watchdog meanwhile)."""
        while True:
            try:
                target.put(item, timeout=_POLL_S)
                return
            except queue.Full:
                busy = self._finishing_since
                if busy is None or time.monotonic() - busy < _FINISH_BOUND_S:
                    self.heartbeat = time.monotonic()  # waiting on calls that are bounded by their own timeouts
                if not consumer.is_alive():
                    log.error("stream %s: %s thread gone; its work is lost", self.stream.id, consumer.name)
                    return

    def _hand(self, window: OpenWindow | None, info: StreamInfo, committed: Callable[[], None] | None = None) -> None:
        """Queue a complete window for the finisher (waits while two are queued; the source's queue absorbs it)."""
        self._wait_put(self._finished, _Closed(window, info, committed), self._finisher)

    # -- the finisher ----------------------------------------------------------------------------

    def _finish_loop(self) -> None:
        while True:
            try:
                item = self._finished.get(timeout=_POLL_S)
            except queue.Empty:
                continue
            if item is None:
                return
            self._finishing_since = time.monotonic()
            try:
                self._finish(item)
            finally:
                self._finishing_since = None

    def _finish(self, item: _Closed) -> None:
        window = item.window
        if window is None:
            if item.committed is not None:
                item.committed()
            return
        try:
            documents = self.recognizer.finish(item.info, window)
            self.deliver(self.stream.id, documents)
        except (LiveGuardError, Exception) as exc:
            with self._lock:
                self._counts["windows_failed"] += 1
            log.error("stream %s: window %d (%.1f-%.1f s) failed: %s: %s", self.stream.id, window.index, window.start,
                      window.end, type(exc).__name__, exc)
            log.debug("window failure", exc_info=True)
            return
        with self._lock:
            self._add_stages(documents.timings)
            self._counts["windows_done"] += 1
            self._fps = frames_per_second(window)
            if self.kind not in ("file", "folder"):
                self._lag = max(0.0, time.time() - (window.started_at + (window.span()[1] - (window.first_pts or 0.0))))
        if item.committed is not None:
            item.committed()

