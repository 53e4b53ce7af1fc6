"""Prometheus metrics of the daemon, computed from one :class:`DaemonSnapshot` per scrape.

A custom collector instead of Counter/Gauge objects updated along the way: every scrape takes one
snapshot and derives every metric from it, so /metrics, /healthz and the stats topic never disagree.
It lives in its own :class:`CollectorRegistry` (no process/gc collectors: this process's memory is
``liveguard_process_resident_memory_bytes``), so the page holds ``liveguard_*`` families only.
Counters end in ``_total``; per-stream families carry the labels ``stream`` and ``kind``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import get_args

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily, Metric
from prometheus_client.registry import Collector

from edge.service.snapshot import DaemonSnapshot, StreamState
from edge.transport.wire import KEYFRAME_COMMAND, REPLY_OUTCOMES, REQUEST_DROPS

STREAM_STATES: tuple[str, ...] = get_args(StreamState)
DROP_REASONS = ("max_rows", "max_bytes", "max_age")  # always exported (0 until the first drop), so rate() works
_STREAM = ["stream", "kind"]


class DaemonCollector(Collector):
    """Yields every ``liveguard_*`` family from ``snapshot_fn()``, called once per scrape.

    An exception in ``snapshot_fn`` propagates to the scrape (the health server answers 500 with it).
    """

    def __init__(self, snapshot_fn: Callable[[], DaemonSnapshot]) -> None:
        self._snapshot_fn = snapshot_fn

    def describe(self) -> list[Metric]:
        return []  # registering must not take a snapshot

    def collect(self) -> Iterator[Metric]:
        yield from families(self._snapshot_fn())


def registry(snapshot_fn: Callable[[], DaemonSnapshot]) -> CollectorRegistry:
    """A registry holding only the daemon's collector."""
    reg = CollectorRegistry(auto_describe=False)
    reg.register(DaemonCollector(snapshot_fn))
    return reg


def render(snapshot_fn: Callable[[], DaemonSnapshot]) -> bytes:
    """The Prometheus text exposition (format 0.0.4) of one snapshot."""
    return generate_latest(registry(snapshot_fn))


def families(s: DaemonSnapshot) -> list[Metric]:
    """Every metric family of snapshot ``s``."""
    build = InfoMetricFamily("liveguard_build", "What runs on this box: version, device, site and configuration hash.",
                             labels=["version", "device", "site", "config_hash"])
    build.add_metric([s.version, s.device, s.site, s.config_hash], {})
    out: list[Metric] = [
        build,
        _gauge("liveguard_ready", "1 when models are loaded and stream workers started.", 1.0 if s.ready else 0.0),
        _gauge("liveguard_start_time_seconds", "Unix time the daemon started.", s.started_at),
        _gauge("liveguard_uptime_seconds", "Seconds since the daemon started.", max(0.0, s.now - s.started_at)),
        CounterMetricFamily("liveguard_reloads", "SIGHUP reloads applied.", value=s.reloads),
        CounterMetricFamily("liveguard_reload_failures", "SIGHUP reloads refused (the running configuration was kept).",
                            value=s.reload_failures),
    ]
    if s.last_progress_age_s is not None:
        out.append(_gauge("liveguard_last_progress_age_seconds", "Seconds since any stream worker last made progress.",
                          s.last_progress_age_s))
    out += _stream_families(s)
    out += _outbox_families(s)
    if s.mqtt_connected is not None:
        out.append(_gauge("liveguard_mqtt_connected", "1 while connected to the MQTT broker.", 1.0 if s.mqtt_connected else 0.0))
    if s.https_ok is not None:
        out.append(_gauge("liveguard_https_ok", "1 when the HTTPS sink's last attempt delivered its document.",
                          1.0 if s.https_ok else 0.0))
    out += _keyframe_families(s)
    out += _system_families(s)
    return out


def _keyframe_families(s: DaemonSnapshot) -> list[Metric]:
    out: list[Metric] = []
    store = s.keyframes
    if store is not None:
        out += [
            _gauge("liveguard_keyframes_files", "Keyframe JPEGs the box holds for the centre to fetch.", store.files),
            _gauge("liveguard_keyframes_bytes", "Bytes of those JPEGs.", store.bytes),
            CounterMetricFamily("liveguard_keyframes_written", "Keyframe JPEGs written.", value=store.written),
            CounterMetricFamily("liveguard_keyframes_rotated", "Oldest keyframe JPEGs removed at a bound.", value=store.rotated),
            CounterMetricFamily("liveguard_keyframes_write_failures", "Windows whose keyframes could not be written "
                                "(their documents were committed).", value=store.failed),
            CounterMetricFamily("liveguard_keyframes_corrupt", "Keyframe files whose content no longer matched their "
                                "sha256 (removed).", value=store.corrupt),
        ]
    commands = s.commands
    if commands is not None:
        replies = CounterMetricFamily("liveguard_command_replies", "Requests to the box answered, by command and outcome.",
                                      labels=["command", "outcome"])
        for outcome in sorted(set(REPLY_OUTCOMES) | set(commands.replies)):
            replies.add_metric([KEYFRAME_COMMAND, outcome], commands.replies.get(outcome, 0))
        dropped = CounterMetricFamily("liveguard_command_dropped", "Requests to the box not answered, by command and reason.",
                                      labels=["command", "reason"])
        for reason in sorted(set(REQUEST_DROPS) | set(commands.dropped)):
            dropped.add_metric([KEYFRAME_COMMAND, reason], commands.dropped.get(reason, 0))
        out += [_gauge("liveguard_command_connected", "1 while the command responder is connected to the broker.",
                       1.0 if commands.connected else 0.0), replies, dropped]
    return out


