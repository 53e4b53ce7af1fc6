"""A real `liveguard serve` keeps each window's keyframe and hands it to the centre on request (issue 16):
the shipped ACL with passwords on a real mosquitto, a file cut into windows, the page's broker user (web)
asking over MQTT v5 request/response. The reply's bytes hash to the evidence's jpeg_sha256; an unknown
sha256 is not-found; a response topic outside the box's reply level is not answered, counted and logged;
each window's evidence carries that window's frame-score curve with its keyframe on it."""

from __future__ import annotations

import hashlib
import re
import signal
import urllib.request

import cv2
import numpy as np
from broker import Mosquitto, Subscriber, needs_mosquitto
from keyframe_requester import Requester
from workspace import CONFIGS

from edge.transport import Topics
from tests.helpers.daemon import ServeProcess, documents, serve_config, wait_until, write_config
from tests.helpers.stream_servers import make_clip, needs_ffmpeg

pytestmark = [needs_mosquitto, needs_ffmpeg]

ACL = (CONFIGS / "mosquitto/liveguard.acl").read_text(encoding="utf-8")
USERS = {"box-1": "pw-box", "web": "pw-web", "operator": "pw-op", "collector": "pw-c"}
TOPICS = Topics("liveguard", "lab", "box-1")
REQUEST = TOPICS.command("keyframe")


def metric(page: str, name: str, **labels: str) -> float:
    selector = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    match = re.search(rf"^{re.escape(name)}{re.escape('{' + selector + '}') if labels else ''} (\S+)$", page, re.MULTILINE)
    assert match, f"{name} {labels} not on the page"
    return float(match.group(1))


def test_the_centre_fetches_each_served_windows_keyframe_over_mqtt(tmp_path, monkeypatch):
    # as README advises for the boxes' listener: the client id is the user name (the responder shares the publisher's connection)
    broker = Mosquitto(tmp_path / "broker", users=USERS, acl=ACL, extra="use_username_as_clientid true\n").start()
    clip = make_clip(tmp_path, seconds=6.0, fps=10, audio=False)
    collector = Subscriber(broker.port, "liveguard/+/+/+/evidence", client_id="collector-keyframes",
                           username="collector", password="pw-c")
    monkeypatch.setenv("LIVEGUARD_TEST_BOX_PASSWORD", "pw-box")  # the serve process inherits it
    config = serve_config(tmp_path, [{"id": "cam1", "url": str(clip)}], broker.port,
                          windows={"window_s": 3.0, "overlap_s": 0.0, "files": "windows"})
    config["transport"]["mqtt"].update(username="box-1", password_env="LIVEGUARD_TEST_BOX_PASSWORD")
    web = operator = None
    try:
        with ServeProcess(tmp_path, write_config(tmp_path / "serve.yaml", config)) as serve:
            assert wait_until(lambda: len(collector.of("/cam1/evidence")) >= 2, 120), serve.log()[-3000:]
            assert serve.wait_log(f"answering {REQUEST}", 10), serve.log()[-3000:]
            evidence = documents(collector.of("/cam1/evidence"), "evidence")
            web = Requester(broker.port, "web", "pw-web")
            reply_topic = TOPICS.reply("web", "keyframe")
            for doc in evidence:  # every window's keyframe, named by the sha256 its evidence carries
                sha = doc["keyframes"][0]["jpeg_sha256"]
                reply = web.ask(REQUEST, sha, reply_topic, correlation=sha[:16].encode())
                assert reply is not None, serve.log()[-3000:]
                assert (reply.content_type, reply.correlation) == ("image/jpeg", sha[:16].encode())
                assert hashlib.sha256(reply.payload).hexdigest() == sha
                image = cv2.imdecode(np.frombuffer(reply.payload, np.uint8), cv2.IMREAD_COLOR)
                assert image.shape[:2] == (doc["stream"]["height"], doc["stream"]["width"])
                assert (tmp_path / "state" / "keyframes" / f"{sha}.jpg").is_file()  # in <state_dir>/keyframes
                # the window's own score curve, its keyframe marked on it
                scores, keyframe = doc["selection"]["scores"], doc["keyframes"][0]
                assert len(scores) == doc["selection"]["sampled_frames"] == 6
                assert all(doc["window"]["start"] <= pts <= doc["window"]["end"] for pts, _ in scores)
                assert [keyframe["pts"], keyframe["score"]["total"]] in scores
            unknown = hashlib.sha256(b"a frame this box never had").hexdigest()
            missing = web.ask(REQUEST, unknown, reply_topic, correlation=b"unknown")
            assert (missing.content_type, missing.json()) == ("application/json", {"error": "not-found", "sha256": unknown})

            operator = Requester(broker.port, "operator", "pw-op", replies="liveguard/#")  # would see a reply anywhere
            sha = evidence[0]["keyframes"][0]["jpeg_sha256"]
            outside = ("liveguard/lab/box-1/cam1/result", "liveguard/lab/box-2/reply/operator/keyframe")
            for topic in outside:
                assert operator.ask(REQUEST, sha, topic, correlation=b"outside", timeout=0.1) is None
            # answered in order: once this reply is back, the two before were handled
            own = TOPICS.reply("operator", "keyframe")
            assert operator.ask(REQUEST, sha, own, correlation=b"barrier") is not None
            assert [(r.topic, r.correlation) for r in operator.received if r.topic in (*outside, own)] == [(own, b"barrier")]
            assert serve.wait_log(f"keyframe request on {REQUEST} not answered: ResponseTopic "
                                  "'liveguard/lab/box-1/cam1/result' is not liveguard/lab/box-1/reply/<requester>/keyframe", 5)

            url = re.search(r"health endpoint on (http://\S+)", serve.log()).group(1)
            with urllib.request.urlopen(url + "/metrics", timeout=5) as page:
                text = page.read().decode()
            assert metric(text, "liveguard_command_replies_total", command="keyframe", outcome="keyframe") == 3
            assert metric(text, "liveguard_command_replies_total", command="keyframe", outcome="not-found") == 1
            assert metric(text, "liveguard_command_dropped_total", command="keyframe", reason="response-topic") == 2
            assert metric(text, "liveguard_keyframes_files") == 2 and metric(text, "liveguard_keyframes_rotated_total") == 0
            assert "disconnected from" not in serve.log()  # one connection per box: nothing took its session over
            serve.signal(signal.SIGTERM)
            assert serve.wait(30) == 0, serve.log()[-3000:]
    finally:
        for client in (web, operator, collector):
            if client is not None:
                client.close()
        broker.stop()
