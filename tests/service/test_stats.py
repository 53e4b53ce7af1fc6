"""The stats document: schema liveguard.stats/1, agrees with the snapshot (and so with /metrics), no secrets."""

from __future__ import annotations

import json

from edge.service.metrics import render
from edge.service.stats import STATS_SCHEMA, stats_document
from edge.transport.delivery import compact
from edge.transport.wire import wire_problem


def test_the_document_carries_the_snapshot(snapshot):
    snap = snapshot()
    doc = json.loads(compact(stats_document(snap)))  # JSON-serialisable as the daemon sends it
    assert doc["schema"] == STATS_SCHEMA == "liveguard.stats/1"
    assert (doc["device"], doc["site"], doc["version"], doc["config_hash"]) == ("box-1", "site-a", "0.1.0", "c0ffee12")
    assert doc["time"] == "2027-01-15T08:00:00+00:00" and doc["uptime_s"] == 3600.0
    assert doc["system"] == {"cpu_percent": 37.5, "memory_rss_bytes": 512 * 2**20, "memory_available_bytes": 3 * 2**30,
                             "disk_free_bytes": 20 * 2**30, "temperatures_c": {"cpu-thermal": 51.5, "gpu-thermal": 48.2}}
    north = doc["streams"]["cam-north"]
    assert north == {
        "kind": "rtsp", "state": "streaming", "state_age_s": 300.0, "reason": "", "fps": 9.87, "lag_s": 1.234, "last_frame_age_s": 0.1,
        "frames": {"read": 12_000, "dropped": 17}, "windows": {"done": 40, "failed": 2}, "reconnects": 1,
        "transitions": {"connecting": 2, "reconnecting": 1, "starting": 1, "streaming": 2},
    }
    assert doc["streams"]["shop-2"]["state"] == "reconnecting" and doc["streams"]["shop-2"]["last_frame_age_s"] is None
    assert doc["outbox"] == {"depth": 5, "bytes": 20_480, "oldest_age_s": 42.5, "sent": 1234, "parked": 2,
                             "dropped": {"max_age": 1, "max_rows": 3}}
    assert doc["transports"] == {"mqtt": {"connected": True}, "https": {"ok": False}}
    assert doc["reloads"] == {"applied": 2, "failed": 1} and doc["ready"] is True
    assert doc["keyframes"] == {"files": 4321, "bytes": 512 * 2**20 - 7, "written": 9000, "rotated": 4679, "failed": 1, "corrupt": 0}
    assert doc["commands"] == {"connected": True, "replies": {"bad-request": 1, "keyframe": 12, "not-found": 3, "too-large": 0},
                               "dropped": {"busy": 0, "refused": 0, "response-topic": 2, "retained": 0}}
    assert wire_problem(doc, STATS_SCHEMA) is None


def test_no_secret_and_no_url_leaves_the_box(snapshot):
    wire = compact(stats_document(snapshot()))
    assert b"hunter2" not in wire and b"viewer" not in wire and b"cdn.example" not in wire
    assert b"rtsp://admin:***@10.0.0.9/x" in wire  # the reason keeps its meaning, not the password
    assert len(wire) < 2048  # compact: sent every minute by every box


def test_transports_not_enabled_are_null(snapshot):
    doc = stats_document(snapshot(mqtt_connected=None, https_ok=None, keyframes=None, commands=None))
    assert doc["transports"] == {"mqtt": None, "https": None}
    assert doc["keyframes"] is None and doc["commands"] is None
    assert wire_problem(doc, STATS_SCHEMA) is None
    older = {k: v for k, v in doc.items() if k not in ("keyframes", "commands")}  # a box from before issue 16
    assert wire_problem(older, STATS_SCHEMA) is None


def test_stats_and_metrics_agree_on_the_same_snapshot(snapshot):
    snap = snapshot()
    doc, page = stats_document(snap), render(lambda: snap).decode()
    assert f"liveguard_outbox_messages {float(doc['outbox']['depth'])}" in page
    frames = doc["streams"]["cam-north"]["frames"]["read"]
    assert f'liveguard_stream_frames_read_total{{kind="rtsp",stream="cam-north"}} {float(frames)}' in page
