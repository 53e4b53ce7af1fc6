"""The HTTPS sink against a real TLS endpoint on loopback: order, idempotency keys, retries, refusals, outages, TLS."""

from __future__ import annotations

import json
import logging
import time

import pytest
from http_sink import HttpsEndpoint, Reply, free_port, make_certificate, needs_openssl

from edge.config.models import HttpsSinkConfig
from edge.transport.https import HttpsSink, _retry_after
from edge.transport.outbox import Outbox

pytestmark = needs_openssl
SCHEMA = "liveguard.result/1"


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("certs")
    return {"server": make_certificate(folder, "server"), "other": make_certificate(folder, "other")}


@pytest.fixture
def outbox(tmp_path):
    with Outbox(tmp_path / "https-outbox.sqlite") as box:
        yield box


def config(url: str, ca_file, **extra) -> HttpsSinkConfig:
    values = {"enabled": True, "url": url, "ca_file": ca_file, "timeout_s": 2, "retry_min_s": 0.05, "retry_max_s": 0.2}
    return HttpsSinkConfig(**{**values, **extra})


def put(outbox: Outbox, n: int) -> str:
    doc_id = f"cam1-{n:04d}"
    outbox.put("liveguard/site-a/box-1/cam1/result", json.dumps({"evidence_id": doc_id, "n": n}).encode(), doc_id, SCHEMA)
    return doc_id


