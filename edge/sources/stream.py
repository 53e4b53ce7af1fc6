"""What every source hands its consumer: frames, audio chunks and :class:`SourceEvent` s, through one bounded
:class:`Handover`, behind one :class:`Source` interface; and :class:`FileSource`, a video file behind it.

A source reads in its own thread and never blocks the consumer: ``get(timeout)`` returns the next item or
None. Live sources drop the oldest frame when the consumer falls behind (the network must be drained);
a file waits for the consumer instead (nothing is lost, nothing is late).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

from edge.closing import Closing
from edge.errors import SourceError
from edge.sources.file import VideoFile
from edge.sources.sampling import FrameSampler
from edge.sources.urls import local_path
from edge.types import AudioChunk, Frame

__all__ = ["FileSource", "Handover", "Item", "Source", "SourceEvent", "State"]

State = Literal["connecting", "streaming", "reconnecting", "stalled", "ended"]

_EVENTS = 64  # events kept for a consumer that does not read (the oldest go first)
_JOIN_S = 1.0  # the longest close() waits for a reader thread


@dataclass(frozen=True)
class SourceEvent:
    """A change in a source's state. ``reason`` is one line for people and logs (it names the masked URL);
    ``retry_in_s`` is the delay before the next connection attempt when one is planned."""

    state: State
    reason: str
    at: float = field(default_factory=time.time)
    retry_in_s: float | None = None


Item = Frame | AudioChunk | SourceEvent


@runtime_checkable
class Source(Protocol):
    """A source of frames (and audio) read in the background; what the daemon's stream worker consumes."""

    @property
    def kind(self) -> str: ...  # one of edge.sources.urls.KINDS

    @property
    def url(self) -> str: ...  # safe to log: credentials masked

    @property
    def state(self) -> State: ...

    @property
    def frames_read(self) -> int: ...  # sampled frames the source produced (the consumer got them or they were dropped)

    @property
    def frames_dropped(self) -> int: ...  # sampled frames the consumer never got (it was behind)

    @property
    def reconnects(self) -> int: ...

    @property
    def last_frame_age_s(self) -> float | None: ...  # seconds since the last decoded frame; None before the first

    def start(self) -> None: ...

    def get(self, timeout: float) -> Item | None: ...

    def close(self) -> None: ...


class Handover:
    """The bounded queue between a reader thread and the consumer, in arrival order.

    At most ``max_frames`` frames, ``max_chunks`` audio chunks and 64 events wait at a time. A full queue
    drops its oldest item of that type (counted) unless the writer asks to wait. Each writer belongs to a
    *generation*: after :meth:`new_generation` a writer of an older one can no longer put anything, so a
    reader thread that was abandoned while blocked cannot deliver stale frames when it wakes up.
    """

    def __init__(self, max_frames: int, max_chunks: int) -> None:
        if max_frames < 1 or max_chunks < 1:
            raise ValueError(f"queue bounds must be at least 1, got {max_frames!r}, {max_chunks!r}")
        self.max_frames = max_frames
        self.max_chunks = max_chunks
        self.frames_dropped = 0
        self.chunks_dropped = 0
        self.events_dropped = 0
        self._items: deque[Item] = deque()
        self._counts = {Frame: 0, AudioChunk: 0, SourceEvent: 0}
        self._cond = threading.Condition()
        self._generation = 0
        self._closed = False

    @property
    def frames(self) -> int:
        """Frames waiting now (never above ``max_frames``)."""
        return self._counts[Frame]

    @property
    def generation(self) -> int:
        return self._generation

    def new_generation(self) -> int:
        """Start a new writer generation; writers of earlier ones are shut out from now on."""
        with self._cond:
            self._generation += 1
            return self._generation

    def current(self, generation: int) -> bool:
        return generation == self._generation and not self._closed

    def put(self, item: Item, generation: int | None = None, wait: bool = False) -> bool:
        """Queue ``item``; False when its writer's generation is over or the handover is closed.

        ``wait``: block while the queue holds its maximum of that type instead of dropping the oldest.
        """
        kind = type(item)
        bound = {Frame: self.max_frames, AudioChunk: self.max_chunks, SourceEvent: _EVENTS}[kind]
        with self._cond:
            while True:
                if self._closed or (generation is not None and generation != self._generation):
                    return False
                if self._counts[kind] < bound:
                    break
                if not wait:
                    self._drop_oldest(kind)
                    break
                self._cond.wait(0.1)
            self._items.append(item)
            self._counts[kind] += 1
            self._cond.notify_all()
            return True

    def get(self, timeout: float) -> Item | None:
        """The oldest item, waiting at most ``timeout`` s for one; None if none came (or closed and empty)."""
        deadline = time.monotonic() + max(0.0, timeout)
        with self._cond:
            while not self._items:
                left = deadline - time.monotonic()
                if self._closed or left <= 0:
                    return None
                self._cond.wait(left)
            item = self._items.popleft()
            self._counts[type(item)] -= 1
            self._cond.notify_all()
            return item

    def close(self, last: SourceEvent | None = None) -> None:
        """Drop what waits, shut every writer out; ``last`` stays as the only item a consumer still gets."""
        with self._cond:
            self._items.clear()
            self._counts = dict.fromkeys(self._counts, 0)
            if last is not None:
                self._items.append(last)
                self._counts[SourceEvent] = 1
            self._closed = True
            self._cond.notify_all()

    def _drop_oldest(self, kind: type) -> None:
        for i, queued in enumerate(self._items):
            if type(queued) is kind:
                del self._items[i]
                break
        self._counts[kind] -= 1
        if kind is Frame:
            self.frames_dropped += 1
        elif kind is AudioChunk:
            self.chunks_dropped += 1
        else:
            self.events_dropped += 1