def _stream_families(s: DaemonSnapshot) -> list[Metric]:
    state = GaugeMetricFamily("liveguard_stream_state", "1 for the state the stream is in, 0 for the others.", labels=_STREAM + ["state"])
    since = GaugeMetricFamily("liveguard_stream_state_changed_timestamp_seconds", "Unix time of the stream's last state change.",
                              labels=_STREAM)
    transitions = CounterMetricFamily("liveguard_stream_transitions", "Times the stream entered each state.", labels=_STREAM + ["state"])
    frames = CounterMetricFamily("liveguard_stream_frames_read", "Sampled frames that reached the stream's worker.", labels=_STREAM)
    dropped = CounterMetricFamily("liveguard_stream_frames_dropped", "Sampled frames dropped because the worker was behind.",
                                  labels=_STREAM)
    windows = CounterMetricFamily("liveguard_stream_windows", "Windows committed to the outbox, by outcome (ok: a result; "
                                  "failed: an error document).", labels=_STREAM + ["outcome"])
    reconnects = CounterMetricFamily("liveguard_stream_reconnects", "Times the stream's source was reopened.", labels=_STREAM)
    fps = GaugeMetricFamily("liveguard_stream_fps", "Sampled frames per second over the last window.", labels=_STREAM)
    lag = GaugeMetricFamily("liveguard_stream_lag_seconds", "Seconds between the last window's end and the commit of its documents.",
                            labels=_STREAM)
    frame_age = GaugeMetricFamily("liveguard_stream_last_frame_age_seconds", "Seconds since the stream's last frame "
                                  "(absent before the first one).", labels=_STREAM)
    stages = CounterMetricFamily("liveguard_stream_stage_seconds", "Busy seconds per pipeline stage of the stream (which "
                                 "stage limits a box: the one whose rate nears its cores).", labels=_STREAM + ["stage"])
    for st in s.streams:
        key = [st.id, st.kind]
        for stage, seconds in st.stage_seconds.items():
            stages.add_metric(key + [stage], seconds)
        for name in STREAM_STATES:
            state.add_metric(key + [name], 1.0 if st.state == name else 0.0)
            transitions.add_metric(key + [name], st.transitions.get(name, 0))
        since.add_metric(key, st.since)
        frames.add_metric(key, st.frames_read)
        dropped.add_metric(key, st.frames_dropped)
        windows.add_metric(key + ["ok"], st.windows_done)
        windows.add_metric(key + ["failed"], st.windows_failed)
        reconnects.add_metric(key, st.reconnects)
        fps.add_metric(key, st.fps)
        lag.add_metric(key, st.lag_s)
        if st.last_frame_age_s is not None:
            frame_age.add_metric(key, st.last_frame_age_s)
    return [state, since, transitions, frames, dropped, windows, reconnects, fps, lag, frame_age, stages]


def _outbox_families(s: DaemonSnapshot) -> list[Metric]:
    box = s.outbox
    dropped = CounterMetricFamily("liveguard_outbox_dropped", "Messages the outbox dropped at a bound, by reason.", labels=["reason"])
    for reason in sorted(set(DROP_REASONS) | set(box.dropped)):
        dropped.add_metric([reason], box.dropped.get(reason, 0))
    return [
        _gauge("liveguard_outbox_messages", "Messages waiting in the outbox.", box.depth),
        _gauge("liveguard_outbox_bytes", "Payload bytes waiting in the outbox.", box.bytes),
        _gauge("liveguard_outbox_oldest_age_seconds", "Age of the oldest waiting message (0 when the outbox is empty).",
               box.oldest_age_s or 0.0),
        _gauge("liveguard_outbox_parked_messages", "Messages a receiver refused, kept aside and never resent.", box.parked),
        CounterMetricFamily("liveguard_outbox_sent", "Messages a receiver acknowledged (deleted from the outbox).", value=box.sent),
        dropped,
    ]


def _system_families(s: DaemonSnapshot) -> list[Metric]:
    sysm = s.system
    temperature = GaugeMetricFamily("liveguard_system_temperature_celsius", "Board temperatures by sensor.", labels=["sensor"])
    for sensor, celsius in sorted(sysm.temperatures_c.items()):
        temperature.add_metric([sensor], celsius)
    return [
        _gauge("liveguard_system_cpu_ratio", "CPU utilisation of the box since the previous snapshot, 0 to 1 (all cores).",
               sysm.cpu_percent / 100.0),
        _gauge("liveguard_process_resident_memory_bytes", "Resident memory of the daemon's process.", sysm.memory_rss_bytes),
        _gauge("liveguard_system_memory_available_bytes", "Memory available to new processes on the box.", sysm.memory_available_bytes),
        _gauge("liveguard_system_disk_free_bytes", "Free bytes on the file system of the state directory.", sysm.disk_free_bytes),
        temperature,
    ]


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)
