"""`liveguard serve` as the real process a unit file starts: SIGKILL and restart, SIGHUP, SIGTERM."""

from __future__ import annotations

import json
import signal
import time
from collections import Counter

import yaml

from edge.transport import Outbox
from tests.helpers.broker import Subscriber, needs_mosquitto
from tests.helpers.daemon import ServeProcess, documents, serve_config, wait_until, write_config
from tests.helpers.stream_servers import needs_rtsp_server

pytestmark = [needs_mosquitto, needs_rtsp_server]


def _outbox_ids(path) -> set[str]:
    with Outbox(path) as outbox:
        return {m.doc_id for m in outbox.pending(100_000)}


def test_serve_killed_mid_stream_resends_what_was_committed_and_nothing_acknowledged(tmp_path, broker, rtsp):
    collector = Subscriber(broker.port, "liveguard/#", client_id="collector-kill")
    config = write_config(tmp_path / "serve.yaml", serve_config(tmp_path, [{"id": "cam1", "url": rtsp.url}], broker.port))
    with ServeProcess(tmp_path, config) as first:
        assert wait_until(lambda: len(collector.of("/cam1/result")) >= 3, 90), first.log()[-3000:]
        broker.stop()  # let some windows pile up in the outbox, so that the kill finds rows not yet acknowledged
        assert wait_until(lambda: _outbox_ids(tmp_path / "outbox.sqlite"), 30), "no window was committed while the broker was away"
        first.signal(signal.SIGKILL)
        first.wait(10)
    unacknowledged = _outbox_ids(tmp_path / "outbox.sqlite")  # committed by the killed process, never acknowledged
    before = {json.loads(m.payload)["id"] for m in collector.of("/cam1/evidence")}
    assert unacknowledged - before, "the kill should leave committed, unsent evidence behind"
    broker.start()
    with ServeProcess(tmp_path, config) as second:
        received = lambda: {m.get("id") or m.get("evidence_id") for m in _all(collector)}  # noqa: E731
        assert wait_until(lambda: unacknowledged <= received(), 60), second.log()[-3000:]
        second.signal(signal.SIGTERM)
        assert second.wait(30) == 0, second.log()[-3000:]
    assert _outbox_ids(tmp_path / "outbox.sqlite") == set(), "the second run sent everything, its own last windows included"
    evidence = [doc["id"] for doc in documents(collector.of("/cam1/evidence"), "evidence")]
    results = [doc["evidence_id"] for doc in documents(collector.of("/cam1/result"), "result")]
    collector.close()
    assert unacknowledged <= set(evidence) | set(results)
    for kind in (evidence, results):
        twice = {doc for doc, n in Counter(kind).items() if n > 1}
        assert twice <= unacknowledged, "a document acknowledged before the kill was sent again"


def _all(collector: Subscriber) -> list[dict]:
    return [json.loads(m.payload) for m in collector.messages if not m.retain and m.topic.endswith(("/evidence", "/result"))]


def test_sighup_with_a_broken_file_keeps_the_running_configuration_then_a_fixed_one_adds_a_stream(tmp_path, broker, rtsp):
    collector = Subscriber(broker.port, "liveguard/#", client_id="collector-hup")
    site = tmp_path / "site.yaml"
    write_config(site, serve_config(tmp_path, [], broker.port))
    device = tmp_path / "device.yaml"
    device.write_text(yaml.safe_dump({"streams": [{"id": "cam1", "url": rtsp.url}]}), encoding="utf-8")
    with ServeProcess(tmp_path, site, device) as served:
        assert wait_until(lambda: len(collector.of("/cam1/result")) >= 1, 90), served.log()[-3000:]
        device.write_text(yaml.safe_dump({"streams": [{"id": "cam1", "url": rtsp.url, "fps": 3}]}), encoding="utf-8")
        served.signal(signal.SIGHUP)
        assert served.wait_log("reload refused", 20), served.log()[-3000:]
        refused = [line for line in served.log().splitlines() if "reload refused" in line]
        assert len(refused) == 1 and str(device) in refused[0] and "streams.0.fps" in refused[0], refused
        count = len(collector.of("/cam1/result"))
        assert wait_until(lambda: len(collector.of("/cam1/result")) >= count + 2, 30), "cam1 stopped after a refused reload"
        device.write_text(yaml.safe_dump({"streams": [{"id": "cam1", "url": rtsp.url}, {"id": "cam2", "url": rtsp.url}]}),
                          encoding="utf-8")
        served.signal(signal.SIGHUP)
        assert wait_until(lambda: len(collector.of("/cam2/result")) >= 1, 60), served.log()[-3000:]
        assert "reload: stream cam2 started" in served.log()
        assert "reload: stream cam1" not in served.log(), "an unchanged stream was restarted"
        stopping = time.monotonic()
        served.signal(signal.SIGTERM)
        assert served.wait(30) == 0, served.log()[-3000:]
        assert time.monotonic() - stopping < 15 + 5, "SIGTERM took longer than service.shutdown_s and the transports' bound"
    collector.close()
