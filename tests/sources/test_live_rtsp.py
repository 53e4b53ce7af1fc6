"""LiveSource against a real gst-rtsp-server: frames, audio, a server that dies and returns, a frozen server."""

from __future__ import annotations

import time

import numpy as np
import pytest
from stream_servers import RtspServer, SourceLog, needs_rtsp_server

from edge.config.models import SourcesConfig
from edge.sources.live import LiveSource

pytestmark = needs_rtsp_server

FAST = SourcesConfig(open_timeout_s=2, read_timeout_s=1, stall_s=3, reconnect_min_s=0.2, reconnect_max_s=1.0)



@pytest.fixture
def server(tmp_path):
    with RtspServer(tmp_path) as server:
        yield server


def test_frames_audio_and_a_server_that_dies_and_returns(server: RtspServer) -> None:
    with LiveSource(server.url, "rtsp", 5, FAST) as source:
        source.start()
        log = SourceLog(source)
        log.read_until(lambda log: len(log.frames) >= 8 and len(log.chunks) >= 2, 10, "8 frames and 2 audio chunks")
        assert log.states()[:2] == ["connecting", "streaming"]
        assert "h264 320x240" in log.events[1][1] and "opus" in log.events[1][1]
        assert log.images[-1].shape == (240, 320, 3) and log.images[-1].dtype == np.uint8
        assert log.frames[0][0] == 0 and 0 <= log.frames[0][1] < 3  # seconds since start(), open ~0.7 s
        gaps = np.diff([p for _, p, _ in log.frames])[1:]  # the first frame is off the sampling grid (k / 5 s)
        assert np.allclose(gaps, 0.2, atol=0.06), gaps  # 5 of the server's 10 frames a second
        start, duration, samples = log.chunks[-1]
        assert duration == pytest.approx(1.0) and samples.dtype == np.float32 and samples.ndim == 1
        assert 0.2 < float(np.sqrt(np.mean(samples**2))) < 1.0  # the 440 Hz tone, not silence
        assert all(b[0] == pytest.approx(a[0] + a[1], abs=1e-3) for a, b in zip(log.chunks, log.chunks[1:]))
        assert abs(log.chunks[0][0] - log.frames[0][1]) < 0.5  # audio and video on one timeline

        server.stop()
        killed = time.monotonic()
        took = log.read_until(lambda log: log.saw("reconnecting"), 5, "reconnecting after a kill")
        reason = next(reason for state, reason, _, _ in log.events if state == "reconnecting")
        assert server.url in reason and "end of stream" in reason
        assert took < 2, "a killed RTSP server reads as EOF at once"
        log.read_until(lambda log: log.count("reconnecting") >= 3, 5, "retries while the server is down")
        assert "ConnectionRefusedError" in log.events[-1][1]
        frames_before, pts_before = len(log.frames), log.frames[-1][1]

        server.start()
        log.read_until(lambda log: log.count("streaming") >= 2, 5, "streaming again")
        log.read_until(lambda log: len(log.frames) >= frames_before + 5, 5, "frames after the restart")
        log.assert_timeline()
        assert log.frames[frames_before][1] > pts_before
        assert log.frames[frames_before][1] >= time.monotonic() - killed - 2  # the gap stays on the timeline
        assert source.reconnects >= 3 and source.state == "streaming" and source.frames_dropped == 0
        assert log.chunks[-1][0] > log.chunks[0][0]


def test_a_frozen_server_is_noticed_then_recovers_after_thaw(server: RtspServer) -> None:
    with LiveSource(server.url, "rtsp", 5, FAST) as source:
        source.start()
        log = SourceLog(source)
        log.read_until(lambda log: len(log.frames) >= 5, 10, "5 frames")
        server.freeze()
        frozen = time.monotonic()
        log.read_until(lambda log: log.saw("reconnecting", 2) or log.saw("stalled", 2), FAST.stall_s + 3, "a stall noticed")
        noticed = time.monotonic() - frozen
        assert noticed < FAST.stall_s + 1.5
        age = source.last_frame_age_s
        assert age is not None and age > 0.9
        time.sleep(1)
        server.thaw()
        log.read_until(lambda log: log.count("streaming") >= 2, 10, "streaming after thaw")
        frames = len(log.frames)
        log.read_until(lambda log: len(log.frames) >= frames + 5, 5, "frames after thaw")
        log.assert_timeline()
        assert source.last_frame_age_s < 1


def test_credentials_go_in_percent_encoded_and_never_come_out(tmp_path) -> None:
    password = "p@ss:w/rd%"
    with RtspServer(tmp_path, audio=False, username="ad min", password=password) as server:
        with LiveSource(server.url, "rtsp", 5, FAST, username="ad min", password=password) as source:
            source.start()
            log = SourceLog(source)
            log.read_until(lambda log: len(log.frames) >= 2, 10, "frames behind basic authentication")
            assert source.url == server.url
        with LiveSource(server.url, "rtsp", 5, FAST, username="ad min", password="wrong") as source:
            source.start()
            log = SourceLog(source)
            log.read_until(lambda log: log.count("reconnecting") >= 2, 5, "refusals")
            assert "401 Unauthorized" in log.events[1][1] and "HTTPUnauthorizedError" in log.events[1][1]
            assert all("wrong" not in reason and "p%40ss" not in reason for _, reason, _, _ in log.events)
