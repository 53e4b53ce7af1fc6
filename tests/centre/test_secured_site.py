"""The shipped broker config and ACL (configs/mosquitto/) between real boxes and a real collector:
a box's credentials, password or client certificate, cannot publish under another device's prefix;
the broker refuses it (the box parks it) and the collector never sees it, while the box's own
documents are stored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from broker import needs_mosquitto
from daemon import wait_until
from fleet import CentreProcess, Fleet, centre_config
from mqtt_auth import example_broker, make_ca, make_certificates, make_client_certificate
from workspace import CONFIGS

from edge.centre.store import open_store
from edge.config.models import MqttConfig, StoreConfig
from edge.transport import MqttPublisher, Outbox, Topics
from edge.transport.delivery import compact, enqueue_window
from edge.transport.wire import OFFLINE

pytestmark = needs_mosquitto

ACL = (CONFIGS / "mosquitto/liveguard.acl").read_text(encoding="utf-8")
USERS = {"cam-a": "pw-a", "cam-b": "pw-b", "collector": "pw-c"}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("site") / "etc"
    certs = folder / "certs"
    make_certificates(certs)
    make_ca(certs, "clients-ca", "liveguard test clients CA")
    clients = {cn: make_client_certificate(certs, cn, ca="clients-ca") for cn in ("cam-a", "collector")}
    broker = example_broker(folder, USERS, ACL)
    broker.certs, broker.clients = certs, clients
    yield broker
    broker.stop()


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    return Fleet(tmp_path_factory.mktemp("fleet"))


def tls_of(site, user: str, certificate: bool) -> dict:
    """centre.mqtt / transport.mqtt keys for ``user`` on the password listener (8883) or the certificate one (8884)."""
    if certificate:
        files = site.clients[user]
        return {"host": "localhost", "port": site.ports[8884], "ca_file": files["ca_certs"], "cert_file": files["certfile"],
                "key_file": files["keyfile"]}
    return {"host": "localhost", "port": site.ports[8883], "ca_file": str(site.certs / "ca.pem"), "username": user,
            "password_env": f"LIVEGUARD_TEST_{user.replace('-', '_').upper()}"}


@pytest.mark.parametrize("certificate", [False, True], ids=["password", "client-certificate"])
def test_a_box_cannot_publish_under_another_devices_prefix_and_the_collector_never_sees_it(
        site, fleet, store_url, tmp_path, monkeypatch, certificate):
    for user, password in USERS.items():
        monkeypatch.setenv(f"LIVEGUARD_TEST_{user.replace('-', '_').upper()}", password)
    centre = tls_of(site, "collector", certificate)
    config = centre_config(tmp_path, centre["port"], store_url, mqtt={**centre, "reconnect_min_s": 1.0})
    box = tls_of(site, "cam-a", certificate)
    with CentreProcess(tmp_path, config, f"collector-{certificate}") as collector, \
            Outbox(tmp_path / "box.sqlite") as outbox:
        own = fleet.evidence("cam-a", "s1", 0)
        forged = fleet.evidence("cam-b", "s1", 0)
        topics = Topics("liveguard", "lab", "cam-a")
        outbox.put("liveguard/lab/cam-b/s1/evidence", compact(forged), forged["id"], forged["schema"])  # cam-a's credentials
        enqueue_window(outbox, topics, own, fleet.result(own))
        publisher = MqttPublisher(MqttConfig(enabled=True, reconnect_max_s=1, **{k: Path(v) if k.endswith("_file") else v
                                                                                   for k, v in box.items()}), outbox, topics)
        with publisher:
            assert wait_until(lambda: outbox.stats().depth == 0, 30)
        parked = outbox.parked()
        assert wait_until(lambda: len(_keys(store_url, "results")) == 1, 30), collector.log()
        wait_until(lambda: _states(store_url) == [("cam-a", "offline")], 30)  # the box's clean-stop status comes last
        collector.stop()
    assert [(m.topic, reason) for m, reason in parked] == [
        ("liveguard/lab/cam-b/s1/evidence", f"broker localhost:{box['port']} refused it: PUBACK 0x87 not authorized")]
    assert _keys(store_url, "evidence") == [own["id"]] and _keys(store_url, "results") == [own["id"]]
    with open_store(StoreConfig(url=store_url)) as store:
        assert store.rejects() == []  # refused at the broker: nothing of it reached the collector
        assert [(d["device"], d["state"]) for d in store.devices()] == [("cam-a", "offline")]  # online, then its clean stop
        assert store.devices()[0]["status"] == json.loads(OFFLINE)


def _states(url: str) -> list[tuple[str, str]]:
    with open_store(StoreConfig(url=url)) as store:
        return [(d["device"], d["state"]) for d in store.devices()]


def _keys(url: str, table: str) -> list[str]:
    with open_store(StoreConfig(url=url)) as store:
        return store.keys(table)
