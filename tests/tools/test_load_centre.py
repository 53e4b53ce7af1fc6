"""The centre's load tool (tools/load_centre.py): a tiny run of the real thing (mosquitto, `liveguard collect`
processes, SQLite and PostgreSQL) must account for every document: stored once, none lost, none rejected,
and its figures must agree with the collectors' own counters."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from broker import needs_mosquitto
from postgres import needs_postgres
from workspace import REPO

from edge.centre.documents import classify
from edge.centre.store import Record
from edge.transport.delivery import compact
from edge.transport.subscriber import Delivery

SCRIPT = REPO / "tools" / "load_centre.py"
BOXES, SECONDS, BURST = 3, 2, 40


def test_the_documents_pass_the_collectors_checks_and_a_bad_template_is_refused_before_anything_starts(tmp_path):
    import load_centre

    documents = load_centre.Documents(load_centre.TEMPLATE_DOC)
    ids = set()
    for index in range(3):
        evidence, result = documents.window("box-007", index)
        assert result["evidence_id"] == evidence["id"] and len(evidence["id"]) == 32
        ids.add(evidence["id"])
        for kind, document in (("evidence", evidence), ("result", result)):
            topic = f"liveguard/{load_centre.SITE}/box-007/{load_centre.STREAM}/{kind}"
            record = classify(Delivery(topic, compact(document), None, 0.0, False, 0, 0), "liveguard", 1 << 20, 256)
            assert isinstance(record, Record), getattr(record, "reason", record)
            assert record.key == evidence["id"] and record.device == "box-007"
    assert len(ids) == 3

    bad = tmp_path / "bad.evidence.json"
    bad.write_text(json.dumps({**load_centre.TEMPLATE_DOC, "ocr": {"lines": "AURORA"}}), encoding="utf-8")
    done = subprocess.run([sys.executable, str(SCRIPT), "--template", str(bad), "--stores", "sqlite"], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "the collector would reject the evidence document" in done.stderr, done.stderr


def test_percentiles_are_nearest_rank():
    from load_centre import percentile

    assert percentile([], 50) is None
    assert [percentile(list(range(1, 101)), q) for q in (50, 95, 99, 100)] == [50, 95, 99, 100]
    assert percentile([3.0], 99) == 3.0


@needs_mosquitto
@pytest.mark.parametrize("store", ["sqlite", pytest.param("postgresql", marks=needs_postgres)])
def test_a_tiny_load_is_stored_once_and_completely_by_one_and_by_two_collectors(store, tmp_path):
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--boxes", str(BOXES), "--seconds", str(SECONDS), "--burst", str(BURST), "--collectors", "1", "2",
         "--stores", store, "--stats-every", "1", "--drain-timeout", "30", "--json", "--workdir", str(tmp_path / "load")],
        cwd=REPO, capture_output=True, text=True, timeout=240,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    lines = done.stdout.splitlines()
    report = json.loads(lines[-1])
    assert "| collectors | store | offered | stored |" in done.stdout
    assert [(c["collectors"], c["store"]) for c in report["configurations"]] == [(1, store), (2, store)]
    windows = BOXES * SECONDS + BURST // 2
    for c in report["configurations"]:
        where = f"{c['collectors']} collector(s), {store}: {c}"
        assert c["ok"], where
        assert c["offered_total"] == 2 * windows, where
        assert c["stored_total"] == c["stored_rows"] == c["offered_total"], where  # each offered id stored, no other row
        assert c["lost"] == 0 and c["lost_ids"] == [], where
        assert c["stored_twice"] == 0 and c["rejected"] == 0, where
        # the collectors' own counters say the same: every document stored once, by one of them
        assert c["counters"].get("stored:result") == c["counters"].get("stored:evidence") == windows, where
        assert sum(c["collector_stored"]) == c["stored_total"] and len(c["collector_stored"]) == c["collectors"], where
        assert all(share > 0 for share in c["collector_stored"]), where  # the shared subscription splits the load
        assert c["collector_exit"] == [0] * c["collectors"], where
        assert c["stats_offered"] > 0 and c["stats_stored"] == c["stats_offered"], where
        latency = c["latency_ms"]
        assert latency["n"] == BOXES * SECONDS, where
        assert 0 < latency["p50"] <= latency["p95"] <= latency["p99"] <= latency["max"] < 10_000, where
        assert c["burst_stored_per_s"] and c["burst_stored_per_s"] > 0, where
        assert not [line for line in c["problems"] if "Traceback" in line], where
    row = [line for line in lines if line.startswith("| 2 |")]
    assert len(row) == 1 and f"| {2 * windows} | {2 * windows} |" in row[0], row
