"""`liveguard collect` between a real mosquitto and a real store (SQLite, PostgreSQL): each document
stored once, nothing lost when a collector is killed, shared subscriptions split the load, bad
messages rejected and counted while the rest flows."""

from __future__ import annotations

import json
import time

import pytest
from daemon import wait_until
from fleet import Box, CentreProcess, Fleet, centre_config
from postgres import Postgres, needs_postgres

from edge.centre.store import open_store
from edge.config.models import StoreConfig


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    return Fleet(tmp_path_factory.mktemp("fleet"))


def stored(url: str, table: str = "results") -> list[str]:
    with open_store(StoreConfig(url=url)) as store:
        return store.keys(table)


def counters(url: str) -> dict[str, int]:
    with open_store(StoreConfig(url=url)) as store:
        return store.counters()


def test_a_collector_killed_while_messages_flow_loses_nothing_and_stores_nothing_twice(broker, store_url, fleet, tmp_path):
    config = centre_config(tmp_path, broker.port, store_url)
    box = Box(tmp_path / "box", broker.port, "cam-1")
    sent = []
    try:
        with CentreProcess(tmp_path, config, "collector-1") as first:
            for index in range(300):
                evidence = fleet.evidence("cam-1", "s1", index)
                box.send(evidence, fleet.result(evidence))
                sent.append(evidence["id"])
            assert wait_until(lambda: len(stored(store_url)) >= 40, 60), first.log()
            first.kill()  # mid-flow: some batches handed over, some committed, none acknowledged beyond the commit
        at_kill = len(stored(store_url))
        assert at_kill < 300, "the kill came too late to test anything"
        with CentreProcess(tmp_path, config, "collector-1") as again:  # the same session: the broker kept the rest
            assert box.drained(60)
            assert wait_until(lambda: len(stored(store_url)) == 300 and len(stored(store_url, "evidence")) == 300, 90), again.log()
            log = again.stop()
    finally:
        box.close()
    assert sorted(stored(store_url)) == sorted(sent) and sorted(stored(store_url, "evidence")) == sorted(sent)
    assert "Traceback" not in log


def test_two_collectors_on_one_shared_subscription_split_the_messages_and_store_each_once(broker, store_url, fleet, tmp_path):
    config = centre_config(tmp_path, broker.port, store_url, collector={"group": "collectors"})
    boxes = [Box(tmp_path / "boxes", broker.port, f"cam-{n}") for n in range(3)]
    sent = set()
    try:
        with CentreProcess(tmp_path, config, "collector-a") as a, CentreProcess(tmp_path, config, "collector-b") as b:
            for index in range(40):
                for n, box in enumerate(boxes):
                    evidence = fleet.evidence(f"cam-{n}", "s1", index)
                    box.send(evidence, fleet.result(evidence))
                    sent.add(evidence["id"])
            assert all(box.drained(60) for box in boxes)
            assert wait_until(lambda: len(stored(store_url)) == len(sent), 60)
            logs = a.stop(), b.stop()
    finally:
        for box in boxes:
            box.close()
    assert set(stored(store_url)) == sent and set(stored(store_url, "evidence")) == sent
    shares = [_stored_by(log) for log in logs]
    assert all(share > 0 for share in shares), shares  # both took part
    assert sum(shares) == 2 * len(sent), shares  # and between them stored each result and evidence once
    assert counters(store_url).get("duplicate:result", 0) == 0


def _stored_by(log: str) -> int:
    """What a collector says it stored, from its last line."""
    line = [text for text in log.splitlines() if "collect: stopped;" in text][-1]
    parts = [part.strip() for part in line.split("stopped;")[1].split(",")]
    return sum(int(part.split()[-1]) for part in parts if part.startswith(("stored:result", "stored:evidence")))


