"""What the shipped broker (Debian 12's mosquitto 2.0.11) does with persistent sessions over its own
restart, which decides the collector's default: plain subscriptions survive it, shared ones do not.

Should a newer mosquitto keep shared subscriptions too, the second test fails: then the collector
may default to a shared group (edge/config/models.py CollectorConfig.group) and the README changes.
"""

from __future__ import annotations

import threading
import time

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties


def session(port: int, client_id: str, topic: str | None) -> tuple[mqtt.Client, list[str], bool]:
    """Connect with a persistent session, subscribe to ``topic`` (None: rely on the session); (client, received, session present)."""
    received: list[str] = []
    present: list[bool] = []
    ready = threading.Event()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)

    def on_connect(c, userdata, flags, reason_code, properties):
        present.append(flags.session_present)
        if topic is None:
            ready.set()
        else:
            c.subscribe(topic, 1)

    client.on_connect = on_connect
    client.on_subscribe = lambda *args: ready.set()
    client.on_message = lambda c, u, message: received.append(message.topic)
    properties = Properties(PacketTypes.CONNECT)
    properties.SessionExpiryInterval = 3600
    client.connect("127.0.0.1", port, keepalive=10, clean_start=False, properties=properties)
    client.loop_start()
    assert ready.wait(10)
    return client, received, present[0]


def publish_once(port: int, topic: str) -> None:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="facts-publisher", protocol=mqtt.MQTTv5)
    client.connect("127.0.0.1", port)
    client.loop_start()
    client.publish(topic, b"{}", qos=1).wait_for_publish(10)
    client.disconnect()
    client.loop_stop()


@pytest.mark.parametrize("shared, kept", [(False, True), (True, False)], ids=["plain-survives", "shared-forgotten"])
def test_a_broker_restart_keeps_plain_subscriptions_of_a_persistent_session_but_not_shared_ones(broker, shared, kept):
    topic = "$share/collectors/liveguard/+/+/+/result" if shared else "liveguard/+/+/+/result"
    client, _, _ = session(broker.port, "facts-collector", topic)
    client.disconnect()
    client.loop_stop()
    broker.stop()
    broker.start()
    publish_once(broker.port, "liveguard/lab/cam-1/s1/result")  # a box is back before the collector
    client, received, present = session(broker.port, "facts-collector", None)
    time.sleep(1.5)
    client.disconnect()
    client.loop_stop()
    assert present, "the session itself survives the restart"
    assert (received == ["liveguard/lab/cam-1/s1/result"]) is kept, received


def test_a_shared_group_keeps_handing_an_absent_persistent_member_its_share(broker):
    """Why a killed fusion worker must come back (systemd restarts it): until then, or until its session
    expires, every other new evidence waits in its session instead of going to the workers still there."""
    present, got_present, _ = session(broker.port, "facts-worker-1", "$share/fusion/liveguard/+/+/+/evidence")
    absent, _, _ = session(broker.port, "facts-worker-2", "$share/fusion/liveguard/+/+/+/evidence")
    absent.disconnect()
    absent.loop_stop()
    for _ in range(10):
        publish_once(broker.port, "liveguard/lab/cam-1/s1/evidence")
    time.sleep(1.0)
    back, got_back, _ = session(broker.port, "facts-worker-2", None)
    time.sleep(1.5)
    for client in (present, back):
        client.disconnect()
        client.loop_stop()
    assert (len(got_present), len(got_back)) == (5, 5)
