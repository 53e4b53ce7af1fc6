"""A live stream (RTSP, RTMP, HTTP-FLV, HLS) as sampled frames and audio chunks that survive disconnects.

A reader thread opens the URL with PyAV, decodes it and samples frames; a supervisor thread restarts it
with capped exponential backoff whenever it ends (on a live source the end of the stream is a disconnect)
and abandons it when no frame came for ``stall_s`` (a blocked FFmpeg read cannot be interrupted from
another thread, field-facts §2e). Frames and chunks sit on one timeline of the source, seconds since
``start()``, continuous across reconnects.
"""

from __future__ import annotations

import logging
import math
import random
import threading
import time
from dataclasses import dataclass, field

import av
import av.container

from edge.closing import Closing
from edge.config.models import SourcesConfig
from edge.sources.audio import AudioChunker
from edge.sources.file import upright
from edge.sources.probe import describe_av_error, first_audio_stream, first_video_stream
from edge.sources.sampling import FrameSampler, Timeline
from edge.sources.stream import FileSource, Handover, Item, Source, SourceEvent, State
from edge.sources.urls import LIVE_KINDS, av_options, av_timeouts, masked, source_kind, with_credentials
from edge.types import AudioChunk, Frame

__all__ = ["FileSource", "LiveSource", "Source", "SourceEvent", "open_source"]

log = logging.getLogger(__name__)
_REMIND_EVERY = 10  # consecutive failed attempts between two warnings about the same source

_READ_ERRORS = (av.FFmpegError, OSError, ValueError)  # what opening or reading a stream raises in PyAV
_HEALTHY_S = 10.0  # a connection that streamed this long resets the reconnect backoff
_AHEAD_MAX_S = 60.0  # stream time this far ahead of the arrival clock is a timestamp jump: re-anchored
_WATCH_S = 0.1  # the supervisor's polling period
_JOIN_S = 1.0  # the longest close() waits for the supervisor


