"""FileSource: a video file behind the same start/get/close interface as a live stream; open_source picks
the source by the URL's kind."""

from __future__ import annotations

import time

import numpy as np
import pytest

from edge.config.models import SourcesConfig
from edge.sources.live import FileSource, LiveSource, Source, SourceEvent, open_source
from edge.sources.stream import Handover
from edge.types import AudioChunk, Frame


def read_all(source, timeout: float = 20.0) -> list:
    items, end = [], time.monotonic() + timeout
    while time.monotonic() < end:
        item = source.get(0.2)
        if item is None:
            continue
        items.append(item)
        if isinstance(item, SourceEvent) and item.state == "ended":
            return items
    raise AssertionError(f"no 'ended' within {timeout} s: {len(items)} items")


def test_a_file_streams_then_ends(clips) -> None:
    path = clips.counter(seconds=3.0, fps=10)
    with FileSource(path, 5, queue_frames=2) as source:
        source.start()
        items = []
        while not (items and isinstance(items[-1], SourceEvent) and items[-1].state == "ended"):
            item = source.get(1.0)
            assert item is not None
            items.append(item)
            time.sleep(0.01)  # a slow consumer: a file waits for it instead of dropping frames
            assert source.queued_frames <= 2
    events = [item for item in items if isinstance(item, SourceEvent)]
    frames = [item for item in items if isinstance(item, Frame)]
    chunks = [item for item in items if isinstance(item, AudioChunk)]
    assert [e.state for e in events] == ["streaming", "ended"]
    assert "h264 320x240" in events[0].reason and events[1].reason == f"{path}: end of file"
    assert [f.index for f in frames] == list(range(15)) and source.frames_dropped == 0 and source.frames_read == 15
    assert [f.pts for f in frames] == pytest.approx([i / 5 for i in range(15)])
    assert sum(c.duration for c in chunks) == pytest.approx(3.0, abs=0.05) and chunks[0].duration == pytest.approx(1.0)
    assert source.state == "ended" and source.kind == "file" and source.reconnects == 0


def test_without_audio_no_chunks(clips) -> None:
    with FileSource(clips.counter(seconds=2.0), 2, audio=False) as source:
        source.start()
        items = read_all(source)
    assert not any(isinstance(item, AudioChunk) for item in items)
    assert sum(isinstance(item, Frame) for item in items) == 4


@pytest.mark.parametrize("damage", ["garbage", "missing"])
def test_an_unreadable_file_ends_with_the_error_text(tmp_path, damage: str) -> None:
    path = tmp_path / "broken.mp4"
    if damage == "garbage":
        path.write_bytes(b"\x00\x01not a video" * 500)
    with FileSource(path, 2) as source:
        source.start()
        items = read_all(source, 5)
    assert len(items) == 1 and items[0].state == "ended"
    assert items[0].reason.startswith(f"{path}: ") and "\n" not in items[0].reason
    assert ("not found" if damage == "missing" else "cannot open") in items[0].reason


def test_close_mid_file_is_quick(clips) -> None:
    source = FileSource(clips.counter(seconds=20.0, fps=25, audio=None, video="h264"), 25, queue_frames=1)
    source.start()
    assert isinstance(source.get(5), SourceEvent)
    assert isinstance(source.get(5), Frame)
    before = time.monotonic()
    source.close()  # the reader is waiting for room in the queue
    assert time.monotonic() - before < 1.0
    assert source.get(0.1).state == "ended" and source.get(0.1) is None
    assert source._thread is not None and not source._thread.is_alive()


def test_open_source_picks_by_kind(tmp_path, clips) -> None:
    config = SourcesConfig()
    path = clips.counter(seconds=1.0)
    file_source = open_source(str(path), 2, config)
    also_file = open_source(path.as_uri(), 2, config)
    live = open_source("rtsp://cam:secret@127.0.0.1:1/live", 2, config)
    assert isinstance(file_source, FileSource) and isinstance(also_file, FileSource) and isinstance(live, LiveSource)
    assert also_file.url == str(path)
    assert live.kind == "rtsp" and live.url == "rtsp://cam:***@127.0.0.1:1/live"
    assert open_source("http://h/a/b.m3u8?token=1", 2, config).kind == "hls"
    credentials = open_source("rtmp://127.0.0.1/live/x", 2, config, username="u", password="p@ss")
    assert credentials.url == "rtmp://127.0.0.1/live/x" and "secret" not in repr(live)
    for source in (file_source, also_file, live):
        assert isinstance(source, Source)
    with pytest.raises(ValueError, match="folder"):
        open_source(str(tmp_path), 2, config)
    with pytest.raises(ValueError, match="ftp://h/x"):
        open_source("ftp://h/x", 2, config)


def test_handover_drops_oldest_per_kind_and_shuts_out_old_generations() -> None:
    handover = Handover(max_frames=2, max_chunks=1)
    image = np.zeros((2, 2, 3), np.uint8)
    generation = handover.new_generation()
    for i in range(4):
        assert handover.put(Frame(i, i, image), generation)
    for i in range(2):
        assert handover.put(AudioChunk(float(i), np.zeros(4, np.float32)), generation)
    assert handover.frames == 2 and handover.frames_dropped == 2 and handover.chunks_dropped == 1
    handover.new_generation()
    assert not handover.put(Frame(9, 9, image), generation)  # an abandoned writer
    got = [handover.get(0) for _ in range(4)]
    assert [type(item).__name__ for item in got] == ["Frame", "Frame", "AudioChunk", "NoneType"]
    assert [item.index for item in got[:2]] == [2, 3]
    before = time.monotonic()
    assert handover.get(0.2) is None and 0.15 < time.monotonic() - before < 0.4
