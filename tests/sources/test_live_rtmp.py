"""LiveSource against nginx-rtmp with an ffmpeg publisher: the server going away and back, the camera
(publisher) going away and back while nginx stays up."""

from __future__ import annotations

import time

import pytest
from stream_servers import RtmpServer, SourceLog, make_clip, needs_ffmpeg, needs_nginx_rtmp

from edge.config.models import SourcesConfig
from edge.sources.live import LiveSource

pytestmark = [needs_ffmpeg, needs_nginx_rtmp]

FAST = SourcesConfig(open_timeout_s=3, read_timeout_s=1, stall_s=3, reconnect_min_s=0.2, reconnect_max_s=1.0)



@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return make_clip(tmp_path_factory.mktemp("rtmp-clip"))


@pytest.fixture
def server(tmp_path, clip):
    with RtmpServer(tmp_path, clip) as server:
        yield server


def test_server_that_dies_and_returns(server: RtmpServer) -> None:
    with LiveSource(server.url, "rtmp", 5, FAST) as source:
        source.start()
        log = SourceLog(source)
        log.read_until(lambda log: len(log.frames) >= 6 and len(log.chunks) >= 1, 10, "6 frames and an audio chunk")
        assert log.states()[:2] == ["connecting", "streaming"]
        assert "h264 320x240" in log.events[1][1] and "aac" in log.events[1][1]
        assert log.images[-1].shape == (240, 320, 3)

        server.stop()
        took = log.read_until(lambda log: log.saw("reconnecting"), 5, "reconnecting after nginx died")
        assert took < 2.5
        reason = next(reason for state, reason, _, _ in log.events if state == "reconnecting")
        assert server.url in reason and "OSError" in reason  # nginx gone: EIO at once (field-facts §2c)
        frames_before, pts_before = len(log.frames), log.frames[-1][1]
        time.sleep(1.5)

        server.start()
        log.read_until(lambda log: log.count("streaming") >= 2, 8, "streaming again")
        log.read_until(lambda log: len(log.frames) >= frames_before + 5, 5, "frames after the restart")
        log.assert_timeline()
        assert log.frames[frames_before][1] > pts_before + 1.5
        assert source.reconnects >= 2


def test_publisher_that_goes_away_and_returns(server: RtmpServer) -> None:
    """nginx keeps a player's session open when the camera stops publishing: only the read timeout sees it."""
    with LiveSource(server.url, "rtmp", 5, FAST) as source:
        source.start()
        log = SourceLog(source)
        log.read_until(lambda log: len(log.frames) >= 5, 10, "5 frames")
        server.stop_publisher()
        gone = time.monotonic()
        log.read_until(lambda log: log.saw("reconnecting", 2) or log.saw("stalled", 2), FAST.stall_s + 3, "the publisher's absence")
        assert time.monotonic() - gone < FAST.stall_s + 1
        server.start_publisher()
        log.read_until(lambda log: log.count("streaming") >= 2, 10, "streaming again")
        frames = len(log.frames)
        log.read_until(lambda log: len(log.frames) >= frames + 5, 5, "frames after the publisher returned")
        log.assert_timeline()
