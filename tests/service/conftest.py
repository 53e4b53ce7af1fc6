"""A realistic daemon snapshot for the health, metrics and stats tests: two streams, drops, temperatures."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest

from edge.service.keyframes import KeyframeStats
from edge.service.snapshot import DaemonSnapshot, StreamSnapshot, SystemSnapshot
from edge.transport.outbox import OutboxStats
from edge.transport.wire import CommandStats

NOW = 1_800_000_000.0


def realistic_snapshot(**changes) -> DaemonSnapshot:
    """Two streams (one streaming, one reconnecting), outbox drops and parked rows, two temperatures, a full
    keyframe store that rotates, keyframe requests answered and refused."""
    streams = (
        StreamSnapshot(
            id="cam-north", kind="rtsp", url="rtsp://viewer:***@10.0.0.5:554/live", state="streaming", since=NOW - 300,
            reason="", frames_read=12_000, frames_dropped=17, windows_done=40, windows_failed=2, reconnects=1,
            transitions={"starting": 1, "connecting": 2, "streaming": 2, "reconnecting": 1}, fps=9.87, lag_s=1.234,
            last_frame_age_s=0.1,
        ),
        StreamSnapshot(
            id="shop-2", kind="hls", url="https://cdn.example/live.m3u8", state="reconnecting", since=NOW - 12,
            reason="end of stream from rtsp://admin:hunter2@10.0.0.9/x", frames_read=800, frames_dropped=0, windows_done=3,
            reconnects=4, transitions={"starting": 1, "connecting": 5, "streaming": 4, "reconnecting": 4}, fps=0.0, lag_s=0.0,
            last_frame_age_s=None,
        ),
    )
    snapshot = DaemonSnapshot(
        version="0.1.0", device="box-1", site="site-a", config_hash="c0ffee12", started_at=NOW - 3600, now=NOW, ready=True,
        streams=streams,
        outbox=OutboxStats(depth=5, bytes=20_480, oldest_age_s=42.5, parked=2, sent=1234, dropped={"max_rows": 3, "max_age": 1}),
        mqtt_connected=True, https_ok=False,
        system=SystemSnapshot(cpu_percent=37.5, memory_rss_bytes=512 * 2**20, memory_available_bytes=3 * 2**30,
                              disk_free_bytes=20 * 2**30, temperatures_c={"cpu-thermal": 51.5, "gpu-thermal": 48.25}),
        reloads=2, reload_failures=1, last_progress_age_s=0.4,
        keyframes=KeyframeStats(files=4321, bytes=512 * 2**20 - 7, written=9000, rotated=4679, failed=1, corrupt=0),
        commands=CommandStats(connected=True, replies={"keyframe": 12, "not-found": 3, "bad-request": 1, "too-large": 0},
                              dropped={"response-topic": 2, "retained": 0, "busy": 0, "refused": 0}),
    )
    return dataclasses.replace(snapshot, **changes)


@pytest.fixture
def snapshot() -> Callable[..., DaemonSnapshot]:
    """``snapshot(**changes)``: the realistic snapshot with some fields replaced."""
    return realistic_snapshot


@pytest.fixture
def broker(tmp_path):
    """A real mosquitto on a free loopback port, with persistence (the daemon tests)."""
    from tests.helpers.broker import Mosquitto

    server = Mosquitto(tmp_path / "broker").start()
    yield server
    server.stop()


@pytest.fixture
def rtsp(tmp_path):
    """A live gst-rtsp-server test pattern without audio (the daemon tests)."""
    from tests.helpers.stream_servers import RtspServer

    with RtspServer(tmp_path / "rtsp", audio=False) as server:
        yield server
