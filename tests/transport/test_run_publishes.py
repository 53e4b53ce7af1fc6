"""``liveguard run`` with transport.mqtt enabled: the window's evidence and result reach a real broker."""

from __future__ import annotations

import json
import subprocess
import sys

from broker import Mosquitto, Subscriber, needs_mosquitto
from workspace import DEMO, REPO

pytestmark = needs_mosquitto


def run(config, *videos):
    return subprocess.run([sys.executable, "-m", "edge.cli", "run", "-c", str(config), *map(str, videos)],
                          capture_output=True, text=True, timeout=300, cwd=REPO)


def test_run_publishes_evidence_then_result_and_keeps_them_while_the_broker_is_away(tmp_path):
    broker = Mosquitto(tmp_path / "broker")
    config = tmp_path / "site.yaml"
    config.write_text(
        f"device: {{id: box-7, site: centre-2}}\nasr: {{backend: none}}\n"
        f"transport:\n  outbox: {{path: outbox.sqlite}}\n  mqtt: {{enabled: true, port: {broker.port}, reconnect_min_s: 1}}\n",
        encoding="utf-8",
    )
    away = run(config, DEMO)  # no broker yet: the result is printed and its documents wait in the outbox
    assert away.returncode == 0, away.stderr
    assert "2 message(s) wait in" in away.stderr and "outbox.sqlite" in away.stderr
    result = json.loads(away.stdout)

    broker.start()
    try:
        collector = Subscriber(broker.port)
        again = run(config, DEMO)  # the next run sends what waited, then its own
        assert again.returncode == 0 and "wait in" not in again.stderr, again.stderr
        results = collector.wait_for("/demo/result", 2)
        evidence = collector.wait_for("/demo/evidence", 2)
        assert [json.loads(m.payload)["evidence_id"] for m in results] == [result["evidence_id"]] * 2
        assert json.loads(evidence[0].payload)["id"] == result["evidence_id"]
        assert results[0].topic == "liveguard/centre-2/box-7/demo/result"
        assert len(evidence[0].payload) < len(json.dumps(json.loads(evidence[0].payload), indent=2))  # compact on the wire
        status = [json.loads(m.payload) for m in collector.messages if m.topic.endswith("/status")]
        assert status[0]["state"] == "online" and "config_hash" in status[0] and status[-1]["state"] == "offline"
        collector.close()
    finally:
        broker.stop()
