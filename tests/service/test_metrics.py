"""Prometheus metrics from one snapshot: the values match it, promtool accepts the page served over HTTP."""

from __future__ import annotations

import shutil
import subprocess
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from edge.service.health import HealthServer
from edge.service.metrics import STREAM_STATES, render

PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(PROMTOOL is None, reason="needs promtool (apt-get install -y --no-install-recommends prometheus)")


def samples(page: bytes) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """(sample name, sorted labels) -> value for every sample of an exposition."""
    found = {}
    for family in text_string_to_metric_families(page.decode()):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(page_samples, name: str, **labels) -> float:
    return page_samples[(name, tuple(sorted(labels.items())))]


def promtool_check(page: bytes) -> subprocess.CompletedProcess:
    return subprocess.run([PROMTOOL, "check", "metrics"], input=page, capture_output=True, timeout=30)


def test_every_value_matches_the_snapshot(snapshot):
    snap = snapshot()
    got = samples(render(lambda: snap))
    north = {"stream": "cam-north", "kind": "rtsp"}
    shop = {"stream": "shop-2", "kind": "hls"}
    assert value(got, "liveguard_build_info", version="0.1.0", device="box-1", site="site-a", config_hash="c0ffee12") == 1
    assert value(got, "liveguard_ready") == 1
    assert value(got, "liveguard_uptime_seconds") == 3600
    assert value(got, "liveguard_reloads_total") == 2 and value(got, "liveguard_reload_failures_total") == 1
    assert value(got, "liveguard_last_progress_age_seconds") == pytest.approx(0.4)
    for state in STREAM_STATES:
        assert value(got, "liveguard_stream_state", state=state, **north) == (1 if state == "streaming" else 0)
        assert value(got, "liveguard_stream_state", state=state, **shop) == (1 if state == "reconnecting" else 0)
    assert value(got, "liveguard_stream_transitions_total", state="connecting", **shop) == 5
    assert value(got, "liveguard_stream_transitions_total", state="failed", **shop) == 0
    assert value(got, "liveguard_stream_frames_read_total", **north) == 12_000
    assert value(got, "liveguard_stream_frames_dropped_total", **north) == 17
    assert value(got, "liveguard_stream_windows_total", outcome="ok", **north) == 40
    assert value(got, "liveguard_stream_windows_total", outcome="failed", **north) == 2
    assert value(got, "liveguard_stream_reconnects_total", **shop) == 4
    assert value(got, "liveguard_stream_fps", **north) == pytest.approx(9.87)
    assert value(got, "liveguard_stream_lag_seconds", **north) == pytest.approx(1.234)
    assert value(got, "liveguard_stream_last_frame_age_seconds", **north) == pytest.approx(0.1)
    assert ("liveguard_stream_last_frame_age_seconds", tuple(sorted(shop.items()))) not in got  # no frame yet
    assert value(got, "liveguard_stream_state_changed_timestamp_seconds", **shop) == snap.now - 12
    assert value(got, "liveguard_outbox_messages") == 5 and value(got, "liveguard_outbox_bytes") == 20_480
    assert value(got, "liveguard_outbox_oldest_age_seconds") == 42.5
    assert value(got, "liveguard_outbox_parked_messages") == 2 and value(got, "liveguard_outbox_sent_total") == 1234
    assert value(got, "liveguard_outbox_dropped_total", reason="max_rows") == 3
    assert value(got, "liveguard_outbox_dropped_total", reason="max_age") == 1
    assert value(got, "liveguard_outbox_dropped_total", reason="max_bytes") == 0  # exported before the first drop
    assert value(got, "liveguard_mqtt_connected") == 1 and value(got, "liveguard_https_ok") == 0
    assert value(got, "liveguard_system_cpu_ratio") == pytest.approx(0.375)
    assert value(got, "liveguard_process_resident_memory_bytes") == 512 * 2**20
    assert value(got, "liveguard_system_memory_available_bytes") == 3 * 2**30
    assert value(got, "liveguard_system_disk_free_bytes") == 20 * 2**30
    assert value(got, "liveguard_system_temperature_celsius", sensor="gpu-thermal") == 48.25
    assert value(got, "liveguard_keyframes_files") == 4321 and value(got, "liveguard_keyframes_bytes") == 512 * 2**20 - 7
    assert value(got, "liveguard_keyframes_written_total") == 9000 and value(got, "liveguard_keyframes_rotated_total") == 4679
    assert value(got, "liveguard_keyframes_write_failures_total") == 1 and value(got, "liveguard_keyframes_corrupt_total") == 0
    assert value(got, "liveguard_command_connected") == 1
    assert value(got, "liveguard_command_replies_total", command="keyframe", outcome="keyframe") == 12
    assert value(got, "liveguard_command_replies_total", command="keyframe", outcome="too-large") == 0  # exported from 0
    assert value(got, "liveguard_command_dropped_total", command="keyframe", reason="response-topic") == 2
    assert value(got, "liveguard_command_dropped_total", command="keyframe", reason="busy") == 0
    assert {name for name, _ in got} == {name for name, _ in got if name.startswith("liveguard_")}  # no process_/python_ families


def test_transports_not_enabled_are_absent_not_zero(snapshot):
    got = {name for name, _ in samples(render(lambda: snapshot(mqtt_connected=None, https_ok=None, last_progress_age_s=None,
                                                              keyframes=None, commands=None)))}
    assert not {"liveguard_mqtt_connected", "liveguard_https_ok", "liveguard_last_progress_age_seconds"} & got
    assert not {name for name in got if name.startswith(("liveguard_keyframes_", "liveguard_command_"))}
    assert "liveguard_outbox_messages" in got


def test_each_scrape_takes_one_fresh_snapshot(snapshot):
    calls = []

    def snapshot_fn():
        calls.append(1)
        return snapshot(outbox=snapshot().outbox.__class__(len(calls), 0, None, 0, 0, {}))

    assert value(samples(render(snapshot_fn)), "liveguard_outbox_messages") == 1
    assert value(samples(render(snapshot_fn)), "liveguard_outbox_messages") == 2
    assert len(calls) == 2


@needs_promtool
def test_promtool_accepts_the_page_served_by_the_health_server(snapshot):
    snap = snapshot()
    with HealthServer("127.0.0.1", 0, lambda: snap) as server:
        with urllib.request.urlopen(server.url + "/metrics", timeout=5) as reply:
            page = reply.read()
            content_type = reply.headers["Content-Type"]
    assert content_type.startswith("text/plain") and b'stream="shop-2"' in page and b'sensor="cpu-thermal"' in page
    checked = promtool_check(page)
    assert checked.returncode == 0, checked.stdout.decode() + checked.stderr.decode()


@needs_promtool
def test_promtool_rejects_a_broken_exposition():
    """The check above can fail: a counter without _total and a family without help are flagged."""
    broken = b"# TYPE liveguard_frames counter\nliveguard_frames 3\nliveguard_noheader 1\n"
    checked = promtool_check(broken)
    assert checked.returncode != 0
    assert b"_total" in checked.stdout + checked.stderr


def test_openmetrics_is_served_when_the_scraper_asks_for_it(snapshot):
    snap = snapshot()
    with HealthServer("127.0.0.1", 0, lambda: snap) as server:
        request = urllib.request.Request(server.url + "/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"})
        with urllib.request.urlopen(request, timeout=5) as reply:
            page = reply.read()
            content_type = reply.headers["Content-Type"]
    assert content_type.startswith("application/openmetrics-text") and page.rstrip().endswith(b"# EOF")
