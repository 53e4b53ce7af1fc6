"""Media sources: a video file as sampled frames and audio chunks; live streams (RTSP, RTMP, HTTP-FLV, HLS)
and files behind one :class:`Source` interface, chosen by the URL's scheme; a watched folder."""

from edge.sources.file import VideoFile
from edge.sources.folder import FolderWatcher
from edge.sources.live import LiveSource, open_source
from edge.sources.probe import MediaInfo
from edge.sources.stream import FileSource, Source, SourceEvent
from edge.sources.urls import masked, source_kind, with_credentials

__all__ = [
    "FileSource",
    "FolderWatcher",
    "LiveSource",
    "MediaInfo",
    "Source",
    "SourceEvent",
    "VideoFile",
    "masked",
    "open_source",
    "source_kind",
    "with_credentials",
]
