"""LiveSource against an HTTP-FLV server (ffmpeg -listen 1): a server that dies and returns, a frozen one."""

from __future__ import annotations

import time

import pytest
from stream_servers import HttpFlvServer, SourceLog, make_clip, needs_ffmpeg

from edge.config.models import SourcesConfig
from edge.sources.live import LiveSource

pytestmark = needs_ffmpeg

FAST = SourcesConfig(open_timeout_s=2, read_timeout_s=1, stall_s=3, reconnect_min_s=0.2, reconnect_max_s=1.0)


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return make_clip(tmp_path_factory.mktemp("flv-clip"))


def test_server_that_dies_and_returns(tmp_path, clip) -> None:
    with HttpFlvServer(tmp_path, clip) as server, LiveSource(server.url, "http-flv", 5, FAST) as source:
        source.start()
        log = SourceLog(source)
        log.read_until(lambda log: len(log.frames) >= 6 and len(log.chunks) >= 1, 10, "6 frames and an audio chunk")
        assert log.states()[:2] == ["connecting", "streaming"]
        assert "h264 320x240" in log.events[1][1]

        server.stop()
        took = log.read_until(lambda log: log.saw("reconnecting"), 5, "reconnecting after the server died")
        assert took < 2.5
        assert "end of stream" in log.events[2][1]  # a killed HTTP-FLV server reads as EOF (field-facts §2b)
        log.read_until(lambda log: log.count("reconnecting") >= 3, 5, "retries while the server is down")
        frames_before, pts_before = len(log.frames), log.frames[-1][1]

        server.start()
        log.read_until(lambda log: log.count("streaming") >= 2, 8, "streaming again")
        log.read_until(lambda log: len(log.frames) >= frames_before + 5, 5, "frames after the restart")
        log.assert_timeline()
        assert log.frames[frames_before][1] > pts_before


def test_frozen_server_times_out_and_recovers(tmp_path, clip) -> None:
    with HttpFlvServer(tmp_path, clip) as server, LiveSource(server.url, "http-flv", 5, FAST) as source:
        source.start()
        log = SourceLog(source)
        log.read_until(lambda log: len(log.frames) >= 5, 10, "5 frames")
        server.freeze()
        frozen = time.monotonic()
        log.read_until(lambda log: log.saw("reconnecting", 2) or log.saw("stalled", 2), FAST.stall_s + 3, "the freeze noticed")
        assert time.monotonic() - frozen < FAST.stall_s + 1
        server.thaw()  # the frozen listener still holds its one client: it ends, and a fresh listener serves the retry
        log.read_until(lambda log: log.count("streaming") >= 2, 10, "streaming after thaw")
