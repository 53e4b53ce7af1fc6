"""A video file as a stream of sampled frames and audio chunks, in one demux pass (PyAV/FFmpeg).

Decoding every frame is unavoidable for inter-coded video; converting it to pixels is the
expensive part, so only sampled frames become arrays. Memory is O(1) in clip length: one frame
and at most one audio chunk are held at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType

import av
import av.container
import cv2
import numpy as np

from edge.errors import SourceError
from edge.sources.audio import AudioChunker
from edge.sources.probe import (
    MediaInfo,
    describe_av_error,
    first_audio_stream,
    first_video_stream,
    open_container,
    probe,
    stream_start,
)
from edge.sources.sampling import FrameSampler, Timeline
from edge.types import AudioChunk, Frame

__all__ = ["MediaInfo", "VideoFile"]

# Consecutive unreadable stretches after which the rest of the file is given up as lost.
_MAX_READ_FAILURES = 16

# What a damaged packet, a failed conversion or a broken audio layout raises inside PyAV.
_DECODE_ERRORS = (av.FFmpegError, ValueError)


class VideoFile:
    """A video file read as sampled :class:`Frame` s interleaved with :class:`AudioChunk` s.

    Opens and probes eagerly: any problem with the file is a :class:`SourceError` naming it.
    Iterating demuxes the file once; each further iteration reopens it. Damaged packets are
    skipped and counted in ``decode_errors``; a file in which no frame decodes is a SourceError.
    """

    def __init__(
        self,
        path: str | Path,
        sample_fps: float,
        audio_chunk_seconds: float = 30.0,
        audio_rate: int = 16000,
    ) -> None:
        FrameSampler(sample_fps)  # validates the rate before touching the file
        if not audio_chunk_seconds > 0 or audio_rate <= 0:
            raise ValueError(
                f"audio chunk and rate must be positive: {audio_chunk_seconds!r}, {audio_rate!r}"
            )
        self.path = Path(path)
        self.sample_fps = float(sample_fps)
        self.audio_chunk_seconds = float(audio_chunk_seconds)
        self.audio_rate = int(audio_rate)
        self.decode_errors = 0
        self._closed = False
        self._spare: av.container.InputContainer | None = open_container(self.path)
        self._open: set[av.container.InputContainer] = {self._spare}
        try:
            self.info: MediaInfo = probe(self.path, self._spare)
        except BaseException:
            self.close()
            raise

    def __iter__(self) -> Iterator[Frame | AudioChunk]:
        if self._closed:
            raise ValueError(f"{self.path}: VideoFile is closed")
        return self._iterate()

    def close(self) -> None:
        """Release the file (also ends any iteration in progress)."""
        self._closed = True
        self._spare = None
        for container in list(self._open):
            container.close()
        self._open.clear()

    def __enter__(self) -> VideoFile:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"VideoFile({str(self.path)!r}, sample_fps={self.sample_fps})"

    # -- one pass ------------------------------------------------------------------------------

    def _iterate(self) -> Iterator[Frame | AudioChunk]:
        container = self._take_container()
        try:
            try:
                run = _Pass(self, container)
                for item in run.items():
                    yield item
                    if self._closed:
                        return
            except (av.FFmpegError, OSError) as exc:  # anything the per-packet handling did not expect
                raise SourceError(str(self.path), f"decoding failed: {describe_av_error(exc)}") from exc
            if run.decoded_frames == 0:
                raise SourceError(
                    str(self.path), f"no video frame could be decoded ({self.decode_errors} damaged packets)"
                )
        finally:
            self._open.discard(container)
            container.close()

    def _take_container(self) -> av.container.InputContainer:
        if self._spare is not None:
            container, self._spare = self._spare, None
            return container
        container = open_container(self.path)
        self._open.add(container)
        return container


class _Pass:
    """State of one demux pass: the timeline, the sampler and the audio chunker."""

    def __init__(self, source: VideoFile, container: av.container.InputContainer) -> None:
        self.source = source
        self.container = container
        video = first_video_stream(container)
        assert video is not None  # probed when the file was opened
        self.video = video
        self.audio = first_audio_stream(container)
        self.video.codec_context.thread_type = "AUTO"  # frame + slice threads
        self.video.codec_context.thread_count = 0  # one per core
        self.sampler = FrameSampler(source.sample_fps)
        self.timeline: Timeline | None = None
        self.chunker = AudioChunker(source.audio_rate, source.audio_chunk_seconds, self.t0)
        self.decoded_frames = 0
        self.emitted = 0

    @property
    def streams(self) -> list[av.stream.Stream]:
        return [self.video] if self.audio is None else [self.video, self.audio]

    def items(self) -> Iterator[Frame | AudioChunk]:
        """Frames and chunks in stream order, then whatever the decoders still hold."""
        for packet in self._packets():
            yield from self._handle(packet.stream, packet)
        for stream in self.streams:
            yield from self._handle(stream, _flush_packet(stream))
        if self.audio is not None:
            yield from self._audio_items(self.chunker.flush)

    def t0(self) -> float:
        """The first video frame's stream time (fixed early from the container if audio asks first)."""
        if self.timeline is None:
            self._start_timeline(None)
        assert self.timeline is not None
        return self.timeline.t0

    def _packets(self) -> Iterator[av.Packet]:
        """Demuxed packets; unreadable stretches are counted and read past, up to a limit."""
        failures = 0
        while failures < _MAX_READ_FAILURES:
            try:
                for packet in self.container.demux(*self.streams):
                    failures = 0
                    if packet.size == 0:  # demux's own flush packets: flushed once, in items()
                        continue
                    if packet.is_corrupt:
                        self.source.decode_errors += 1
                        continue
                    yield packet
                return
            except (av.FFmpegError, OSError):
                self.source.decode_errors += 1
                failures += 1

    def _handle(self, stream: av.stream.Stream, packet: av.Packet) -> Iterator[Frame | AudioChunk]:
        try:
            frames = stream.codec_context.decode(packet)
        except _DECODE_ERRORS:
            self.source.decode_errors += 1
            return
        for frame in frames:
            if stream is self.video:
                sampled = self._sample(frame)
                if sampled is not None:
                    yield sampled
            else:
                yield from self._audio_items(self.chunker.push, frame)

    def _sample(self, frame: av.VideoFrame) -> Frame | None:
        self.decoded_frames += 1
        if self.timeline is None:
            self._start_timeline(frame.time)
        assert self.timeline is not None
        t = self.timeline.place(frame.time)
        if frame.is_corrupt:  # concealed damage: never a keyframe candidate
            self.source.decode_errors += 1
            return None
        if not self.sampler.offer(t):
            return None
        try:
            image = upright(frame.to_ndarray(format="bgr24"), frame.rotation)
        except _DECODE_ERRORS:
            self.source.decode_errors += 1
            return None
        self.emitted += 1
        return Frame(index=self.emitted - 1, pts=round(t, 6), image=image)

    def _audio_items(self, step: Callable[..., Iterator[AudioChunk]], *args: object) -> Iterator[AudioChunk]:
        """Run a chunker step, counting a broken audio stretch instead of failing the pass."""
        try:
            yield from step(*args)
        except _DECODE_ERRORS:
            self.source.decode_errors += 1

    def _start_timeline(self, first_time: float | None) -> None:
        t0 = first_time if first_time is not None else stream_start(self.video) or 0.0
        fps = self.source.info.fps or self.source.sample_fps
        self.timeline = Timeline(t0, 1.0 / fps)


_ROTATIONS = {90: cv2.ROTATE_90_COUNTERCLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_CLOCKWISE}


def upright(image: np.ndarray, rotation: float) -> np.ndarray:
    """The picture as a player shows it: phones store portrait video as landscape plus a rotation
    (the display matrix; ``rotation`` is counter-clockwise degrees, as the ffmpeg CLI applies it)."""
    code = _ROTATIONS.get(int(round(rotation)) % 360)
    return np.ascontiguousarray(image if code is None else cv2.rotate(image, code))


def _flush_packet(stream: av.stream.Stream) -> av.Packet:
    """An empty packet that drains the stream's decoder, carrying its time base."""
    packet = av.Packet()
    packet.time_base = stream.time_base
    return packet