class FileSource(Closing):
    """A video file read at full speed in a thread, behind the :class:`Source` interface.

    Emits "streaming" once the file is open, then its frames and (with ``audio``) chunks, then "ended"
    with the reason: the end of the file, or the :class:`SourceError` text of a file that cannot be read.
    The reader waits for the consumer when ``queue_frames`` frames are waiting, so nothing is dropped.
    """

    def __init__(
        self,
        path: str | Path,
        sample_fps: float,
        *,
        audio: bool = True,
        audio_rate: int = 16000,
        audio_chunk_seconds: float = 1.0,
        queue_frames: int = 8,
    ) -> None:
        FrameSampler(sample_fps)  # validates the rate now, not in the thread
        self.path = local_path(str(path))
        self.sample_fps = float(sample_fps)
        self.audio = audio
        self.audio_rate = audio_rate
        self.audio_chunk_seconds = audio_chunk_seconds
        self.decode_errors = 0
        self._handover = Handover(queue_frames, max(2, queue_frames))
        self._state: State = "connecting"
        self._frames_read = 0
        self._last_frame_at: float | None = None
        self._thread: threading.Thread | None = None
        self._closing = threading.Event()

    kind = "file"

    @property
    def url(self) -> str:
        return str(self.path)

    @property
    def state(self) -> State:
        return self._state

    @property
    def frames_read(self) -> int:
        return self._frames_read

    @property
    def frames_dropped(self) -> int:
        return self._handover.frames_dropped

    @property
    def queued_frames(self) -> int:
        return self._handover.frames

    @property
    def reconnects(self) -> int:
        return 0

    @property
    def last_frame_age_s(self) -> float | None:
        return None if self._last_frame_at is None else time.monotonic() - self._last_frame_at

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError(f"{self.url}: already started")
        self._thread = threading.Thread(target=self._read, name=f"file-source {self.path.name}", daemon=True)
        self._thread.start()

    def get(self, timeout: float) -> Item | None:
        return self._handover.get(timeout)

    def close(self) -> None:
        """Stop reading; returns within about a second (the thread ends at its next item)."""
        if self._closing.is_set():
            return
        self._closing.set()
        if self._state != "ended":
            self._state = "ended"
            self._handover.close(SourceEvent("ended", f"{self.url}: closed"))
        else:
            self._handover.close()
        if self._thread is not None:
            self._thread.join(timeout=_JOIN_S)

    def _read(self) -> None:
        reason = f"{self.url}: end of file"
        try:
            with VideoFile(self.path, self.sample_fps, self.audio_chunk_seconds, self.audio_rate) as video:
                info = video.info
                self._emit("streaming", f"{self.url}: {info.video_codec} {info.width}x{info.height}")
                try:
                    for item in video:
                        if isinstance(item, Frame):
                            self._last_frame_at = time.monotonic()
                            self._frames_read += 1
                        elif not self.audio:
                            continue
                        if not self._handover.put(item, wait=True):
                            return  # closed
                finally:
                    self.decode_errors = video.decode_errors
                if video.decode_errors:
                    reason += f" ({video.decode_errors} damaged packets skipped)"
        except SourceError as exc:
            reason = str(exc)
        except Exception as exc:  # a bug must still end the source visibly, never kill it silently
            reason = f"{self.url}: {type(exc).__name__}: {' '.join(str(exc).split())}"
        if not self._closing.is_set():
            self._state = "ended"
            self._handover.put(SourceEvent("ended", reason), wait=True)

    def _emit(self, state: State, reason: str) -> None:
        self._state = state
        self._handover.put(SourceEvent(state, reason), wait=True)
