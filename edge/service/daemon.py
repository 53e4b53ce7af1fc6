"""`liveguard serve`: every configured stream in its own worker, one set of models, one outbox per sink.

The main thread owns the lifecycle: it starts the models, the transports, the workers and the health
endpoint, then loops twice a second to feed the systemd watchdog (only while every worker makes
progress), publish stats, and act on signals. SIGTERM/SIGINT: workers finish and commit their
in-flight windows within ``service.shutdown_s``, then transports close (what is unsent waits in the
outbox). SIGHUP: the configuration files are read again; an invalid set is refused in one line and
the running configuration kept; stream changes restart only the streams that changed, any other
change restarts the daemon's parts in place.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import logging
import os
import signal
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from edge import __version__
from edge.config import Config, load_config
from edge.config.models import StreamConfig
from edge.errors import LiveGuardError
from edge.service.keyframes import KeyframeStore
from edge.service.recognizer import Recognizer, WindowDocuments
from edge.service.snapshot import DaemonSnapshot
from edge.service.worker import StreamWorker
from edge.transport import Outbox, Topics
from edge.transport.delivery import birth_document, compact, enqueue_window
from edge.transport.outbox import OutboxStats

log = logging.getLogger("liveguard.serve")

_TICK_S = 0.5
_CLOSE_S = 5.0
_M_ARENA_MAX = -8  # glibc's mallopt parameter number  # transports: waiting for in-flight acknowledgements at shutdown


def https_outbox_path(mqtt_outbox: Path) -> Path:
    """The HTTPS sink's own outbox beside the MQTT one: each sink deletes a row only on its own acknowledgement."""
    return mqtt_outbox.with_name(f"{mqtt_outbox.stem}-https{mqtt_outbox.suffix}")


