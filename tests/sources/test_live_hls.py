"""LiveSource against ffmpeg's HLS muxer behind http.server: a segmenter that dies (the playlist stops
growing), a whole server that dies and returns."""

from __future__ import annotations

import time

import pytest
from stream_servers import HlsServer, SourceLog, make_clip, needs_ffmpeg

from edge.config.models import SourcesConfig
from edge.sources.live import LiveSource

pytestmark = needs_ffmpeg

FAST = SourcesConfig(open_timeout_s=2, read_timeout_s=1, stall_s=4, reconnect_min_s=0.2, reconnect_max_s=1.0)


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return make_clip(tmp_path_factory.mktemp("hls-clip"))


@pytest.fixture
def server(tmp_path, clip):
    with HlsServer(tmp_path, clip, segment_s=1) as server:
        yield server


def test_streams_without_false_disconnects(server: HlsServer) -> None:
    """Between 1 s segments the demuxer waits inside one read; that must not read as a timeout or an EOF."""
    with LiveSource(server.url, "hls", 5, FAST) as source:
        source.start()
        log = SourceLog(source)
        log.read_for(5)
        assert log.states() == ["connecting", "streaming"], log.events
        assert len(log.frames) >= 15 and len(log.chunks) >= 3
        pts = [p for _, p, _ in log.frames]
        assert all(b > a for a, b in zip(pts, pts[1:]))


def test_segmenter_dies_then_server_dies_and_returns(server: HlsServer) -> None:
    with LiveSource(server.url, "hls", 5, FAST) as source:
        source.start()
        log = SourceLog(source)
        log.read_until(lambda log: len(log.frames) >= 5, 10, "5 frames")
        server.stop_segmenter()
        gone = time.monotonic()
        log.read_until(lambda log: log.saw("reconnecting") or log.saw("stalled"), FAST.stall_s + 3, "the dead segmenter noticed")
        assert time.monotonic() - gone < FAST.stall_s + 1
        assert "end of stream" in log.events[2][1]  # m3u8_hold_counters ended it before the watchdog
        server.stop()
        log.read_until(lambda log: log.count("reconnecting") >= 3, 6, "retries while the server is down")
        assert "ConnectionRefusedError" in log.events[-1][1]
        frames_before, pts_before = len(log.frames), log.frames[-1][1]

        server.start()
        log.read_until(lambda log: log.count("streaming") >= 2, 8, "streaming again")
        log.read_until(lambda log: len(log.frames) >= frames_before + 5, 6, "frames after the restart")
        log.assert_timeline()
        assert log.frames[frames_before][1] > pts_before