def wait_until(predicate, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def test_documents_arrive_in_order_with_their_headers_and_leave_the_outbox(certs, outbox):
    cert, key = certs["server"]
    with HttpsEndpoint(cert, key, [Reply(201)]) as endpoint:
        sent = [put(outbox, i) for i in range(10)]
        with HttpsSink(config(endpoint.url, cert), outbox) as sink:
            assert sink.drain(10)
            assert sink.ok and sink.delivered == 10
    assert [json.loads(body)["evidence_id"] for body in endpoint.bodies(201)] == sent
    first = endpoint.received[0]
    assert first.path == "/ingest" and first.headers["content-type"] == "application/json"
    assert [r.headers["idempotency-key"] for r in endpoint.received] == sent
    assert first.headers["x-liveguard-schema"] == SCHEMA and first.headers["x-liveguard-topic"] == "liveguard/site-a/box-1/cam1/result"
    assert "authorization" not in first.headers
    stats = outbox.stats()
    assert (stats.depth, stats.sent, stats.parked) == (0, 10, 0)


def test_a_503_is_retried_and_the_document_delivered_once(certs, outbox):
    cert, key = certs["server"]
    with HttpsEndpoint(cert, key, [Reply(503), Reply(503), Reply(200)]) as endpoint:
        doc_id = put(outbox, 1)
        with HttpsSink(config(endpoint.url, cert), outbox) as sink:
            assert sink.drain(10)
            assert sink.retries == 2 and sink.ok
    assert [r.status for r in endpoint.received] == [503, 503, 200]
    assert {r.headers["idempotency-key"] for r in endpoint.received} == {doc_id}
    assert len(endpoint.bodies(200)) == 1 and outbox.stats().sent == 1


def test_retry_after_is_honoured(certs, outbox):
    cert, key = certs["server"]
    with HttpsEndpoint(cert, key, [Reply(429, {"Retry-After": "1"}), Reply(200)]) as endpoint:
        put(outbox, 1)
        with HttpsSink(config(endpoint.url, cert, retry_max_s=5), outbox) as sink:
            assert sink.drain(10)
    gap = endpoint.received[1].at - endpoint.received[0].at
    assert 0.95 <= gap < 2.5  # without Retry-After the first retry comes after retry_min_s (0.05 s)


def test_a_400_parks_the_document_with_a_reason_and_the_next_one_goes_through(certs, outbox):
    cert, key = certs["server"]
    with HttpsEndpoint(cert, key, [Reply(400, body="unknown schema\nliveguard.result/1"), Reply(200)]) as endpoint:
        refused, accepted = put(outbox, 1), put(outbox, 2)
        with HttpsSink(config(endpoint.url, cert), outbox) as sink:
            assert sink.drain(10)
            assert sink.parked == 1 and sink.ok
    [(message, reason)] = outbox.parked()
    assert message.doc_id == refused and "\n" not in reason
    assert reason == f"{endpoint.url} refused it: HTTP 400 Bad Request: unknown schema liveguard.result/1"
    assert [r.headers["idempotency-key"] for r in endpoint.received] == [refused, accepted]
    stats = outbox.stats()
    assert (stats.parked, stats.sent, stats.depth) == (1, 1, 0)


def test_the_token_from_a_file_is_sent_as_bearer_and_never_logged(certs, outbox, tmp_path, caplog):
    cert, key = certs["server"]
    token = tmp_path / "token"
    token.write_text("s3cr3t-T0ken-abc\n")
    token.chmod(0o600)
    caplog.set_level(logging.DEBUG)  # httpx and httpcore included
    with HttpsEndpoint(cert, key, [Reply(503), Reply(401), Reply(200)]) as endpoint:
        put(outbox, 1), put(outbox, 2)
        with HttpsSink(config(endpoint.url, cert, token_file=token), outbox) as sink:
            assert sink.drain(10)
    assert {r.headers["authorization"] for r in endpoint.received} == {"Bearer s3cr3t-T0ken-abc"}
    assert len(caplog.records) > 3 and "s3cr3t" not in caplog.text
    assert all("s3cr3t" not in str(r.args) for r in caplog.records)
    assert "s3cr3t" not in outbox.parked()[0][1]


def test_an_endpoint_down_then_up_gets_the_document_after_it_returns(certs, outbox):
    cert, key = certs["server"]
    endpoint = HttpsEndpoint(cert, key, [Reply(200)], port=free_port())
    doc_id = put(outbox, 1)
    with HttpsSink(config(endpoint.url, cert), outbox) as sink:
        assert wait_until(lambda: sink.retries >= 3)  # connection refused, retried
        assert not sink.ok and outbox.stats().depth == 1 and "ConnectError" in sink.last_error
        with endpoint:
            assert sink.drain(10) and sink.ok
    assert [r.headers["idempotency-key"] for r in endpoint.received] == [doc_id]


def test_a_wrong_ca_delivers_nothing_keeps_the_row_and_says_so_in_one_line(certs, outbox, caplog):
    cert, key = certs["server"]
    other_ca, _ = certs["other"]
    with HttpsEndpoint(cert, key) as endpoint:
        put(outbox, 1)
        with caplog.at_level(logging.WARNING, logger="liveguard.https"):
            with HttpsSink(config(endpoint.url, other_ca), outbox) as sink:
                assert not sink.drain(1.0)
                assert sink.retries >= 2 and not sink.ok
    assert endpoint.received == [] and endpoint.handshake_failures >= 1
    assert outbox.stats().depth == 1 and outbox.stats().parked == 0
    assert "CERTIFICATE_VERIFY_FAILED" in sink.last_error and sink.last_error.startswith(endpoint.url) and "\n" not in sink.last_error
    warnings = [r.getMessage() for r in caplog.records if r.name == "liveguard.https"]
    assert len(warnings) == 1 and "\n" not in warnings[0]  # logged once per run of identical failures


def test_close_is_bounded_while_a_request_hangs_and_the_row_stays(certs, outbox):
    cert, key = certs["server"]
    with HttpsEndpoint(cert, key, [Reply(200, delay=3)]) as endpoint:
        put(outbox, 1)
        sink = HttpsSink(config(endpoint.url, cert, timeout_s=10), outbox).start()
        assert wait_until(lambda: len(endpoint.received) == 1)
        began = time.monotonic()
        sink.close(timeout=0.5)
        assert time.monotonic() - began < 1.5
        assert outbox.stats().depth == 1  # not acknowledged: sent again at the next start (same Idempotency-Key)


def test_retry_after_reads_seconds_and_http_dates():
    assert _retry_after("7") == 7.0 and _retry_after(None) is None and _retry_after("soon") is None
    assert _retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past: no extra wait
