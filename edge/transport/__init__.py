"""Getting documents off the box: the durable outbox and the MQTT v5 publisher that drains it.

A document is committed to the :class:`Outbox` before anything is sent; the :class:`MqttPublisher`
sends the outbox in order and deletes a row only on a PUBACK with a success reason code. paho's own
in-memory queue dies with the process, so it is never the source of truth.
"""

from edge.transport.outbox import Message, Outbox, OutboxStats
from edge.transport.topics import Topics

__all__ = ["Message", "MqttPublisher", "Outbox", "OutboxStats", "Topics"]


def __getattr__(name: str):
    if name == "MqttPublisher":  # paho is imported only when a publisher is made
        from edge.transport.mqtt import MqttPublisher

        return MqttPublisher
    raise AttributeError(f"module 'edge.transport' has no attribute {name!r}")