class LiveSource(Closing):
    """One live URL read in the background; ``get(timeout)`` hands over frames, chunks and events.

    Events: "connecting" at start, "streaming" when a connection delivers its first frame, "reconnecting"
    after every failed open or lost connection, "stalled" when the watchdog gives up on a silent reader,
    "ended" at close(). ``state`` is the latest of them. Counters: ``frames_read`` (sampled frames),
    ``frames_dropped`` (sampled frames dropped because the consumer was behind), ``chunks_dropped``,
    ``decoded_frames``, ``decode_errors``, ``reconnects`` (connection attempts after the first).
    """

    def __init__(
        self,
        url: str,
        kind: str,
        sample_fps: float,
        sources: SourcesConfig,
        *,
        audio: bool = True,
        audio_rate: int = 16000,
        audio_chunk_seconds: float = 1.0,
        queue_frames: int = 8,
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        if kind not in LIVE_KINDS:
            raise ValueError(f"{masked(url)}: {kind!r} is not a live source kind ({', '.join(LIVE_KINDS)})")
        self._sampler = FrameSampler(sample_fps)
        if not audio_chunk_seconds > 0 or audio_rate <= 0:
            raise ValueError(f"audio chunk and rate must be positive: {audio_chunk_seconds!r}, {audio_rate!r}")
        self._kind = kind
        self._url = masked(url)
        self._open_url = with_credentials(url, username, password)
        self.sample_fps = float(sample_fps)
        self.sources = sources
        self.audio = audio
        self.audio_rate = int(audio_rate)
        self.audio_chunk_seconds = float(audio_chunk_seconds)
        self.options = av_options(kind, sources)
        self.timeouts = av_timeouts(kind, sources)
        chunks = max(4, math.ceil(queue_frames / self.sample_fps / self.audio_chunk_seconds) + 1)
        self._handover = Handover(queue_frames, chunks)
        self._lock = threading.Lock()  # the timeline, sampler and counters; held only for CPU work
        self._random = random.Random()
        self._closing = threading.Event()
        self._supervisor: threading.Thread | None = None
        self._state: State = "connecting"
        self._t_start = 0.0
        self._last_t: float | None = None  # the latest frame time handed out, seconds on the timeline
        self._audio_end = 0.0  # where the latest audio chunk ended on the timeline
        self._last_frame_at: float | None = None
        self._index = 0
        self._reconnects = 0
        self.decoded_frames = 0
        self.decode_errors = 0

    # -- the Source interface -------------------------------------------------------------------------

    @property
    def kind(self) -> str:
        return self._kind

    @property
    def url(self) -> str:
        """The URL with any password masked (safe for logs and metrics)."""
        return self._url

    @property
    def state(self) -> State:
        return "ended" if self._closing.is_set() else self._state

    @property
    def frames_read(self) -> int:
        return self._index

    @property
    def frames_dropped(self) -> int:
        return self._handover.frames_dropped

    @property
    def chunks_dropped(self) -> int:
        return self._handover.chunks_dropped

    @property
    def queued_frames(self) -> int:
        """Frames waiting for the consumer now (at most ``queue_frames``)."""
        return self._handover.frames

    @property
    def reconnects(self) -> int:
        return self._reconnects

    @property
    def last_frame_age_s(self) -> float | None:
        at = self._last_frame_at
        return None if at is None else time.monotonic() - at

    def start(self) -> None:
        """Start connecting in the background; time 0 of the source's timeline is now."""
        if self._supervisor is not None:
            raise RuntimeError(f"{self._url}: already started")
        self._t_start = time.monotonic()
        self._supervisor = threading.Thread(target=self._supervise, name=f"live {self._url}", daemon=True)
        self._emit("connecting", f"{self._url}: connecting")
        self._supervisor.start()

    def get(self, timeout: float) -> Item | None:
        """The next frame, audio chunk or event; None when nothing arrived within ``timeout`` s."""
        return self._handover.get(timeout)

    def close(self) -> None:
        """Stop; returns within about a second. A reader blocked in FFmpeg is abandoned (a daemon thread
        that can no longer deliver anything) and ends by itself when its read times out."""
        if self._closing.is_set():
            return
        self._closing.set()
        self._state = "ended"
        self._handover.new_generation()
        self._handover.close(SourceEvent("ended", f"{self._url}: closed"))
        if self._supervisor is not None and self._supervisor is not threading.current_thread():
            self._supervisor.join(timeout=_JOIN_S)

    def __repr__(self) -> str:
        return f"LiveSource({self._url!r}, {self._kind}, state={self._state})"

    # -- the supervisor -------------------------------------------------------------------------------

    def _supervise(self) -> None:
        failures = 0
        while not self._closing.is_set():
            with self._lock:  # a reader of the old generation cannot be half-way through a frame now
                generation = self._handover.new_generation()
            connection = _Connection(generation, time.monotonic())
            reader = threading.Thread(target=self._read, args=(connection,), name=f"read {self._url} #{generation}", daemon=True)
            reader.start()
            stalled = self._watch(connection)
            with self._lock:
                self._handover.new_generation()  # whatever that reader still does, it delivers nothing more
            if self._closing.is_set():
                return
            if connection.streamed_s >= _HEALTHY_S:
                failures = 0
            delay = self._backoff(failures)
            failures += 1
            self._reconnects += 1
            reason = f"{connection.reason}; retry in {delay:.1f} s"
            # a source that stays away would fill the journal: the first failure, then every tenth, as warnings
            loud = failures == 1 or failures % _REMIND_EVERY == 0
            log.log(logging.WARNING if loud else logging.DEBUG, "%s%s", reason,
                    f" ({failures} failures in a row)" if failures > 1 else "")
            self._emit("stalled" if stalled else "reconnecting", reason, retry_in_s=delay)
            if self._closing.wait(delay):
                return
            self._state = "reconnecting"  # after a stall too: the next attempt is under way (ended wins: see state)

    def _watch(self, connection: _Connection) -> bool:
        """Wait until the reader ends (False) or stalls (True, with the reason set), or close()."""
        sources = self.sources
        while not connection.done.wait(_WATCH_S):
            if self._closing.is_set():
                return False
            now = time.monotonic()
            if connection.opened_at is None:
                # PyAV's open timeout bounds av.open; this only catches an open that ignores it.
                limit, since, what = sources.open_timeout_s + sources.stall_s, connection.started_at, "open"
            else:
                limit, since, what = sources.stall_s, connection.last_frame_at or connection.opened_at, "frame"
            if now - since > limit:
                connection.reason = f"{self._url}: stalled, no {what} for {now - since:.1f} s; reader abandoned"
                return True
        return False

    def _backoff(self, failures: int) -> float:
        low, high = self.sources.reconnect_min_s, max(self.sources.reconnect_min_s, self.sources.reconnect_max_s)
        base = min(high, low * 2.0 ** min(failures, 30))
        return round(min(high, base * self._random.uniform(0.8, 1.2)), 3)

    def _emit(self, state: State, reason: str, generation: int | None = None, retry_in_s: float | None = None) -> bool:
        if not self._handover.put(SourceEvent(state, reason, retry_in_s=retry_in_s), generation):
            return False
        self._state = state
        return True

    # -- a reader (one per connection) ----------------------------------------------------------------

    def _read(self, connection: _Connection) -> None:
        try:
            container = av.open(self._open_url, options=self.options, timeout=self.timeouts)
        except Exception as exc:  # av.FFmpegError, OSError; anything else still ends in a reconnect, said so
            connection.finish(f"{self._url}: cannot open ({self._describe(exc)})")
            return
        try:
            connection.opened_at = time.monotonic()
            reason = self._pump(connection, container)
        except _READ_ERRORS as exc:
            reason = f"{self._url}: read failed ({self._describe(exc)})"
        except Exception as exc:
            log.exception("%s: reader failed", self._url)
            reason = f"{self._url}: reader failed ({self._describe(exc)})"
        finally:
            container.close()
        self._end_audio(connection)
        connection.finish(reason)

    def _pump(self, connection: _Connection, container: av.container.InputContainer) -> str:
        video = first_video_stream(container)
        if video is None:
            kinds = ", ".join(f"{s.type}" for s in container.streams) or "none"
            return f"{self._url}: no video stream found while probing (streams: {kinds})"
        audio = first_audio_stream(container) if self.audio else None
        streams = [video] if audio is None else [video, audio]
        connection.describe = f"{video.codec_context.name} {video.codec_context.width}x{video.codec_context.height}"
        if audio is not None:
            connection.describe += f" + {audio.codec_context.name} audio"
            connection.chunker = AudioChunker(self.audio_rate, self.audio_chunk_seconds, lambda: connection.audio_origin or 0.0)
        connection.step = 1.0 / float(video.average_rate or video.guessed_rate or self.sample_fps)
        for packet in container.demux(*streams):
            if not self._handover.current(connection.generation):
                return f"{self._url}: reader abandoned"
            if packet.size == 0:
                continue
            try:
                frames = packet.decode()
            except (av.FFmpegError, ValueError):
                self.decode_errors += 1
                continue
            for frame in frames:
                if packet.stream is video:
                    self._on_video(connection, frame)
                else:
                    self._on_audio(connection, frame)
        return f"{self._url}: end of stream (the server closed it)"

    def _on_video(self, connection: _Connection, frame: av.VideoFrame) -> None:
        now = time.monotonic()
        with self._lock:
            if not self._handover.current(connection.generation):
                return
            self._last_frame_at = connection.last_frame_at = now
            self.decoded_frames += 1
            elapsed = now - self._t_start
            if connection.clock is None:
                connection.clock = _Clock(self._next_time(elapsed), connection.step)
                connection.first_frame_at = now
                reason = f"{self._url}: streaming {connection.describe} (first frame {now - connection.started_at:.2f} s after connect)"
                self._emit("streaming", reason, connection.generation)
            t = connection.clock.place(frame.time)
            if t - elapsed > _AHEAD_MAX_S:  # a timestamp jump forward: back onto the arrival clock
                target = self._next_time(elapsed)
                connection.clock.anchor += target - t
                t = target
            if self._last_t is not None:
                t = max(t, self._last_t)
            if frame.is_corrupt:
                self.decode_errors += 1
                return
            if not self._sampler.offer(t):
                return
            try:
                image = upright(frame.to_ndarray(format="bgr24"), frame.rotation)
            except (av.FFmpegError, ValueError):
                self.decode_errors += 1
                return
            if self._handover.put(Frame(index=self._index, pts=round(t, 6), image=image), connection.generation):
                self._index += 1
                self._last_t = t

    def _next_time(self, elapsed: float) -> float:
        """Where a new connection's first frame goes: its arrival, but never before what was handed out."""
        return elapsed if self._last_t is None else max(elapsed, self._last_t + 1.0 / self.sample_fps)

    def _on_audio(self, connection: _Connection, frame: av.AudioFrame) -> None:
        assert connection.chunker is not None
        now = time.monotonic()
        with self._lock:
            if not self._handover.current(connection.generation):
                return
            if connection.audio_origin is None and frame.time is not None:
                connection.audio_origin = float(frame.time)
                connection.audio_arrival = now - self._t_start
            try:
                chunks = list(connection.chunker.push(frame))
            except (av.FFmpegError, ValueError):
                self.decode_errors += 1
                return
            for chunk in chunks:
                self._put_chunk(connection, chunk)

    def _end_audio(self, connection: _Connection) -> None:
        """The last, shorter chunk of a connection that ended (not of an abandoned one)."""
        if connection.chunker is None:
            return
        with self._lock:
            if not self._handover.current(connection.generation):
                return
            try:
                chunks = list(connection.chunker.flush())
            except (av.FFmpegError, ValueError):
                return
            for chunk in chunks:
                self._put_chunk(connection, chunk)

    def _put_chunk(self, connection: _Connection, chunk: AudioChunk) -> None:
        if connection.audio_base is None:
            connection.audio_base = max(self._audio_end, connection.audio_start(self._t_start))
        start = connection.audio_base + chunk.start
        if self._handover.put(AudioChunk(start=round(start, 6), samples=chunk.samples, rate=chunk.rate), connection.generation):
            self._audio_end = max(self._audio_end, start + chunk.duration)

    def _describe(self, exc: BaseException) -> str:
        text = describe_av_error(exc).replace(self._open_url, self._url)
        return f"{type(exc).__name__}: {text}"


@dataclass(eq=False)
class _Connection:
    """One reader's connection: what the supervisor watches and what maps its stream times."""

    generation: int
    started_at: float
    opened_at: float | None = None
    first_frame_at: float | None = None
    last_frame_at: float | None = None
    reason: str = ""
    describe: str = ""
    step: float = 0.1
    clock: _Clock | None = None
    chunker: AudioChunker | None = None
    audio_origin: float | None = None  # stream time of the first audio frame
    audio_arrival: float | None = None  # when it arrived, seconds on the timeline
    audio_base: float | None = None  # where the first audio sample goes on the timeline
    done: threading.Event = field(default_factory=threading.Event)

    @property
    def streamed_s(self) -> float:
        if self.first_frame_at is None or self.last_frame_at is None:
            return 0.0
        return self.last_frame_at - self.first_frame_at

    def finish(self, reason: str) -> None:
        if not self.reason:
            self.reason = reason
        self.done.set()

    def audio_start(self, t_start: float) -> float:
        """The first audio sample's place: through the video clock when both share a time base, else its arrival."""
        clock, origin = self.clock, self.audio_origin
        if clock is not None and origin is not None:
            at = clock.at(origin)
            if at is not None:
                return max(0.0, at)
        if self.audio_arrival is not None:
            return self.audio_arrival
        return time.monotonic() - t_start


class _Clock:
    """One connection's stream times as seconds on the source's timeline, starting at ``anchor``.

    Frames without a time (RTSP's first) continue from the previous one by one frame step; the first real
    time fixes the mapping; backward jumps are spliced on (:class:`Timeline`).
    """

    def __init__(self, anchor: float, step: float) -> None:
        self.anchor = anchor
        self.step = step
        self._timeline: Timeline | None = None
        self._local: float | None = None

    def place(self, raw: float | None) -> float:
        if self._timeline is None and raw is not None:
            self._timeline = Timeline(raw - (0.0 if self._local is None else self._local + self.step), self.step)
        if self._timeline is not None:
            local = self._timeline.place(raw)
        else:
            local = 0.0 if self._local is None else self._local + self.step
        self._local = local
        return self.anchor + local

    def at(self, raw: float, tolerance: float = 10.0) -> float | None:
        """Where stream time ``raw`` falls, if the video's times are known and ``raw`` is near them."""
        if self._timeline is None or self._local is None:
            return None
        local = raw - self._timeline.t0
        if abs(local - self._local) > tolerance:
            return None  # another time base (an RTSP track before its first RTCP report)
        return self.anchor + local


def open_source(
    url: str,
    sample_fps: float,
    sources: SourcesConfig,
    *,
    audio: bool = True,
    audio_rate: int = 16000,
    audio_chunk_seconds: float = 1.0,
    queue_frames: int = 8,
    username: str | None = None,
    password: str | None = None,
) -> Source:
    """The :class:`Source` for ``url`` by its kind: a :class:`LiveSource` or a :class:`FileSource`.

    A folder is not a source (watch it with :class:`edge.sources.folder.FolderWatcher` and open each file);
    an unknown scheme is a ValueError naming the URL. Not started: call ``start()``.
    """
    kind = source_kind(url)
    if kind == "folder":
        raise ValueError(f"{url}: a folder is watched (FolderWatcher), not opened as one source")
    if kind == "file":
        return FileSource(
            url, sample_fps, audio=audio, audio_rate=audio_rate, audio_chunk_seconds=audio_chunk_seconds, queue_frames=queue_frames
        )
    return LiveSource(
        url, kind, sample_fps, sources, audio=audio, audio_rate=audio_rate, audio_chunk_seconds=audio_chunk_seconds,
        queue_frames=queue_frames, username=username, password=password,
    )  # fmt: skip
