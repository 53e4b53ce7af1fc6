"""Media sources: a video file as sampled frames and audio chunks (live sources come later)."""

from edge.sources.file import VideoFile
from edge.sources.probe import MediaInfo

__all__ = ["MediaInfo", "VideoFile"]
