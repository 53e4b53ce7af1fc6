"""LiveSource when things go wrong: a server that never answers, no server at all, a consumer that falls
behind, and a reader blocked past the watchdog (it is abandoned and can deliver nothing afterwards)."""

from __future__ import annotations

import logging
import threading
import time

import pytest
from stream_servers import RtspServer, SilentServer, SourceLog, free_port, needs_rtsp_server

from edge.config.models import SourcesConfig
from edge.sources.live import LiveSource

FAST = SourcesConfig(open_timeout_s=1, read_timeout_s=1, stall_s=2, reconnect_min_s=0.2, reconnect_max_s=1.0)


def readers(url: str) -> list[threading.Thread]:
    """This source's threads that are still alive (the supervisor and any reader, abandoned or not)."""
    return [t for t in threading.enumerate() if t.name.endswith(url) or f" {url} #" in t.name]


def wait_no_threads(url: str, timeout: float) -> float:
    start = time.monotonic()
    while readers(url):
        assert time.monotonic() - start < timeout, [t.name for t in readers(url)]
        time.sleep(0.05)
    return time.monotonic() - start


@pytest.mark.parametrize(
    ("scheme", "kind", "path"), [("rtsp", "rtsp", "/live"), ("rtmp", "rtmp", "/live/x"), ("http", "http-flv", "/x.flv")]
)
def test_a_server_that_never_answers(scheme: str, kind: str, path: str) -> None:
    with SilentServer(scheme, path) as server:
        source = LiveSource(server.url, kind, 5, FAST)
        source.start()
        log = SourceLog(source)
        for _ in range(6):  # get() honours its timeout, whatever the reader is stuck in
            before = time.monotonic()
            log.read_once(0.25)
            assert time.monotonic() - before < 0.25 + 0.15
        log.read_until(lambda log: log.count("reconnecting") >= 2, 3 * (FAST.open_timeout_s + 1), "two failed opens")
        reason = log.events[1][1]
        assert server.url in reason and "cannot open" in reason and "Error" in reason
        assert server.connections >= 2 and source.frames_read == 0 and source.state == "reconnecting"

        time.sleep(0.3)  # close while a reader is blocked in av.open on a silent socket
        before = time.monotonic()
        source.close()
        assert time.monotonic() - before < 1.0
        assert source.get(0.1).state == "ended"
        assert source.get(0.1) is None
        wait_no_threads(source.url, FAST.open_timeout_s + 2)  # the abandoned reader gives up by its own timeout
        assert source.get(0) is None and source.frames_read == 0


def test_no_server_retries_with_growing_delays() -> None:
    url = f"rtsp://127.0.0.1:{free_port()}/live"
    config = SourcesConfig(open_timeout_s=1, read_timeout_s=1, stall_s=2, reconnect_min_s=0.2, reconnect_max_s=10)
    with LiveSource(url, "rtsp", 5, config) as source:
        source.start()
        log = SourceLog(source)
        log.read_until(lambda log: log.count("reconnecting") >= 4, 8, "four failed attempts")
        retries = [(retry, at) for state, _, retry, at in log.events if state == "reconnecting"]
        delays = [retry for retry, _ in retries]
        assert all(b > a for a, b in zip(delays, delays[1:])), delays
        assert delays[0] == pytest.approx(0.2, rel=0.25) and delays[3] == pytest.approx(1.6, rel=0.25)
        gaps = [b - a for (_, a), (_, b) in zip(retries, retries[1:])]
        assert all(b > a for a, b in zip(gaps, gaps[1:])), gaps  # the attempts really do spread out
        assert all("ConnectionRefusedError" in reason and url in reason for state, reason, _, _ in log.events[1:])
        assert source.reconnects >= 4 and source.last_frame_age_s is None


