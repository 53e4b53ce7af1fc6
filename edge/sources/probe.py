"""Opening a media file and describing it (:class:`MediaInfo`), with every failure a SourceError."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import av.container

from edge.errors import SourceError
from edge.sources.sampling import expected_sample_count

# Video streams that hold a picture, not a clip: cover art (MP3, M4A), embedded thumbnails.
_STILL = (
    av.stream.Disposition.attached_pic
    | av.stream.Disposition.timed_thumbnails
    | av.stream.Disposition.still_image
)


@dataclass(frozen=True)
class MediaInfo:
    """What a clip holds, as the container declares it (before decoding)."""

    path: str
    duration: float | None  # seconds of video from its first frame; None when undeclared
    fps: float | None  # native (average) frame rate
    width: int
    height: int
    video_codec: str  # e.g. "h264", "hevc", "vp9"
    audio_codec: str | None  # e.g. "aac", "opus", "mp3"; None without a decodable audio stream

    @property
    def has_audio(self) -> bool:
        return self.audio_codec is not None

    def expected_samples(self, sample_fps: float) -> int | None:
        """How many frames sampling at ``sample_fps`` will yield, from the declared duration."""
        if self.duration is None:
            return None
        return expected_sample_count(self.duration, sample_fps, self.fps)


def describe_av_error(exc: BaseException) -> str:
    """A short, one-line reason for an av/ffmpeg exception (without errno noise)."""
    reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return " ".join(str(reason).split())


def check_path(path: Path) -> None:
    """Reject what is not a non-empty regular file, with a message a person can act on."""
    try:
        if not path.exists():
            raise SourceError(str(path), "file not found")
        if path.is_dir():
            raise SourceError(str(path), "is a directory, not a video file")
        if not path.is_file():
            raise SourceError(str(path), "is not a regular file")
        if path.stat().st_size == 0:
            raise SourceError(str(path), "file is empty (0 bytes)")
    except (OSError, ValueError) as exc:  # an unreadable parent folder, a NUL in the name
        raise SourceError(str(path), f"cannot read: {describe_av_error(exc)}") from exc


def open_container(path: Path) -> av.container.InputContainer:
    """Open ``path`` for demuxing; a file that no demuxer accepts is a SourceError."""
    check_path(path)
    try:
        return av.open(str(path), mode="r")
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise SourceError(str(path), f"cannot open as a media file: {describe_av_error(exc)}") from exc


def probe(path: Path, container: av.container.InputContainer) -> MediaInfo:
    """Describe the first video and audio streams; no video stream is a SourceError."""
    if not container.streams:
        raise SourceError(str(path), "no streams found; is the header corrupt?")
    video = first_video_stream(container)
    if video is None:
        kinds = ", ".join(_stream_label(s) for s in container.streams)
        raise SourceError(str(path), f"no video stream (streams: {kinds})")
    codec = _codec_name(video)
    if codec is None:
        raise SourceError(str(path), "no decoder for the video stream")
    width, height = video.codec_context.width, video.codec_context.height
    if width <= 0 or height <= 0:
        raise SourceError(
            str(path), f"video stream has no picture size ({width}x{height}); is the header corrupt?"
        )
    audio = first_audio_stream(container)
    return MediaInfo(
        path=str(path),
        duration=_video_duration(container, video),
        fps=_native_fps(video),
        width=width,
        height=height,
        video_codec=codec,
        audio_codec=_codec_name(audio) if audio is not None else None,
    )


def first_video_stream(container: av.container.InputContainer) -> av.video.stream.VideoStream | None:
    """The first video stream that is a moving picture (not cover art or a thumbnail)."""
    for stream in container.streams.video:
        if not stream.disposition & _STILL:
            return stream
    return None


def first_audio_stream(container: av.container.InputContainer) -> av.audio.stream.AudioStream | None:
    """The first audio stream that has a decoder, or None."""
    for stream in container.streams.audio:
        if _codec_name(stream) is not None:
            return stream
    return None


def stream_start(stream: av.stream.Stream) -> float | None:
    """The stream's declared start time in seconds."""
    if stream.start_time is None or stream.time_base is None:
        return None
    return float(stream.start_time * stream.time_base)


def _stream_label(stream: av.stream.Stream) -> str:
    label = f"{stream.type} {_codec_name(stream) or '?'}"
    return f"{label} still image" if stream.type == "video" and stream.disposition & _STILL else label


def _codec_name(stream: av.stream.Stream) -> str | None:
    try:
        return stream.codec_context.codec.canonical_name
    except (AttributeError, av.FFmpegError, ValueError):
        return None


def _native_fps(video: av.video.stream.VideoStream) -> float | None:
    for rate in (video.average_rate, video.guessed_rate):
        if rate and float(rate) > 0:
            return float(rate)
    return None


def _video_duration(
    container: av.container.InputContainer, video: av.video.stream.VideoStream
) -> float | None:
    """Video duration in seconds: the stream's own, else the container's from the video start."""
    if video.duration and video.time_base is not None:
        return float(video.duration * video.time_base)
    if container.duration is None or container.duration <= 0:
        return None
    total = container.duration / av.time_base
    v_start = stream_start(video)
    c_start = container.start_time / av.time_base if container.start_time is not None else None
    if v_start is not None and c_start is not None:
        total -= max(0.0, v_start - c_start)
    return total if total > 0 else None