def test_oversized_invalid_and_schema_violating_messages_are_rejected_and_counted_while_valid_ones_flow(
        broker, store_url, fleet, tmp_path):
    config = centre_config(tmp_path, broker.port, store_url)
    box = Box(tmp_path / "box", broker.port, "cam-1")
    good = []
    try:
        with CentreProcess(tmp_path, config, "collector-1") as collector:
            topic = "liveguard/lab/cam-1/s1/result"
            for index in range(3):
                evidence = fleet.evidence("cam-1", "s1", index)
                box.send(evidence, fleet.result(evidence))
                good.append(evidence["id"])
                bad = {0: (b"x" * (5 * 1024 * 1024), "big"),
                       1: (b'{"schema": "liveguard.result/1", "evidence_id": ', "cut"),
                       2: (json.dumps({**fleet.result(evidence), "evidence_id": evidence["id"][:8] + "-other",
                                       "price": 12.5}).encode(), "typed")}[index]
                box.raw(topic, *bad)
            later = fleet.evidence("cam-1", "s1", 99)
            box.send(later, fleet.result(later))
            good.append(later["id"])
            assert box.drained(60)
            assert wait_until(lambda: len(stored(store_url)) == len(good), 60), collector.log()
            assert wait_until(lambda: sum(v for k, v in counters(store_url).items() if k.startswith("rejected:")) == 3, 30)
            log = collector.stop()
    finally:
        box.close()
    assert sorted(stored(store_url)) == sorted(good)
    with open_store(StoreConfig(url=store_url)) as store:
        rejects = store.rejects()
        numbers = store.counters()
    assert [r["kind"] for r in rejects] == ["oversized", "not_json", "schema"]
    assert rejects[0]["size"] == 5 * 1024 * 1024 and "exceeds centre.collector.max_payload_kb" in rejects[0]["reason"]
    assert "$.price" in rejects[2]["reason"]
    assert {k: v for k, v in numbers.items() if k.startswith("rejected:")} == {"rejected:oversized": 1, "rejected:not_json": 1,
                                                                                 "rejected:schema": 1}
    for reject in rejects:
        assert f"rejected a message on {reject['topic']}: {reject['reason']}" in log


def test_an_evidence_on_another_devices_topic_is_refused(broker, store_url, fleet, tmp_path):
    config = centre_config(tmp_path, broker.port, store_url)
    box = Box(tmp_path / "box", broker.port, "cam-1")
    try:
        with CentreProcess(tmp_path, config, "collector-1") as collector:
            foreign = fleet.evidence("cam-2", "s1", 0)
            box.raw("liveguard/lab/cam-1/s1/evidence", json.dumps(foreign).encode(), foreign["id"])
            own = fleet.evidence("cam-1", "s1", 0)
            box.send(own, None)
            assert box.drained(60)
            assert wait_until(lambda: len(stored(store_url, "evidence")) == 1, 60), collector.log()
            collector.stop()
    finally:
        box.close()
    with open_store(StoreConfig(url=store_url)) as store:
        assert store.keys("evidence") == [own["id"]]
        assert [r["kind"] for r in store.rejects()] == ["identity"]


@needs_postgres
def test_a_database_that_goes_away_holds_the_messages_unacknowledged_until_it_is_back(broker, fleet, tmp_path):
    server = Postgres().start()  # its own server: the session's one is shared by the other tests
    try:
        url = server.database()
        config = centre_config(tmp_path, broker.port, url)
        box = Box(tmp_path / "box", broker.port, "cam-1")
        sent = []
        try:
            with CentreProcess(tmp_path, config, "collector-1") as collector:
                def send(first: int, count: int) -> None:
                    for index in range(first, first + count):
                        evidence = fleet.evidence("cam-1", "s1", index)
                        box.send(evidence, fleet.result(evidence))
                        sent.append(evidence["id"])

                send(0, 5)
                assert wait_until(lambda: len(stored(url)) == 5, 60), collector.log()
                server.halt()
                send(5, 20)  # the broker takes them; the collector cannot commit them, so it does not acknowledge them
                assert box.drained(60)
                assert wait_until(lambda: "not handled" in collector.log(), 30), collector.log()
                time.sleep(3)
                server.resume()
                assert wait_until(lambda: len(stored(url)) == 25, 90), collector.log()
                log = collector.stop()
        finally:
            box.close()
        assert sorted(stored(url)) == sorted(sent) and sorted(stored(url, "evidence")) == sorted(sent)
        assert "retrying, unacknowledged" in log and "Traceback" not in log
    finally:
        server.stop()