def test_a_source_that_stays_away_warns_on_the_first_and_every_tenth_failure(caplog) -> None:
    url = f"rtsp://127.0.0.1:{free_port()}/live"
    config = SourcesConfig(open_timeout_s=1, read_timeout_s=1, stall_s=2, reconnect_min_s=0.05, reconnect_max_s=0.05)
    with caplog.at_level(logging.DEBUG, logger="edge.sources.live"), LiveSource(url, "rtsp", 5, config) as source:
        source.start()
        log = SourceLog(source)
        log.read_until(lambda log: log.count("reconnecting") >= 12, 10, "twelve failed attempts")
    failures = [r for r in caplog.records if "retry in" in r.getMessage()]
    assert len(failures) >= 12 and all(url in r.getMessage() for r in failures)
    warned = [r.getMessage() for r in failures if r.levelno == logging.WARNING]
    assert len(warned) == 1 + (len(failures) // 10) and "in a row" not in warned[0]
    assert "(10 failures in a row)" in warned[1]


@needs_rtsp_server
def test_a_consumer_that_falls_behind_loses_the_oldest_frames(tmp_path) -> None:
    with RtspServer(tmp_path, audio=False) as server, LiveSource(server.url, "rtsp", 10, FAST, queue_frames=3) as source:
        source.start()
        log = SourceLog(source)
        log.read_until(lambda log: len(log.frames) >= 2, 10, "streaming")
        deepest, ages = 0, []
        end = time.monotonic() + 2.5
        while time.monotonic() < end:  # no get() for 2.5 s
            deepest = max(deepest, source.queued_frames)
            ages.append(source.last_frame_age_s)
            time.sleep(0.02)
        assert deepest <= 3
        assert source.frames_dropped >= 15  # ~25 frames came, 3 could wait
        assert max(ages) < 0.6  # the network reader never waited for the consumer
        read = source.frames_read
        kept = [source.get(0.5) for _ in range(3)]
        assert kept[0].index >= read - 3 and [f.index for f in kept] == list(range(kept[0].index, kept[0].index + 3))  # the newest
        log.read_until(lambda log: len(log.frames) >= 8, 5, "frames again")
        assert source.frames_dropped + len(log.frames) + 3 >= source.frames_read - 1


@needs_rtsp_server
def test_the_watchdog_abandons_a_reader_blocked_past_its_timeouts(tmp_path) -> None:
    """FFmpeg's own timeouts set far beyond stall_s: only the watchdog can notice the frozen server."""
    config = SourcesConfig(open_timeout_s=1.5, read_timeout_s=30, stall_s=1.5, reconnect_min_s=0.2, reconnect_max_s=0.5)
    with RtspServer(tmp_path, audio=False) as server, LiveSource(server.url, "rtsp", 5, config) as source:
        source.start()
        log = SourceLog(source)
        log.read_until(lambda log: len(log.frames) >= 5, 10, "5 frames")
        server.freeze()
        frozen = time.monotonic()
        log.read_until(lambda log: log.saw("stalled"), 5, "stalled")
        assert time.monotonic() - frozen < config.stall_s + 1
        stalled = next(event for event in log.events if event[0] == "stalled")
        assert "no frame for" in stalled[1] and "abandoned" in stalled[1] and stalled[2] is not None
        frames_at_stall = source.frames_read
        log.read_for(1.0)
        assert source.frames_read == frames_at_stall
        old_readers = [t for t in readers(source.url) if t.name.endswith("#1")]
        assert old_readers, "the first reader is still blocked in FFmpeg"

        server.thaw()  # the old connection flows again: its reader must not deliver, but end
        log.read_until(lambda log: log.count("streaming") >= 2, 10, "streaming after thaw")
        frames = len(log.frames)
        log.read_until(lambda log: len(log.frames) >= frames + 5, 5, "frames after thaw")
        log.assert_timeline()
        deadline = time.monotonic() + 5
        while old_readers[0].is_alive():
            assert time.monotonic() < deadline, "the abandoned reader did not end once data flowed again"
            time.sleep(0.05)
        assert log.count("streaming") == 2
