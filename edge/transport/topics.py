"""The topic layout of DESIGN.md: ``<prefix>/<site>/<device>/...``.

Requests to a box (MQTT v5 request/response) come on ``<root>/cmd/<command>``; the box answers only on
a response topic under its own device level, ``<root>/reply/<requester>/<command>``, the one level of
``<root>/#`` its ACL lets it write that a requester (the ACL's ``web`` or ``operator``) may read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from edge.config.models import DeviceConfig, MqttConfig

_LEVEL = re.compile(r"[^/#+$\s]+")


@dataclass(frozen=True)
class Topics:
    """Topic names of one device; every level is checked to hold no MQTT wildcard or separator."""

    prefix: str
    site: str
    device: str

    def __post_init__(self) -> None:
        for name, level in (("site", self.site), ("device", self.device)):
            if not _LEVEL.fullmatch(level):
                raise ValueError(f"{name} id {level!r} cannot be an MQTT topic level (no '/', '#', '+', '$' or spaces)")

    @classmethod
    def of(cls, device: DeviceConfig, mqtt: MqttConfig) -> Topics:
        """The topics of ``device`` under ``mqtt.topic_prefix``."""
        return cls(mqtt.topic_prefix, device.site, device.id)

    @property
    def root(self) -> str:
        return f"{self.prefix}/{self.site}/{self.device}"

    @property
    def status(self) -> str:
        """Retained ``online``/``offline`` document; the last will sets it offline."""
        return f"{self.root}/status"

    @property
    def stats(self) -> str:
        return f"{self.root}/stats"

    def document(self, stream: str, kind: str) -> str:
        """``.../<stream>/evidence`` or ``.../<stream>/result``."""
        if kind not in ("evidence", "result"):
            raise ValueError(f"unknown document kind {kind!r}")
        if not _LEVEL.fullmatch(stream):
            raise ValueError(f"stream id {stream!r} cannot be an MQTT topic level")
        return f"{self.root}/{stream}/{kind}"

    def command(self, name: str) -> str:
        """``.../cmd/<name>``: where requests to this box arrive (``keyframe``)."""
        if not _LEVEL.fullmatch(name):
            raise ValueError(f"command {name!r} cannot be an MQTT topic level")
        return f"{self.root}/cmd/{name}"

    def reply(self, requester: str, name: str) -> str:
        """``.../reply/<requester>/<name>``: the response topic a requester names for ``name``."""
        for what, level in (("requester", requester), ("command", name)):
            if not _LEVEL.fullmatch(level):
                raise ValueError(f"{what} {level!r} cannot be an MQTT topic level")
        return f"{self.root}/reply/{requester}/{name}"

    def requester_of(self, response_topic: str, name: str) -> str | None:
        """The requester of a response topic of this box for ``name``; None for any other topic."""
        head, tail = f"{self.root}/reply/", f"/{name}"
        if not (response_topic.startswith(head) and response_topic.endswith(tail)):
            return None
        requester = response_topic[len(head) : len(response_topic) - len(tail)]
        return requester if _LEVEL.fullmatch(requester) else None