class _Parts:
    """What one configuration builds: models, outboxes, transports. Closed as a whole on a full reload."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.outboxes: list[Outbox] = []
        self.mqtt_outbox: Outbox | None = None
        self.mqtt: Any = None
        self.https: Any = None
        self.recognizer: Recognizer | None = None
        self.keyframes: KeyframeStore | None = None
        self.commands: Any = None
        self.topics = Topics.of(config.device, config.transport.mqtt)
        try:
            self.recognizer = Recognizer(config)
            transport = config.transport
            store = config.service.keyframes
            if store.enabled:
                self.keyframes = KeyframeStore(config.service.keyframes_path, store.max_files, int(store.max_mb * 1024 * 1024))
            if transport.mqtt.enabled or not transport.https.enabled:  # no sink at all: documents still kept, durable
                self.mqtt_outbox = self._outbox(transport.outbox.path)
            if transport.mqtt.enabled:
                from edge.transport import MqttPublisher
                from edge.transport.commands import CommandResponder

                birth = birth_document(__version__, self.recognizer.config_hash, self.recognizer.models)
                self.mqtt = MqttPublisher(transport.mqtt, self.mqtt_outbox, self.topics, lambda: birth)
                keyframes = self.keyframes
                lookup = keyframes.get if keyframes is not None else (lambda sha256: None)  # store off: every keyframe not-found
                # on the publisher's connection: one client id per box, which the broker may tie to its user name
                self.commands = CommandResponder(transport.mqtt, self.topics, lookup, self.mqtt.client_id, connection=self.mqtt).start()
                self.mqtt.start()
            if transport.https.enabled:
                from edge.transport.https import HttpsSink

                self.https = HttpsSink(transport.https, self._outbox(https_outbox_path(transport.outbox.path))).start()
        except BaseException:
            self.close()
            raise

    def _outbox(self, path: Path) -> Outbox:
        cfg = self.config.transport.outbox
        outbox = Outbox(path, cfg.max_rows, int(cfg.max_mb * 1024 * 1024), cfg.max_age_s)
        self.outboxes.append(outbox)
        return outbox

    def deliver(self, stream: str, documents: WindowDocuments) -> None:
        """Store the window's keyframes, commit its documents to every sink's outbox (durable on return), wake the senders."""
        commit_window(self.keyframes, self.outboxes, self.topics, stream, documents)
        for sender in (self.mqtt, self.https):
            if sender is not None:
                sender.wake()
        result = documents.result or {}
        log.info("stream %s: window %s committed: %s", stream, documents.evidence["id"],
                 " / ".join(str(result.get(k)) for k in ("brand", "product_name", "price")) if result else "evidence (central fusion)")

    def outbox_stats(self) -> OutboxStats:
        stats = [outbox.stats() for outbox in self.outboxes]
        ages = [s.oldest_age_s for s in stats if s.oldest_age_s is not None]
        dropped: dict[str, int] = {}
        for s in stats:
            for reason, count in s.dropped.items():
                dropped[reason] = dropped.get(reason, 0) + count
        return OutboxStats(sum(s.depth for s in stats), sum(s.bytes for s in stats), max(ages) if ages else None,
                           sum(s.parked for s in stats), sum(s.sent for s in stats), dropped)

    def drain(self, timeout: float) -> None:
        """Give the senders up to ``timeout`` s to send what the last windows committed (a broker that is away is not waited for)."""
        deadline = time.monotonic() + timeout
        for sender in (self.mqtt, self.https):
            if sender is not None:
                sender.drain(max(0.0, deadline - time.monotonic()))

    def close(self) -> None:
        if self.commands is not None:
            try:
                self.commands.close()
            except Exception as exc:  # closing must go on whatever one part does
                log.warning("closing the command responder failed: %s", exc)
            self.commands = None
        for sender in (self.mqtt, self.https):
            if sender is not None:
                try:
                    sender.close(_CLOSE_S)
                except Exception as exc:  # closing must go on whatever one part does
                    log.warning("closing %s failed: %s", type(sender).__name__, exc)
        self.mqtt = self.https = None
        while self.outboxes:
            self.outboxes.pop().close()
        if self.recognizer is not None:
            self.recognizer.close()
            self.recognizer = None


def commit_window(keyframes: KeyframeStore | None, outboxes: Sequence[Outbox], topics: Topics, stream: str,
                  documents: WindowDocuments) -> None:
    """The window's keyframe JPEGs into the store, then its documents into every outbox: a result never names a
    keyframe the box does not hold yet. A store that cannot write (disk full) is logged and counted, and the
    documents are committed anyway: the result matters more than its picture (the centre then hears not-found)."""
    if keyframes is not None and documents.jpegs:
        try:
            keyframes.put_many(documents.jpegs)
        except OSError as exc:
            log.error("stream %s: window %s: keyframes not stored in %s: %s", stream, documents.evidence["id"],
                      keyframes.folder, exc.strerror or exc)
    for outbox in outboxes:
        enqueue_window(outbox, topics, documents.evidence, documents.result, stream=stream)


class Daemon:
    """The daemon of ``paths`` (configuration layers, reread on SIGHUP)."""

    def __init__(self, paths: Sequence[str | Path]) -> None:
        self.paths = [Path(p) for p in paths]
        self.config: Config = load_config(self.paths) if self.paths else Config()
        self.started_at = time.time()
        self.ready = False
        self.reloads = 0
        self.reload_failures = 0
        self._stop = threading.Event()
        self._reload = threading.Event()
        self._parts: _Parts | None = None
        self._workers: dict[str, StreamWorker] = {}
        self._retired: list[StreamWorker] = []  # stopped by a reload, still committing their last windows
        self._health: Any = None
        self._notifier: Any = None
        self._system: Any = None
        self._last_stats = 0.0

    # -- lifecycle -----------------------------------------------------------------------------

    def run(self) -> int:
        """Serve until SIGTERM/SIGINT; returns the exit status."""
        from edge.service.notify import Notifier
        from edge.service.system import SystemProbe

        self._install_signals()
        self._notifier = Notifier.from_env()
        self._system = SystemProbe(self.config.service.state_dir)
        try:
            self._start_parts(self.config)
            self._start_health()
            self.ready = True
            self._notifier.ready(self._status_line())
            log.info("serving %d stream(s) as %s/%s", len(self._workers), self.config.device.site, self.config.device.id)
            self._loop()
        finally:
            self.ready = False
            self._notifier.stopping()
            self._shutdown()
        return 0

    def stop(self) -> None:
        self._stop.set()

    def request_reload(self) -> None:
        self._reload.set()

    def _install_signals(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # tests drive a daemon from a thread through stop() and request_reload()

        def on_stop(signum: int, frame: FrameType | None) -> None:
            self._stop.set()

        def on_hup(signum: int, frame: FrameType | None) -> None:
            self._reload.set()

        signal.signal(signal.SIGTERM, on_stop)
        signal.signal(signal.SIGINT, on_stop)
        signal.signal(signal.SIGHUP, on_hup)

    def _start_parts(self, config: Config) -> None:
        self._parts = _Parts(config)
        for stream in config.streams:
            if stream.enabled:
                self._start_worker(stream)

    def _start_worker(self, stream: StreamConfig) -> None:
        assert self._parts is not None and self._parts.recognizer is not None
        self._workers[stream.id] = StreamWorker(stream, self._parts.config, self._parts.recognizer, self._parts.deliver).start()

    def _start_health(self) -> None:
        health = self.config.service.health
        if not health.enabled:
            return
        from edge.service.health import HealthServer

        self._health = HealthServer(health.host, health.port, self.snapshot).start()
        log.info("health endpoint on %s", self._health.url)

    def _loop(self) -> None:
        interval = self._notifier.watchdog_interval_s()
        last_ping = 0.0
        while not self._stop.wait(_TICK_S):
            if self._reload.is_set():
                self._reload.clear()
                self._apply_reload()
            now = time.monotonic()
            self._retired = [w for w in self._retired if w.alive]
            age = self._progress_age()
            if interval and now - last_ping >= interval / 2 and (age is None or age < interval):
                self._notifier.watchdog()
                last_ping = now
            if now - self._last_stats >= self.config.service.stats_interval_s:
                self._last_stats = now
                self._publish_stats()

    def _shutdown(self) -> None:
        deadline = time.monotonic() + self.config.service.shutdown_s
        self._stop_workers()
        if self._health is not None:
            self._health.close()
            self._health = None
        if self._parts is not None:
            self._parts.drain(max(1.0, deadline - time.monotonic()))
        self._close_parts()

    def _stop_workers(self) -> None:
        """Stop every worker; together they get ``service.shutdown_s`` to commit their in-flight windows."""
        deadline = time.monotonic() + self.config.service.shutdown_s
        workers = [*self._workers.values(), *self._retired]
        for worker in workers:
            worker.stop()
        for worker in workers:
            if not worker.join(max(0.0, deadline - time.monotonic())):
                log.warning("stream %s: still finishing a window after %.0f s; it is not committed",
                            worker.stream.id, self.config.service.shutdown_s)
        self._workers.clear()
        self._retired.clear()

    def _close_parts(self) -> None:
        if self._parts is not None:
            waiting = self._parts.outbox_stats().depth
            self._parts.close()
            if waiting:
                log.info("%d message(s) wait in the outbox for the next start", waiting)
            self._parts = None

    # -- reload --------------------------------------------------------------------------------

    def _apply_reload(self) -> None:
        try:
            config = load_config(self.paths) if self.paths else Config()
        except LiveGuardError as exc:
            self.reload_failures += 1
            log.error("reload refused, running configuration kept: %s", exc)
            return
        old = self.config
        if config == old:
            log.info("reload: configuration unchanged")
            return
        if config.model_copy(update={"streams": []}) == old.model_copy(update={"streams": []}):
            self._reload_streams(old, config)
        else:
            log.info("reload: settings beyond streams changed; restarting models, transports and streams")
            self._stop_workers()
            self._close_parts()
            try:
                self._start_parts(config)
            except LiveGuardError as exc:  # valid YAML, but a model or an outbox cannot be opened: go back
                self.reload_failures += 1
                log.error("reload refused, running configuration kept: %s", exc)
                self._start_parts(old)
                return
        self.config = config
        self.reloads += 1

    def _reload_streams(self, old: Config, new: Config) -> None:
        before = {s.id: s for s in old.streams if s.enabled}
        after = {s.id: s for s in new.streams if s.enabled}
        assert self._parts is not None
        self._parts.config = new
        for stream_id, stream in before.items():
            if after.get(stream_id) != stream:
                worker = self._workers.pop(stream_id)
                worker.stop()
                self._retired.append(worker)  # it commits its open windows in the background
                log.info("reload: stream %s %s", stream_id, "changed" if stream_id in after else "removed")
        for stream_id, stream in after.items():
            if stream_id not in self._workers:
                self._start_worker(stream)
                log.info("reload: stream %s started", stream_id)

    # -- reports -------------------------------------------------------------------------------

    def _progress_age(self) -> float | None:
        """Seconds since the least recently active worker made progress; None without workers."""
        beats = [w.heartbeat for w in self._workers.values() if w.alive]
        return None if not beats else round(time.monotonic() - min(beats), 3)

    def snapshot(self) -> DaemonSnapshot:
        parts = self._parts
        cfg = self.config
        return DaemonSnapshot(
            version=__version__, device=cfg.device.id, site=cfg.device.site,
            config_hash=parts.recognizer.config_hash if parts is not None and parts.recognizer is not None else "",
            started_at=self.started_at, now=time.time(), ready=self.ready and parts is not None,
            streams=tuple(w.snapshot() for w in list(self._workers.values())),
            outbox=parts.outbox_stats() if parts is not None else OutboxStats(0, 0, None, 0, 0, {}),
            mqtt_connected=parts.mqtt.connected if parts is not None and parts.mqtt is not None else None,
            https_ok=parts.https.ok if parts is not None and parts.https is not None else None,
            system=self._system.snapshot(), reloads=self.reloads, reload_failures=self.reload_failures,
            last_progress_age_s=self._progress_age(),
            keyframes=parts.keyframes.stats() if parts is not None and parts.keyframes is not None else None,
            commands=parts.commands.stats() if parts is not None and parts.commands is not None else None,
        )

    def _publish_stats(self) -> None:
        parts = self._parts
        if parts is None or parts.mqtt is None:
            return
        from edge.service.stats import stats_document

        document = stats_document(self.snapshot())
        if not parts.mqtt.publish_volatile(parts.topics.stats, compact(document), document["schema"]):
            log.debug("stats skipped: broker not connected")

    def _status_line(self) -> str:
        return f"streams: {len(self._workers)}; " + json.dumps({w.stream.id: w.snapshot().state for w in self._workers.values()})


def limit_malloc_arenas(arenas: int = 2) -> bool:
    """Cap glibc's malloc arenas before the daemon starts its threads; True if applied.

    glibc gives threads their own arenas, up to 8 per core, and each keeps the memory it once held:
    a daemon whose threads come and go (readers, reconnects, finishers) then grows its RSS in steps
    for its first tens of minutes. Two arenas keep it flat at no measurable cost on a small box
    (MALLOC_ARENA_MAX, when set, is left alone). Not glibc (musl, macOS): nothing to do.
    """
    if "MALLOC_ARENA_MAX" in os.environ:
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return bool(libc.mallopt(_M_ARENA_MAX, arenas))
    except (OSError, AttributeError):
        return False


def serve(paths: Sequence[str | Path]) -> int:
    """Run the daemon of the configuration layers ``paths`` until it is told to stop."""
    limit_malloc_arenas()
    return Daemon(paths).run()
