"""`liveguard serve` end to end: real stream servers, a real mosquitto, the daemon's own threads.

Each test serves live streams in 3 s windows (2 fps, real OCR, no detector, no ASR) and counts what a
collector with a persistent session receives.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time
import urllib.request

import pytest

from edge.transport import Outbox
from tests.helpers.broker import Mosquitto, Subscriber, needs_mosquitto
from tests.helpers.daemon import ThreadedDaemon, documents, serve_config, wait_until, write_config
from tests.helpers.fake_systemd import FakeSystemd
from tests.helpers.stream_servers import RtmpServer, SilentServer, make_clip, needs_nginx_rtmp, needs_rtsp_server

pytestmark = [needs_mosquitto, needs_rtsp_server]


def _window_order(evidence: list[dict]) -> list[float]:
    return [doc["window"]["start"] for doc in evidence]


def test_a_20_s_broker_outage_loses_no_window_and_sends_none_twice(tmp_path, broker, rtsp):
    collector = Subscriber(broker.port, "liveguard/#", client_id="collector-outage")
    config = write_config(tmp_path / "serve.yaml", serve_config(tmp_path, [{"id": "cam1", "url": rtsp.url}], broker.port))
    with ThreadedDaemon(config) as served:
        assert wait_until(lambda: len(collector.of("/cam1/result")) >= 2, 60), "no window arrived before the outage"
        broker.stop()
        stopped = time.monotonic()
        before = served.stream("cam1").windows_done
        time.sleep(20)
        assert served.daemon.snapshot().mqtt_connected is False
        made = served.stream("cam1").windows_done - before
        assert made >= 4, f"only {made} windows completed in {time.monotonic() - stopped:.0f} s without a broker"
        assert served.daemon.snapshot().outbox.depth >= 2 * made - 2, "the windows made during the outage wait in the outbox"
        broker.start()
        assert wait_until(lambda: served.daemon.snapshot().outbox.depth == 0, 60), "the outbox did not drain after the broker returned"
        served.stop()
    with Outbox(tmp_path / "outbox.sqlite") as outbox:
        stats = outbox.stats()
    assert stats.depth == 0 and stats.parked == 0, "shutdown sends what the last windows committed"
    total = stats.sent // 2  # an evidence and a result per window
    assert wait_until(lambda: len(collector.of("/cam1/result")) >= total, 10)
    evidence = documents(collector.of("/cam1/evidence"), "evidence")
    results = documents(collector.of("/cam1/result"), "result")
    collector.close()
    ids = [doc["id"] for doc in evidence]
    assert len(ids) == len(set(ids)) == total, "each window's evidence arrives exactly once"
    assert [r["evidence_id"] for r in results] == ids, "every evidence has its result, in the same order"
    assert _window_order(evidence) == sorted(_window_order(evidence)), "windows arrived out of order"


@needs_nginx_rtmp
def test_rtsp_and_rtmp_sources_that_vanish_for_15_s_are_reconnected_while_the_other_goes_on(tmp_path, broker, rtsp):
    clip = make_clip(tmp_path, seconds=4.0, fps=10, audio=False)
    with RtmpServer(tmp_path / "rtmp", clip) as rtmp:
        collector = Subscriber(broker.port, "liveguard/#", client_id="collector-vanish")
        streams = [{"id": "cam-rtsp", "url": rtsp.url}, {"id": "cam-rtmp", "url": rtmp.url}]
        config = write_config(tmp_path / "serve.yaml", serve_config(tmp_path, streams, broker.port))
        with ThreadedDaemon(config) as served:
            for stream in ("cam-rtsp", "cam-rtmp"):
                assert wait_until(lambda s=stream: served.stream(s).windows_done >= 1, 60), f"{stream} made no window"
            for gone, other, server in (("cam-rtsp", "cam-rtmp", rtsp), ("cam-rtmp", "cam-rtsp", rtmp)):
                server.stop()
                before = served.stream(other).windows_done
                assert wait_until(lambda g=gone: served.stream(g).state in ("reconnecting", "stalled"), 15), served.stream(gone)
                time.sleep(15)
                assert served.stream(other).windows_done >= before + 3, f"{other} stopped while {gone} was away"
                server.start()
                done = served.stream(gone).windows_done
                # a window cut short by the outage may still be finishing: count only a window made after the return
                back = lambda g=gone, d=done: (s := served.stream(g)).state == "streaming" and s.windows_done > d
                assert wait_until(back, 40), f"{gone} did not come back: {served.stream(gone)}"
                snap = served.stream(gone)
                assert snap.state == "streaming" and snap.reconnects >= 1
                assert snap.transitions.get("reconnecting", 0) + snap.transitions.get("stalled", 0) >= 1
            assert wait_until(lambda: all(_away_then_back(collector, s) for s in ("cam-rtsp", "cam-rtmp")), 10), \
                "the stats topic never showed both sources away and then back"
            health = served.daemon._health.url
            metrics = urllib.request.urlopen(f"{health}/metrics", timeout=5).read().decode()
        stats = [json.loads(m.payload) for m in collector.messages if m.topic.endswith("/stats")]
        collector.close()
    assert stats, "no stats document was published"
    for stream in ("cam-rtsp", "cam-rtmp"):
        assert stats[-1]["streams"][stream]["reconnects"] >= 1
    assert 'stream="cam-rtsp"' in metrics and 'stream="cam-rtmp"' in metrics


def _away_then_back(collector: Subscriber, stream: str) -> bool:
    """The stats topic showed ``stream`` reconnecting or stalled, and streaming in a later document."""
    docs = [json.loads(m.payload) for m in list(collector.messages) if m.topic.endswith("/stats")]
    states = [doc["streams"][stream]["state"] for doc in docs if stream in doc["streams"]]
    away = next((i for i, state in enumerate(states) if state in ("reconnecting", "stalled")), None)
    return away is not None and "streaming" in states[away:]


def test_a_source_that_accepts_and_sends_nothing_blocks_neither_the_others_nor_shutdown(tmp_path, broker, rtsp):
    with SilentServer("rtsp") as silent:
        streams = [{"id": "hung", "url": silent.url}, {"id": "cam1", "url": rtsp.url}]
        config = write_config(tmp_path / "serve.yaml", serve_config(tmp_path, streams, broker.port))
        served = ThreadedDaemon(config).__enter__()
        try:
            assert wait_until(lambda: served.stream("cam1").windows_done >= 3, 60), "the live stream beside the hung one made no windows"
            assert served.stream("hung").windows_done == 0
            assert served.stream("hung").state in ("connecting", "reconnecting", "stalled")
            assert silent.connections >= 1
        finally:
            took = served.stop()
    assert took < 15 + 5, f"shutdown took {took:.1f} s with a hung source"


def test_a_message_the_broker_refuses_is_parked_and_counted_while_the_daemon_serves(tmp_path, rtsp):
    acl = "user collector\ntopic read liveguard/#\n" \
          "pattern write liveguard/+/%u/+/evidence\npattern readwrite liveguard/+/%u/status\npattern write liveguard/+/%u/stats\n"
    broker = Mosquitto(tmp_path / "acl-broker", users={"box-1": "secret-box", "collector": "secret-c"}, acl=acl).start()
    try:
        (tmp_path / "mqtt-password").write_text("secret-box\n")
        (tmp_path / "mqtt-password").chmod(0o600)
        collector = Subscriber(broker.port, "liveguard/#", client_id="collector-acl", username="collector", password="secret-c")
        config = serve_config(tmp_path, [{"id": "cam1", "url": rtsp.url}], broker.port)
        config["transport"]["mqtt"].update({"username": "box-1", "password_file": str(tmp_path / "mqtt-password")})
        with ThreadedDaemon(write_config(tmp_path / "serve.yaml", config)) as served:
            assert wait_until(lambda: served.daemon.snapshot().outbox.parked >= 3, 60), "refused results were not parked"
            windows = served.stream("cam1").windows_done
            assert wait_until(lambda: served.stream("cam1").windows_done >= windows + 2, 30), "the daemon stopped serving"
            assert wait_until(lambda: len(collector.of("/cam1/evidence")) >= windows, 10)
        with Outbox(tmp_path / "outbox.sqlite") as outbox:
            parked = outbox.parked()
        assert parked and all("0x87" in reason for _, reason in parked)
        assert all(message.topic.endswith("/cam1/result") for message, _ in parked)
        assert collector.of("/cam1/result") == []
        collector.close()
    finally:
        broker.stop()


def test_the_watchdog_is_fed_only_while_the_workers_make_progress(tmp_path, monkeypatch, rtsp):
    systemd = FakeSystemd(str(tmp_path / "notify.sock"))
    monkeypatch.setenv("NOTIFY_SOCKET", systemd.address)
    monkeypatch.setenv("WATCHDOG_USEC", "2000000")  # WatchdogSec=2: a ping every second while all is well
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    config = write_config(tmp_path / "serve.yaml", serve_config(tmp_path, [{"id": "cam1", "url": rtsp.url}]))
    with ThreadedDaemon(config) as served:
        assert ("READY=1", os.getpid()) in systemd.collect(1.0)
        assert wait_until(lambda: served.stream("cam1").frames_read > 0, 30)
        assert sum(field == "WATCHDOG=1" for field, _ in systemd.collect(3.0)) >= 2
        recognizer = served.daemon._parts.recognizer
        release = threading.Event()
        score = recognizer.score
        recognizer.score = lambda frames, timer: (release.wait(60), score(frames, timer))[1]  # a worker stuck in a model call
        systemd.collect(3.0)  # the last pings before the heartbeat goes stale
        assert [f for f, _ in systemd.collect(3.0) if f == "WATCHDOG=1"] == [], "the watchdog was fed while a worker was stuck"
        release.set()
        recognizer.score = score
        assert sum(field == "WATCHDOG=1" for field, _ in systemd.collect(3.0)) >= 1, "the watchdog did not resume"
        served.stop()
    assert "STOPPING=1" in [field for field, _ in systemd.collect(1.0)]
    systemd.close()


@pytest.mark.skipif(shutil.which("promtool") is None, reason="needs promtool (tools/install.sh --test installs prometheus)")
def test_promtool_accepts_the_running_daemons_metrics_page(tmp_path, rtsp):
    config = write_config(tmp_path / "serve.yaml", serve_config(tmp_path, [{"id": "cam1", "url": rtsp.url}]))
    with ThreadedDaemon(config) as served:
        assert wait_until(lambda: served.stream("cam1").windows_done >= 1, 60)
        page = urllib.request.urlopen(f"{served.daemon._health.url}/metrics", timeout=5).read()
    checked = subprocess.run(["promtool", "check", "metrics"], input=page, capture_output=True, timeout=30)
    assert checked.returncode == 0, checked.stdout.decode() + checked.stderr.decode()
    assert b'liveguard_stream_windows_total{kind="rtsp",outcome="ok",stream="cam1"}' in page
    assert b"liveguard_stream_stage_seconds_total" in page
