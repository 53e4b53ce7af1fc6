"""`liveguard serve` on files: a watched folder (each new file once, across restarts), files cut into
windows with their audio through real ASR, the HTTPS sink, and central fusion (evidence only)."""

from __future__ import annotations

import json
import shutil

from edge.transport import Outbox
from tests.helpers.daemon import ThreadedDaemon, serve_config, wait_until, write_config
from tests.helpers.http_sink import HttpsEndpoint, Reply, make_certificate, needs_openssl
from tests.helpers.stream_servers import make_clip, needs_ffmpeg
from tests.helpers.workspace import DEMO


@needs_ffmpeg
@needs_openssl
def test_a_watched_folder_sends_each_new_file_once_across_restarts_to_the_https_sink(tmp_path):
    cert, key = make_certificate(tmp_path / "tls")
    folder = tmp_path / "incoming"
    folder.mkdir()
    clips = tmp_path / "clips"
    clips.mkdir()
    for seconds in (2.0, 3.0, 4.0):
        make_clip(clips, seconds=seconds, fps=10, audio=True)
    first, second, third = sorted(clips.glob("*.mp4"))
    shutil.copy(first, folder / "a.mp4")
    shutil.copy(second, folder / "b.mp4")
    config = serve_config(tmp_path, [{"id": "drop", "url": str(folder)}], fusion={"mode": "central"})
    with HttpsEndpoint(cert, key, [Reply(200)]) as endpoint:
        config["transport"]["https"] = {"enabled": True, "url": endpoint.url, "ca_file": str(cert), "retry_min_s": 0.2}
        path = write_config(tmp_path / "serve.yaml", config)
        with ThreadedDaemon(path) as served:
            assert wait_until(lambda: len(endpoint.bodies()) >= 2, 60), served.stream("drop")
            assert wait_until(lambda: served.stream("drop").state == "idle", 10)
        with ThreadedDaemon(path) as served:  # restarted: the two files are remembered
            shutil.copy(third, folder / "c.mp4")
            assert wait_until(lambda: len(endpoint.bodies()) >= 3, 60), served.stream("drop")
            assert wait_until(lambda: served.stream("drop").state == "idle", 10)
    posted = [json.loads(body) for body in endpoint.bodies()]
    assert [doc["stream"]["source"] for doc in posted] == ["a.mp4", "b.mp4", "c.mp4"]
    assert {doc["schema"] for doc in posted} == {"liveguard.evidence/1"}, "central fusion: the box sends evidence only"
    assert [r.headers["idempotency-key"] for r in endpoint.received if r.status == 200] == [doc["id"] for doc in posted]
    assert [doc["window"]["end"] for doc in posted] == [1.5, 2.5, 3.5]  # each file one window, to its last sampled frame


def test_files_cut_into_windows_carry_each_windows_own_speech(tmp_path):
    folder = tmp_path / "incoming"
    folder.mkdir()
    shutil.copy(DEMO, folder / "demo.mp4")  # 10 s with speech
    config = serve_config(tmp_path, [{"id": "demo", "url": str(folder)}], windows={"window_s": 5.0, "overlap_s": 0.0, "files": "windows"},
                          asr={"backend": "whisper"})
    with ThreadedDaemon(write_config(tmp_path / "serve.yaml", config)) as served:
        assert wait_until(lambda: served.stream("demo").windows_done >= 2 and served.stream("demo").state == "idle", 120), \
            served.stream("demo")
    with Outbox(tmp_path / "outbox.sqlite") as outbox:  # no sink enabled: the documents wait, durable
        messages = outbox.pending(100)
    evidence = [json.loads(m.payload) for m in messages if m.topic.endswith("/evidence")]
    results = [json.loads(m.payload) for m in messages if m.topic.endswith("/result")]
    assert [e["window"]["start"] for e in evidence] == [0.0, 5.0]
    assert evidence[0]["window"]["end"] == 5.0 and 9.5 <= evidence[1]["window"]["end"] < 10.0  # the second ends with the file
    assert [r["evidence_id"] for r in results] == [e["id"] for e in evidence]
    texts = [e["asr"]["text"] for e in evidence]
    assert all(texts) and texts[0] != texts[1], texts
    for doc in evidence:  # segment times lie inside their window
        start, end = doc["window"]["start"], doc["window"]["end"]
        for segment in doc["asr"]["segments"]:
            seg_start, seg_end = (segment[0], segment[1]) if isinstance(segment, list) else (segment["start"], segment["end"])
            assert start - 0.5 <= seg_start <= seg_end <= end + 0.5, (segment, start, end)


def test_a_long_window_is_transcribed_chunk_by_chunk_while_it_is_open(tmp_path):
    folder = tmp_path / "incoming"
    folder.mkdir()
    shutil.copy(DEMO, folder / "demo.mp4")
    # one window for the whole file, ASR chunks of 5 s: the first goes to ASR while the file is still read
    config = serve_config(tmp_path, [{"id": "demo", "url": str(folder)}], asr={"backend": "whisper", "chunk_seconds": 5.0})
    with ThreadedDaemon(write_config(tmp_path / "serve.yaml", config)) as served:
        assert wait_until(lambda: served.stream("demo").windows_done >= 1 and served.stream("demo").state == "idle", 120)
        busy = served.stream("demo").stage_seconds
    with Outbox(tmp_path / "outbox.sqlite") as outbox:
        (evidence,) = [json.loads(m.payload) for m in outbox.pending(100) if m.topic.endswith("/evidence")]
    segments = evidence["asr"]["segments"]
    starts = [segment[0] if isinstance(segment, list) else segment["start"] for segment in segments]
    assert len(segments) >= 2 and min(starts) < 5.0 <= max(starts), segments  # speech from both chunks, on the file's timeline
    said = evidence["asr"]["text"].lower()  # the greeting of the first chunk and the price of the second
    assert "showing you" in said and "129" in said, said
    assert busy.get("asr", 0) > 0
