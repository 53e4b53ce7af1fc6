"""The stats document the daemon publishes every ``service.stats_interval_s`` on ``<root>/stats``.

Derived from one :class:`DaemonSnapshot`, like /metrics, so the two agree. Compact (floats rounded,
streams keyed by id) and free of secrets: no stream URL, token or configuration value, only the
configuration's hash; a password inside a URL that a state's reason quotes is masked.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

from edge.service.snapshot import DaemonSnapshot, StreamSnapshot
from edge.transport.wire import STATS_SCHEMA

REASON_CHARS = 200
# user:password@ inside any URL of a reason (an FFmpeg error may quote the URL it opened)
_URL_PASSWORD = re.compile(r"([a-z][a-z0-9+.-]*://[^/@\s:]*):[^/@\s]*@", re.IGNORECASE)


def stats_document(s: DaemonSnapshot) -> dict[str, Any]:
    """``s`` as the JSON object of schema ``liveguard.stats/1`` (serialise with ``edge.transport.delivery.compact``)."""
    box = s.outbox
    return {
        "schema": STATS_SCHEMA,
        "device": s.device,
        "site": s.site,
        "time": datetime.fromtimestamp(s.now, timezone.utc).isoformat(timespec="seconds"),
        "uptime_s": round(max(0.0, s.now - s.started_at), 1),
        "version": s.version,
        "config_hash": s.config_hash,
        "ready": s.ready,
        "last_progress_age_s": _round(s.last_progress_age_s, 1),
        "reloads": {"applied": s.reloads, "failed": s.reload_failures},
        "system": {
            "cpu_percent": round(s.system.cpu_percent, 1),
            "memory_rss_bytes": s.system.memory_rss_bytes,
            "memory_available_bytes": s.system.memory_available_bytes,
            "disk_free_bytes": s.system.disk_free_bytes,
            "temperatures_c": {label: round(c, 1) for label, c in sorted(s.system.temperatures_c.items())},
        },
        "streams": {st.id: _stream(st, s.now) for st in s.streams},
        "outbox": {
            "depth": box.depth,
            "bytes": box.bytes,
            "oldest_age_s": _round(box.oldest_age_s, 1),
            "sent": box.sent,
            "parked": box.parked,
            "dropped": dict(sorted(box.dropped.items())),
        },
        "transports": {
            "mqtt": None if s.mqtt_connected is None else {"connected": s.mqtt_connected},
            "https": None if s.https_ok is None else {"ok": s.https_ok},
        },
        "keyframes": None if s.keyframes is None else {
            "files": s.keyframes.files, "bytes": s.keyframes.bytes, "written": s.keyframes.written,
            "rotated": s.keyframes.rotated, "failed": s.keyframes.failed, "corrupt": s.keyframes.corrupt,
        },
        "commands": None if s.commands is None else {
            "connected": s.commands.connected, "replies": dict(sorted(s.commands.replies.items())),
            "dropped": dict(sorted(s.commands.dropped.items())),
        },
    }


def _stream(st: StreamSnapshot, now: float) -> dict[str, Any]:
    return {
        "kind": st.kind,
        "state": st.state,
        "state_age_s": round(max(0.0, now - st.since), 1),
        "reason": _URL_PASSWORD.sub(r"\1:***@", " ".join(st.reason.split()))[:REASON_CHARS],
        "fps": round(st.fps, 2),
        "lag_s": round(st.lag_s, 3),
        "last_frame_age_s": _round(st.last_frame_age_s, 1),
        "frames": {"read": st.frames_read, "dropped": st.frames_dropped},
        "windows": {"done": st.windows_done, "failed": st.windows_failed},
        "reconnects": st.reconnects,
        "transitions": dict(sorted(st.transitions.items())),
    }


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)
