"""What the daemon knows about itself at one instant: the single input of the health endpoint,
the Prometheus metrics and the stats topic, so that the three never disagree."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from edge.service.keyframes import KeyframeStats
from edge.transport.outbox import OutboxStats
from edge.transport.wire import CommandStats

# The states a stream's worker moves through (a transition is logged and counted).
StreamState = Literal["starting", "connecting", "streaming", "reconnecting", "stalled", "idle", "ended", "failed", "stopped"]


@dataclass(frozen=True)
class StreamSnapshot:
    """One stream as its worker last reported it. Counters only ever grow while the daemon runs."""

    id: str
    kind: str  # file | folder | rtsp | rtmp | http-flv | hls
    url: str  # credentials masked
    state: StreamState
    since: float  # time.time() of the last state change
    reason: str = ""  # why the state last changed (the error, "end of stream", ...)
    frames_read: int = 0  # sampled frames that reached the worker
    frames_dropped: int = 0  # sampled frames dropped because the worker was behind (counted, never silent)
    windows_done: int = 0  # windows whose documents are committed to the outbox
    windows_failed: int = 0  # windows that produced an error document instead of a result
    reconnects: int = 0
    transitions: dict[str, int] = field(default_factory=dict)  # state -> times entered
    fps: float = 0.0  # sampled frames per second over the last window
    lag_s: float = 0.0  # wall seconds between a window's end and its documents' commit, last window
    last_frame_age_s: float | None = None  # seconds since the last frame; None before the first one
    stage_seconds: dict[str, float] = field(default_factory=dict)  # stage (detect, score, ocr, asr, fusion) -> busy seconds


@dataclass(frozen=True)
class SystemSnapshot:
    """The box: load and resources (psutil); temperatures where the board exposes them."""

    cpu_percent: float
    memory_rss_bytes: int  # this process
    memory_available_bytes: int
    disk_free_bytes: int  # on the file system of the state directory
    temperatures_c: dict[str, float] = field(default_factory=dict)  # sensor label -> degrees Celsius


@dataclass(frozen=True)
class DaemonSnapshot:
    """The whole daemon: streams, outbox, transports, the box."""

    version: str
    device: str
    site: str
    config_hash: str
    started_at: float  # time.time()
    now: float  # time.time() when taken
    ready: bool  # models loaded, workers started
    streams: tuple[StreamSnapshot, ...]
    outbox: OutboxStats
    mqtt_connected: bool | None  # None: MQTT not enabled
    https_ok: bool | None  # None: HTTPS sink not enabled; else whether the last attempt succeeded
    system: SystemSnapshot
    reloads: int = 0  # SIGHUP reloads applied
    reload_failures: int = 0  # SIGHUP reloads refused (invalid configuration kept out)
    last_progress_age_s: float | None = None  # seconds since any worker last made progress (the watchdog's input)
    keyframes: KeyframeStats | None = None  # None: the keyframe store is off
    commands: CommandStats | None = None  # None: MQTT is off (no requests reach the box)
