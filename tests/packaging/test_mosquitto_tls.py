"""configs/mosquitto/mosquitto.conf's client-certificate listener (8884: require_certificate true,
use_identity_as_username true) against a real mosquitto with liveguard.acl: no certificate, or one
from another CA, gets no connection; the certificate's CN is the user name the ACL sees, whatever the
CONNECT packet says; boxes publish through the real MqttPublisher, the collector reads through its
shared subscription."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from broker import needs_mosquitto
from daemon import wait_until
from mqtt_auth import Client, example_broker, make_ca, make_certificates, make_client_certificate
from workspace import CONFIGS

from edge.config.models import MqttConfig
from edge.transport import MqttPublisher, Outbox, Topics

pytestmark = needs_mosquitto

ACL = (CONFIGS / "mosquitto/liveguard.acl").read_text(encoding="utf-8")
# password_file users: they log in on the password listener (8883); on 8884 their passwords count for nothing
USERS = {"cam-a": "pw-a", "cam-b": "pw-b", "collector": "pw-c"}
SITE = "lab"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The shipped broker config with its three listeners; the broker's certificate from ca.pem, the
    clients' from clients-ca.pem, and one rogue client certificate (CN=collector) from ca.pem."""
    folder = tmp_path_factory.mktemp("tls") / "etc"
    certs = folder / "certs"
    make_certificates(certs)
    make_ca(certs, "clients-ca", "liveguard test clients CA")
    clients = {cn: make_client_certificate(certs, cn, ca="clients-ca") for cn in ("cam-a", "collector")}
    clients["rogue"] = make_client_certificate(certs, "collector", ca="ca", name="rogue")
    broker = example_broker(folder, USERS, ACL)
    broker.certs, broker.clients = certs, clients
    yield broker
    broker.stop()


@pytest.fixture
def connect(site):
    made: list[Client] = []

    def client(port: int, cert: str | None = None, user: str | None = None, refused: bool = False) -> Client:
        tls = dict(site.clients[cert]) if cert else {"ca_certs": str(site.certs / "ca.pem")}
        made.append(Client(port, user, USERS.get(user) if user else None, tls=tls, host="localhost", refused=refused))
        return made[-1]

    yield client
    for client in made:
        client.close()


def box_config(site, cert: str, port: int, **more) -> MqttConfig:
    tls = site.clients[cert]
    return MqttConfig(host="localhost", port=port, ca_file=Path(tls["ca_certs"]), cert_file=Path(tls["certfile"]),
                      key_file=Path(tls["keyfile"]), reconnect_max_s=1, **more)


def test_without_a_certificate_there_is_no_connection(site, connect):
    mtls, tls = site.ports[8884], site.ports[8883]
    ok = connect(tls, user="collector")  # the same client, password and CA on the password listener: accepted
    assert ok.subscribe("liveguard/#") == [1]
    refused = connect(mtls, user="collector", refused=True)  # a valid password does not replace the certificate
    assert refused.refusal, refused.refusal
    anonymous = connect(mtls, refused=True)
    assert anonymous.refusal
    assert "peer did not return a certificate" in site.server.log_text()


def test_a_certificate_from_another_ca_gets_no_connection(site, connect):
    """ca.pem signed the broker's certificate, not the clients': its certificates are no login here,
    though the rogue one says CN=collector."""
    rogue = connect(site.ports[8884], cert="rogue", refused=True)
    assert rogue.refusal
    assert "certificate verify failed" in site.server.log_text()
    assert connect(site.ports[8884], cert="collector").subscribe("liveguard/#") == [1]  # the genuine one gets in


def test_the_certificate_is_the_user_name(site, connect, tmp_path):
    mtls = site.ports[8884]
    collector = connect(mtls, cert="collector")
    assert collector.subscribe("$share/collectors/liveguard/+/+/+/evidence") == [1]
    assert collector.subscribe("$share/collectors/liveguard/+/+/+/result") == [1]
    # cam-a, as liveguard serve would publish with transport.mqtt.cert_file/key_file and no password
    own = Topics("liveguard", SITE, "cam-a")
    with Outbox(tmp_path / "a.sqlite") as outbox:
        outbox.put(own.document("studio", "evidence"), b'{"schema": "liveguard.evidence/1"}', "ev-a", "liveguard.evidence/1")
        with MqttPublisher(box_config(site, "cam-a", mtls), outbox, own) as publisher:
            publisher.wake()
            assert wait_until(lambda: outbox.stats().sent == 1, 15)  # PUBACK success
        assert outbox.stats().parked == 0
    assert collector.wait_for_topics(1) == [own.document("studio", "evidence")]
    # cam-a's certificate, claiming cam-b's topics and logging in as cam-b with cam-b's valid password
    password = tmp_path / "pw-b"
    password.write_text(USERS["cam-b"])
    forged = Topics("liveguard", SITE, "cam-b")
    with Outbox(tmp_path / "b.sqlite") as outbox:
        outbox.put(forged.document("studio", "result"), b'{"schema": "liveguard.result/1"}', "res-b", "liveguard.result/1")
        with MqttPublisher(box_config(site, "cam-a", mtls, username="cam-b", password_file=password), outbox, forged) as publisher:
            publisher.wake()
            assert wait_until(lambda: outbox.stats().parked == 1, 15)
        ((message, reason),) = outbox.parked()
        assert message.doc_id == "res-b" and "PUBACK 0x87" in reason and outbox.stats().sent == 0
    assert "as liveguard-lab-cam-b (p5, c1, k30, u'cam-a')" in site.server.log_text()  # the broker's view of it
    # the collector's certificate carries the collector's rights: read-only
    assert collector.publish(own.document("studio", "result")) == 0x87
    time.sleep(0.5)
    assert collector.topics() == [own.document("studio", "evidence")]
