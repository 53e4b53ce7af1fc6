"""`liveguard serve` -> mosquitto -> `liveguard collect` -> store, end to end: a broker outage in the
middle of a run changes nothing in the store; boxes in central mode get their results from two
fusion workers (one killed mid-run) behind a local OpenAI-compatible server; `liveguard results`
lists and exports what was stored."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
import time

from chat_server import ChatServer, Step, completion
from daemon import ThreadedDaemon, serve_config, wait_until, write_config
from fleet import CentreProcess, centre_config
from stream_servers import make_clip, needs_ffmpeg
from workspace import REPO

from edge.centre.store import open_store
from edge.config.models import StoreConfig

pytestmark = needs_ffmpeg

ANSWER = {
    "product_name": "Hydra Glow Face Cream", "brand": "AURORA", "category": "Skincare", "key_attributes": {"spec": "50 ml"},
    "price": "¥129", "confidence": {"product_name": 0.9, "brand": 0.9, "category": 0.8, "key_attributes": 0.8, "price": 0.7},
    "support": {"product_name": ["ocr"], "brand": ["ocr"], "category": ["ocr"], "key_attributes": ["ocr"], "price": ["ocr"]},
}


def rows(url: str, table: str) -> list[str]:
    with open_store(StoreConfig(url=url)) as store:
        return store.keys(table)


def results_cli(config, *options: str) -> str:
    done = subprocess.run([sys.executable, "-m", "edge.cli", "results", "-c", str(config), *options], cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_every_window_of_a_serve_run_is_stored_once_across_a_20_s_broker_outage(broker, store_url, tmp_path):
    clips = tmp_path / "clips"
    clips.mkdir()
    first, second = make_clip(clips, seconds=9.0, fps=10), make_clip(clips, seconds=6.0, fps=10)
    folder = tmp_path / "incoming"
    folder.mkdir()
    config = serve_config(tmp_path, [{"id": "drop", "url": str(folder)}], broker.port,
                          windows={"window_s": 3.0, "overlap_s": 0.0, "files": "windows"})
    centre = centre_config(tmp_path, broker.port, store_url)
    with CentreProcess(tmp_path, centre, "collector-1") as collector, \
            ThreadedDaemon(write_config(tmp_path / "serve.yaml", config)) as served:
        shutil.copy(first, folder / "a.mp4")
        assert wait_until(lambda: len(rows(store_url, "results")) >= 1, 90), collector.log()
        broker.stop()
        outage = time.monotonic()
        shutil.copy(second, folder / "b.mp4")  # its windows are made while the broker is away
        assert wait_until(lambda: served.stream("drop").state == "idle" and served.stream("drop").windows_done >= 5, 120)
        time.sleep(max(0.0, 20 - (time.monotonic() - outage)))
        broker.start()
        windows = served.stream("drop").windows_done
        assert wait_until(lambda: len(rows(store_url, "results")) == windows and len(rows(store_url, "evidence")) == windows, 90), \
            (served.daemon.snapshot().outbox, served.daemon.snapshot().mqtt_connected, windows, collector.log())
        time.sleep(2)  # anything more (a duplicate) would arrive now
        log = collector.stop()
    assert "Traceback" not in log
    assert sorted(rows(store_url, "results")) == sorted(rows(store_url, "evidence"))
    with open_store(StoreConfig(url=store_url)) as store:
        stored = list(store.results())
        devices = store.devices()
        assert store.count("stats") > 0 and store.rejects() == []  # the box's status and stats documents pass their schemas
    assert len(stored) == windows == 5  # 9 s in windows of 3 s, then 6 s
    spans = sorted((row["evidence"]["stream"]["source"], row["evidence"]["window"]["start"]) for row in stored)
    assert spans == [("a.mp4", 0.0), ("a.mp4", 3.0), ("a.mp4", 6.0), ("b.mp4", 0.0), ("b.mp4", 3.0)]
    assert [(d["site"], d["device"]) for d in devices] == [("lab", "box-1")]

    # the query command over the same store: JSON lines with evidence, CSV, filters
    lines = [json.loads(line) for line in results_cli(centre).splitlines()]
    assert len(lines) == 5 and all(line["evidence"]["id"] == line["result"]["evidence_id"] for line in lines)
    assert [line["received"] for line in lines] == sorted((line["received"] for line in lines), reverse=True)
    table = list(csv.DictReader(io.StringIO(results_cli(centre, "--format", "csv", "--device", "box-1", "--engine", "local-rules"))))
    assert len(table) == 5 and {row["stream"] for row in table} == {"drop"}
    assert all(row["window_end"] for row in table)
    assert all(set(row["brand_support"].split("+")) <= {"", "ocr", "asr", "vl"} for row in table)
    assert results_cli(centre, "--device", "box-2") == ""
    assert len(results_cli(centre, "--limit", "2", "--no-evidence").splitlines()) == 2


def test_boxes_in_central_mode_get_one_result_per_evidence_from_two_workers_one_killed(broker, store_url, tmp_path):
    clips = tmp_path / "clips"
    clips.mkdir()
    folder = tmp_path / "incoming"
    folder.mkdir()
    with ChatServer([Step(200, completion(json.dumps(ANSWER)), delay=0.7)]) as llm:
        fusion = {"mode": "direct", "cloud": {"base_url": llm.base_url, "api_key_env": None, "connect_timeout_s": 1.0,
                                              "read_timeout_s": 5.0, "retry": {"max_attempts": 2, "max_wait_s": 1.0}}}
        worker_config = centre_config(tmp_path, broker.port, store_url, top={"fusion": fusion})
        worker_b = centre_config(tmp_path / "b", broker.port, store_url, top={"fusion": fusion})
        config = serve_config(tmp_path, [{"id": "drop", "url": str(folder)}], broker.port, fusion={"mode": "central"},
                              windows={"window_s": 3.0, "overlap_s": 0.0, "files": "windows"})
        collector_config = centre_config(tmp_path, broker.port, store_url)
        with CentreProcess(tmp_path, collector_config, "collector-1") as collector, \
                CentreProcess(tmp_path, worker_config, "fusion-1", "fuse") as one, \
                CentreProcess(tmp_path, worker_b, "fusion-2", "fuse") as two, \
                ThreadedDaemon(write_config(tmp_path / "serve.yaml", config)) as served:
            shutil.copy(make_clip(clips, seconds=12.0, fps=10), folder / "a.mp4")
            assert wait_until(lambda: len(rows(store_url, "evidence")) >= 2, 90), collector.log()
            one.kill()  # whatever it held unacknowledged waits in its session on the broker
            shutil.copy(make_clip(clips, seconds=6.0, fps=10), folder / "b.mp4")
            assert wait_until(lambda: served.stream("drop").state == "idle" and served.stream("drop").windows_done >= 6, 120)
            with CentreProcess(tmp_path, worker_config, "fusion-1", "fuse") as again:  # systemd restarts it
                windows = served.stream("drop").windows_done
                assert wait_until(lambda: len(rows(store_url, "results")) == windows, 90), (again.log(), two.log(), collector.log())
                time.sleep(2)
                logs = again.stop(), two.stop()
            collector.stop()
    assert windows == 6
    assert sorted(rows(store_url, "results")) == sorted(rows(store_url, "evidence"))
    with open_store(StoreConfig(url=store_url)) as store:
        stored = list(store.results())
        assert store.counters().get("duplicate:result", 0) == 0, "no worker published a result twice"
    assert {row["result"]["engine"] for row in stored} == {"qwen-plus"}
    # the scripted answer's brand is nowhere in these test-pattern clips: grounding sets it aside, the category stays
    assert {row["result"]["category"] for row in stored} == {"Skincare"}
    assert {(row["result"]["brand"], row["result"]["ungrounded"]["brand"]["value"]) for row in stored} == {(None, "AURORA")}
    assert all("Traceback" not in log for log in logs)
