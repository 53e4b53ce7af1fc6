"""Every container/codec pair the appliance must read, end to end through VideoFile."""

from __future__ import annotations

import numpy as np
import pytest

from edge.sources import VideoFile
from edge.types import AudioChunk, Frame

# (container extension, video codec, audio codec): what livestream recordings arrive as.
FORMATS = [
    ("mp4", "h264", "aac"),
    ("mp4", "hevc", "aac"),
    ("mp4", "vp9", "opus"),
    ("mkv", "h264", "mp3"),
    ("mkv", "hevc", "opus"),
    ("mkv", "vp9", "opus"),
    ("flv", "h264", "aac"),
    ("flv", "h264", "mp3"),
    ("ts", "h264", "aac"),
    ("ts", "h264", "mp3"),
    ("webm", "vp9", "opus"),
]


@pytest.mark.parametrize(("ext", "video_codec", "audio_codec"), FORMATS, ids=["-".join(f) for f in FORMATS])
def test_format_decodes_sampled_frames_and_audio(clips, ext: str, video_codec: str, audio_codec: str) -> None:
    path = clips.counter(ext=ext, video=video_codec, audio=audio_codec)
    with VideoFile(path, sample_fps=2, audio_chunk_seconds=2.0) as video:
        items = list(video)
    info = video.info
    assert (info.video_codec, info.audio_codec) == (video_codec, audio_codec)
    assert (info.width, info.height, info.fps) == (320, 240, 10.0)
    assert info.duration == pytest.approx(4.0, abs=0.1)
    assert video.decode_errors == 0

    frames = [i for i in items if isinstance(i, Frame)]
    assert len(frames) == info.expected_samples(2) == 8
    assert [f.pts for f in frames] == pytest.approx([k / 2 for k in range(8)], abs=1e-3)
    for frame in frames:
        assert frame.image.shape == (240, 320, 3) and frame.image.dtype == np.uint8
        assert clips.counter_at(frame.image) == pytest.approx(frame.pts * 10, abs=0.5)
        assert frame.image[130:].std() > 30  # the moving testsrc2 half really was decoded

    chunks = [i for i in items if isinstance(i, AudioChunk)]
    assert chunks[0].duration == 2.0
    assert sum(c.duration for c in chunks) == pytest.approx(4.0, abs=0.1)
