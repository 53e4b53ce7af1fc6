"""Load on the centre: M simulated boxes publish to a loopback broker, `liveguard collect` stores what comes.

    .venv/bin/python tools/load_centre.py [--boxes 20] [--rate 1] [--seconds 20] [--burst 2000]
        [--collectors 1 2] [--stores sqlite postgresql] [--broker HOST:PORT] [--postgres URL] [--json]

For every combination of ``--collectors`` and ``--stores`` (default: 1 and 2 collectors, SQLite and
PostgreSQL: four configurations) the tool starts a fresh mosquitto on loopback (the flow-control
settings of configs/mosquitto: 20 in flight, 100000 queued, 1 MiB packets; ``--broker``: use that one),
an empty store (a SQLite file; a database on a throwaway PostgreSQL server with the default durable
settings, or ``--postgres URL``) and the collectors, each a ``liveguard collect`` process with the
default centre.collector settings in one shared-subscription group (``--subscription plain``: each
collector subscribes plainly, gets every document, and the store drops the copies). Then:

steady: each of ``--boxes`` boxes commits ``--rate`` windows per second (evidence, then result, both
valid liveguard.evidence/1 and liveguard.result/1 documents made from one real window of the demo
clip) for ``--seconds``, staggered, plus a stats document every ``--stats-every`` s. A box publishes
the way a real one does: its own outbox file drained by ``edge.transport.MqttPublisher`` (QoS 1).
Reported: documents offered and stored, stored documents per second while the boxes published, how
long the centre took to catch up afterwards, and the end-to-end latency of each result (from the
box's commit of its window to the outbox to the ``stored`` time the collector wrote in the result's
row, p50/p95/p99/max).

burst (``--burst N``, 0: none): N documents committed to the boxes' outboxes while their publishers
are stopped, then every publisher started at once; stored per second is N over the time from that
start until the store held them all: the most this centre sustains.

Both phases together: duplicates are the collectors' ``duplicate:*`` counters (copies the broker sent
again, ignored by the store); lost are the offered ids missing from the store; stored twice counts ids
with more than one row; rejected the store's rejects (all documents here are valid, so any is a bug).
A markdown table goes to stdout (``--json``: then one JSON line with everything); problems seen in
the collectors' and the broker's logs are listed under it. Exit status 1 when anything was lost,
stored twice or rejected, or a collector did not exit cleanly.
"""

from __future__ import annotations

import argparse
import glob
import json
import math
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import psutil
import yaml

from edge import __version__
from edge.centre.documents import classify
from edge.centre.store import Store, open_store
from edge.config.models import BrokerConfig, FusionConfig, StoreConfig
from edge.fusion import create_fusion
from edge.service.snapshot import DaemonSnapshot, StreamSnapshot, SystemSnapshot
from edge.service.stats import stats_document
from edge.transport import MqttPublisher, Outbox, OutboxStats, Topics
from edge.transport.delivery import compact, enqueue_window, stream_level
from edge.transport.subscriber import Delivery

REPO = Path(__file__).resolve().parents[1]
MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
PG_BINS = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
PREFIX = "liveguard"
SITE = "load"
STREAM = "live-1"
PUBLISHER = "edge.transport MqttPublisher + SQLite Outbox per box, QoS 1"
# One window of samples/demo.mp4 as `liveguard run samples/demo.mp4 --evidence DIR` wrote it (2.3 kB on the wire).
TEMPLATE = (
    '{"schema":"liveguard.evidence/1","id":"a8b8c9a4ca53caad0e01ece6eef19675","created_at":"2026-12-01T12:26:13+00:00","dev'
    'ice":{"id":"box-0","site":"site-0"},"stream":{"id":"demo","source":"demo.mp4","video_codec":"h264","audio_codec":"aac"'
    ',"width":540,"height":960,"decode_errors":0},"window":{"start":0.0,"end":10.0},"selection":{"strategy":"A","top_k":1,"'
    'sample_fps":2.0,"sampled_frames":20,"d_min":10.0,"weights":{"w_d":0.7,"w_s":0.3},"detector":"none","whole_frame_fallba'
    'ck":true},"keyframes":[{"frame_index":2,"pts":1.0,"score":{"total":0.3,"detection":0.0,"sharpness":1.0,"quality":null,'
    '"roi_count":0,"whole_frame":true},"products":[],"jpeg_sha256":"4de46941b379f024515057df0a2635dca6b7839d4c069e3e3d9e1b3'
    '2305cf7cd"}],"ocr":{"raw_lines":12,"lines":[{"text":"@MiaLive","confidence":1.0,"box":[84,42,205,70]},{"text":"M","con'
    'fidence":0.9996,"box":[29,56,65,87]},{"text":"8.6k watching","confidence":0.9999,"box":[83,74,200,94]},{"text":"LIVE",'
    '"confidence":0.9998,"box":[[249,58],[299,60],[298,84],[248,82]]},{"text":"AURORA","confidence":0.9999,"box":[148,397,3'
    '93,446]},{"text":"Hydra Glow","confidence":0.9997,"box":[156,481,387,525]},{"text":"Face Cream","confidence":0.9812,"b'
    'ox":[[156,523],[385,525],[385,562],[155,560]]},{"text":"FOR ALL SKIN TYPES","confidence":0.9707,"box":[175,627,366,647'
    ']},{"text":"50 ml","confidence":0.9977,"box":[219,653,321,689]},{"text":"Anna: does it work for dry skin?","confidence'
    '":0.9848,"box":[24,822,354,844]},{"text":"Only \\u00a5129 today","confidence":0.9944,"box":[37,886,340,930]},{"text":"B'
    'uy","confidence":1.0,"box":[[431,891],[486,894],[485,924],[430,921]]}]},"asr":{"backend":"whisper","language":"en","te'
    'xt":"Hi everyone! Today I\'m showing you the Aurora Hydro-Loface Cream 50ml only 120i new and","segments":[[0.11,9.11,0'
    ',87]]},"vl":null,"models":{"ocr":{"name":"rapidocr-3.10.0 PP-OCRv6_det_small+PP-OCRv6_rec_small+ch_ppocr_mobile_v2.0_c'
    'ls_mobile","sha256":"5ff02e508fe41a6f23f2c5fd21718133640e6920c30076bb7b9f377d58c20dd5","precision":"fp32","provider":"'
    'CPUExecutionProvider"},"asr":{"name":"whisper-base","sha256":"d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c0071968'
    '57a0a6a9","precision":"int8","provider":"ctranslate2-cpu"}},"config_hash":"149b59879bfd91bb941b3978e36a76fe1628cd74c2b'
    '90a555c044abe6665bcc3"}'
)
TEMPLATE_DOC: dict[str, Any] = json.loads(TEMPLATE)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(condition: Any, timeout: float, period: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(period)
    return bool(condition())


@dataclass(frozen=True)
class Broker:
    host: str
    port: int
    log: Path | None = None  # the log of a broker this tool started


@contextmanager
def mosquitto(folder: Path) -> Iterator[Broker]:
    """A throwaway mosquitto on a free loopback port, with the deployment's flow control (configs/mosquitto)."""
    if not Path(MOSQUITTO).is_file():
        raise SystemExit("load_centre: needs mosquitto (apt-get install -y mosquitto), or --broker HOST:PORT")
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    # as root, mosquitto would switch to its own user, which cannot enter this tool's 0700 temporary folder
    lines = ["user root"] if os.geteuid() == 0 else []
    lines += [f"listener {port} 127.0.0.1", "allow_anonymous true", "persistence false", "max_inflight_messages 20",
              "max_queued_messages 100000", "max_packet_size 1048576", "log_dest stderr", "log_type error", "log_type warning"]
    (folder / "mosquitto.conf").write_text("\n".join(lines) + "\n", encoding="utf-8")
    log_path = folder / "mosquitto.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen([MOSQUITTO, "-c", str(folder / "mosquitto.conf")], stdout=log, stderr=subprocess.STDOUT)
        try:
            if not wait_until(lambda: process.poll() is not None or _listening(port), 10) or process.poll() is not None:
                raise RuntimeError(f"mosquitto did not start: {log_path.read_text(errors='replace')[-500:]}")
            yield Broker("127.0.0.1", port, log_path)
        finally:
            process.terminate()
            process.wait(10)


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


class PostgresServer:
    """A throwaway PostgreSQL (Debian's binaries) on a free loopback port, durable settings as shipped;
    as root, initdb and the server run as the ``postgres`` user."""

    def __init__(self) -> None:
        if not PG_BINS or not (Path(PG_BINS[-1]) / "pg_ctl").is_file():
            raise SystemExit("load_centre: needs PostgreSQL server binaries (apt-get install -y postgresql), "
                             "or --postgres URL, or --stores sqlite")
        self.bin = Path(PG_BINS[-1])
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="liveguard-load-pg-"))
        os.chmod(self.folder, 0o755)
        self._as_root = os.geteuid() == 0
        if self._as_root:
            shutil.chown(self.folder, "postgres", "postgres")
        self._databases = 0

    def _run(self, *args: str) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if self._as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if done.returncode:
            raise RuntimeError(f"{args[0]} failed ({done.returncode}): {done.stderr.strip()[-500:]}")

    def start(self) -> PostgresServer:
        data = self.folder / "db"
        self._run("initdb", "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C.UTF-8")
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.folder}"
        self._run("pg_ctl", "-D", str(data), "-l", str(self.folder / "server.log"), "-w", "-t", "60", "-o", options, "start")
        return self

    def database(self) -> str:
        """The URL of a new, empty database."""
        import psycopg

        self._databases += 1
        name = f"load{self._databases}"
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/postgres", autocommit=True) as connection:
            connection.execute(f"CREATE DATABASE {name}")
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.folder / "db"), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


class Documents:
    """Valid evidence and result documents for any box and window, from one real window (``template``)."""

    def __init__(self, template: dict[str, Any]) -> None:
        self.template = template
        self.span = float(template["window"]["end"]) - float(template["window"]["start"]) or 10.0
        self._check("evidence", self.evidence("box-000", 0))  # before fusion reads it
        self._result = create_fusion(FusionConfig(mode="local"))(template)  # the box's own fusion, as fusion.mode local
        self._check("result", self.result(self.evidence("box-000", 0)))

    def evidence(self, device: str, index: int) -> dict[str, Any]:
        return {**self.template, "id": uuid.uuid4().hex, "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "device": {"id": device, "site": SITE}, "stream": {**self.template["stream"], "id": STREAM},
                "window": {"start": index * self.span, "end": (index + 1) * self.span}}

    def result(self, evidence: dict[str, Any]) -> dict[str, Any]:
        return {**self._result, "evidence_id": evidence["id"]}

    def window(self, device: str, index: int) -> tuple[dict[str, Any], dict[str, Any]]:
        evidence = self.evidence(device, index)
        return evidence, self.result(evidence)

    @staticmethod
    def _check(kind: str, document: dict[str, Any]) -> None:
        """``document`` passes the collector's own checks (size, schema, topic, identity) on box-000's topic."""
        root = f"{PREFIX}/{SITE}/box-000"
        topic = f"{root}/stats" if kind == "stats" else f"{root}/{stream_level(STREAM)}/{kind}"
        try:
            item = classify(Delivery(topic, compact(document), None, time.time(), False, 0, 0), PREFIX, 1 << 20, 256)
        except (KeyError, TypeError, ValueError) as exc:
            raise SystemExit(f"load_centre: the collector would reject the {kind} document: {exc!r}") from None
        if getattr(item, "reason", None) is not None:
            raise SystemExit(f"load_centre: the collector would reject the {kind} document: {item.reason}")

    def check_stats(self, document: dict[str, Any]) -> None:
        self._check("stats", document)


def stats_for(device: str, started: float, windows: int, outbox: OutboxStats, connected: bool | None, at: int) -> dict[str, Any]:
    """The liveguard.stats/1 document of a box streaming one live stream, made by the daemon's own code."""
    stream = StreamSnapshot(id=STREAM, kind="hls", url="http://load.invalid/live.m3u8", state="streaming", since=started,
                            windows_done=windows)
    return stats_document(DaemonSnapshot(
        version=__version__, device=device, site=SITE, config_hash=TEMPLATE_DOC["config_hash"], started_at=started, now=float(at),
        ready=True, streams=(stream,), outbox=outbox, mqtt_connected=connected, https_ok=None,
        system=SystemSnapshot(cpu_percent=0.0, memory_rss_bytes=0, memory_available_bytes=0, disk_free_bytes=0)))


class Box:
    """One simulated box: its own outbox file, drained by the MQTT publisher a real box runs."""

    def __init__(self, folder: Path, broker: Broker, index: int, phase: str) -> None:
        self.device = f"box-{index:03d}"
        self.topics = Topics(PREFIX, SITE, self.device)
        self.config = BrokerConfig(host=broker.host, port=broker.port, client_id=f"liveguard-{SITE}-{self.device}",
                                   reconnect_min_s=1.0, reconnect_max_s=2.0)
        folder.mkdir(parents=True, exist_ok=True)
        self.outbox = Outbox(folder / f"{self.device}-{phase}.sqlite")
        self.publisher: MqttPublisher | None = None
        self.started = time.time()
        self.windows = 0
        self._stats_at = 0

    def start(self) -> Box:
        self.publisher = MqttPublisher(self.config, self.outbox, self.topics).start()
        return self

    def commit(self, evidence: dict[str, Any], result: dict[str, Any]) -> None:
        enqueue_window(self.outbox, self.topics, evidence, result, STREAM)
        self.windows += 1
        if self.publisher is not None:
            self.publisher.wake()

    def stats(self) -> dict[str, Any]:
        """A stats document as the daemon makes it; its key (site, device, time in seconds) never repeats."""
        self._stats_at = max(int(time.time()), self._stats_at + 1)
        return stats_for(self.device, self.started, self.windows, self.outbox.stats(),
                         self.publisher.connected if self.publisher else None, self._stats_at)

    def publish_stats(self) -> bool:
        document = self.stats()
        return self.publisher is not None and self.publisher.publish_volatile(self.topics.stats, compact(document), document["schema"])

    def close(self) -> None:
        if self.publisher is not None:
            self.publisher.close()
        self.outbox.close()



class CollectorProcess:
    """``liveguard collect`` as a child process, its output in a log file."""

    def __init__(self, folder: Path, config: Path, client_id: str) -> None:
        self.client_id = client_id
        self.log_path = folder / f"{client_id}.log"
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "edge.cli", "collect", "-c", str(config), "--client-id", client_id], cwd=REPO,
            stdout=self._log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.cpu_s: float | None = None
        self.returncode: int | None = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_subscribed(self, timeout: float) -> None:
        if not wait_until(lambda: "subscribed as" in self.log() or self.process.poll() is not None, timeout, 0.1) \
                or self.process.poll() is not None:
            raise RuntimeError(f"collector {self.client_id} did not subscribe: {self.log()[-1000:]}")

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM (the batch in hand is committed and acknowledged) and wait; the exit status (-9: killed)."""
        if self.process.poll() is None:
            try:
                times = psutil.Process(self.process.pid).cpu_times()
                self.cpu_s = times.user + times.system
            except psutil.Error:
                pass
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._log.close()
        self.returncode = self.process.returncode
        return self.returncode

    def totals(self) -> dict[str, int]:
        """The counters of the collector's last line (``collect: stopped; stored:result 40, ...``)."""
        found = re.findall(r"collect: stopped; (.*)", self.log())
        return {key: int(value) for key, value in re.findall(r"([\w:]+) (\d+)", found[-1])} if found else {}


@dataclass
class Phase:
    ids: list[str] = field(default_factory=list)
    published: dict[str, float] = field(default_factory=dict)  # evidence id -> outbox commit time (steady phase)


def rows(store: Store) -> int:
    return store.count("results") + store.count("evidence")


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile; None without values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def problems(texts: list[str], pattern: str) -> list[str]:
    """Distinct lines of ``texts`` matching ``pattern`` (numbers blanked for counting), '(N times) line'."""
    seen: dict[str, tuple[str, int]] = {}
    for text in texts:
        for line in text.splitlines():
            if re.search(pattern, line):
                key = re.sub(r"\d+", "N", line)
                first, times = seen.get(key, (line.strip(), 0))
                seen[key] = (first, times + 1)
    return [f"({times} times) {line}" if times > 1 else line for line, times in seen.values()]


def run_configuration(args: argparse.Namespace, documents: Documents, collectors: int, kind: str, store_url: str,
                      folder: Path) -> dict[str, Any]:
    """One configuration: broker, collectors, steady phase, burst phase; its figures."""
    folder.mkdir(parents=True, exist_ok=True)
    token = uuid.uuid4().hex[:8]
    steady, burst = Phase(), Phase()
    report: dict[str, Any] = {"collectors": collectors, "store": kind}
    with ExitStack() as stack:
        broker = args.broker or stack.enter_context(mosquitto(folder / "broker"))
        store = stack.enter_context(open_store(StoreConfig(url=store_url)))  # migrated before the collectors start
        base_rows, base_counters, base_rejects, base_stats = rows(store), store.counters(), store.count("rejects"), store.count("stats")
        config = folder / "centre.yaml"
        config.write_text(yaml.safe_dump({"centre": {
            "mqtt": {"host": broker.host, "port": broker.port}, "store": {"url": store_url},
            "collector": {"group": f"load-{token}" if args.subscription == "shared" else None},
        }}), encoding="utf-8")
        processes = [CollectorProcess(folder, config, f"load-{token}-{n + 1}") for n in range(collectors)]
        stack.callback(lambda: [p.stop(5) for p in processes if p.returncode is None])
        for process in processes:
            process.wait_subscribed(60)

        # steady: every box commits a window each 1/rate s, staggered; stats every --stats-every s
        boxes = [Box(folder / "boxes", broker, i, "steady").start() for i in range(args.boxes)]
        stack.callback(lambda: [box.close() for box in boxes])
        if not wait_until(lambda: all(box.publisher.connected for box in boxes), 20):
            raise RuntimeError("the boxes did not connect to the broker")
        per_box = max(1, round(args.rate * args.seconds))
        duration = per_box / args.rate
        start = time.time() + 0.1
        events = [(start + (k + i / args.boxes) / args.rate, 0, i, k) for i in range(args.boxes) for k in range(per_box)]
        if args.stats_every > 0:
            events += [(at, 1, i, j) for i in range(args.boxes) for j in range(math.ceil(duration / args.stats_every))
                       if (at := start + (j + i / args.boxes) * args.stats_every) < start + duration]
        events.sort()
        late, stats_offered = 0.0, 0
        while time.time() < start:
            time.sleep(0.01)
        first_rows = rows(store)
        for at, event, i, k in events:
            delay = at - time.time()
            if delay > 0:
                time.sleep(delay)
            else:
                late = max(late, -delay)
            if event == 0:
                evidence, result = documents.window(boxes[i].device, k)
                steady.published[evidence["id"]] = time.time()
                steady.ids.append(evidence["id"])
                boxes[i].commit(evidence, result)
            else:
                stats_offered += boxes[i].publish_stats()
        end = time.time()
        end_rows = rows(store)
        caught_up = wait_until(lambda: rows(store) >= base_rows + 2 * len(steady.ids), args.drain_timeout)
        caught_up_at = time.time()
        for box in boxes:
            box.close()
        boxes.clear()
        report.update(
            offered=2 * len(steady.ids), offered_per_s=2 * len(steady.ids) / duration,
            stored_per_s=(end_rows - first_rows) / (end - start), catch_up_s=caught_up_at - end if caught_up else None,
            late_s=late, stats_offered=stats_offered,
        )

        # burst: the outboxes filled while no publisher runs, then every publisher started at once
        if args.burst > 0:
            windows = math.ceil(args.burst / 2)
            bursting = [Box(folder / "boxes", broker, i, "burst") for i in range(args.boxes)]
            boxes.extend(bursting)
            for n in range(windows):
                box = bursting[n % args.boxes]
                evidence, result = documents.window(box.device, per_box + n // args.boxes)
                burst.ids.append(evidence["id"])
                box.commit(evidence, result)
            target = rows(store) + 2 * windows
            began = time.time()
            for box in bursting:
                box.start()
            done = wait_until(lambda: rows(store) >= target, args.drain_timeout, 0.02)
            took = time.time() - began
            report.update(burst=2 * windows, burst_s=took if done else None, burst_stored_per_s=2 * windows / took if done else None)
            for box in bursting:
                box.close()
            boxes.clear()

        cpu = []
        for process in processes:
            process.stop()
            cpu.append(process.cpu_s)
        results, evidence_keys = store.keys("results"), store.keys("evidence")
        stored_at = store.stored_times()
        counters = store.counters()
        rejected = store.count("rejects") - base_rejects
        stats_stored = store.count("stats") - base_stats
        total_rows = rows(store) - base_rows

    offered = steady.ids + burst.ids
    mine = set(offered)
    stored_results, stored_evidence = mine & set(results), mine & set(evidence_keys)
    latencies = [1000 * (stored_at[key] - at) for key, at in steady.published.items() if key in stored_at]
    delta = {name: value - base_counters.get(name, 0) for name, value in counters.items() if value != base_counters.get(name, 0)}
    shares = [p.totals().get("stored:result", 0) + p.totals().get("stored:evidence", 0) for p in processes]
    logs = [p.log() for p in processes]
    report.update(
        offered_total=2 * len(offered),
        stored_total=len(stored_results) + len(stored_evidence),
        stored_rows=total_rows,
        lost=2 * len(offered) - len(stored_results) - len(stored_evidence),
        lost_ids=sorted((mine - stored_results) | (mine - stored_evidence))[:10],
        stored_twice=(len(results) - len(set(results))) + (len(evidence_keys) - len(set(evidence_keys))),
        duplicates=sum(v for k, v in delta.items() if k.startswith("duplicate:")),
        rejected=rejected,
        stats_stored=stats_stored,
        counters=delta,
        latency_ms={"p50": percentile(latencies, 50), "p95": percentile(latencies, 95), "p99": percentile(latencies, 99),
                    "max": max(latencies, default=None), "mean": statistics.fmean(latencies) if latencies else None,
                    "n": len(latencies)},
        collector_stored=shares,
        collector_cpu_s=cpu,
        collector_exit=[p.returncode for p in processes],
        problems=problems(logs, r"WARNING|ERROR|CRITICAL|Traceback")
        + [f"broker: {line}" for line in problems([broker.log.read_text(errors="replace")] if broker.log else [], r"\S")
           if "should not be run as root" not in line],  # the tool's own choice (see mosquitto())
    )
    report["ok"] = (report["lost"] == 0 and report["stored_twice"] == 0 and report["rejected"] == 0
                    and report["stored_rows"] == report["stored_total"] == report["offered_total"]
                    and all(code == 0 for code in report["collector_exit"]))
    return report


def _f(value: float | None, digits: int = 0) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def table(reports: list[dict[str, Any]]) -> str:
    names = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
    lines = ["| collectors | store | offered | stored | offered/s | stored/s | catch-up s | p50 ms | p95 ms | p99 ms | max ms "
             "| duplicates | lost | stored twice | rejected | burst docs | burst stored/s |",
             "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in reports:
        lat = r["latency_ms"]
        lines.append(
            f"| {r['collectors']} | {names.get(r['store'], r['store'])} | {r['offered_total']} | {r['stored_total']} "
            f"| {r['offered_per_s']:.1f} | {r['stored_per_s']:.1f} | {_f(r['catch_up_s'], 2)} | {_f(lat['p50'])} | {_f(lat['p95'])} "
            f"| {_f(lat['p99'])} | {_f(lat['max'])} | {r['duplicates']} | {r['lost']} | {r['stored_twice']} | {r['rejected']} "
            f"| {r.get('burst', 0)} | {_f(r.get('burst_stored_per_s'))} |")
    lines.append("")
    lines.append("offered, stored: evidence + result documents of both phases; offered/s, stored/s: while the boxes published "
                 "(steady); catch-up: from the last window until the store held everything; latency: a result's outbox commit on "
                 "the box to the stored time of its row (steady); duplicates: copies the collectors received again and ignored; "
                 "burst stored/s: the burst's documents, from full outboxes with every publisher started at once, over the time "
                 "until all were stored.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--boxes", type=int, default=20, help="simulated boxes (default 20)")
    parser.add_argument("--rate", type=float, default=1.0, help="windows per second per box; a window is 2 documents (default 1)")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the steady phase (default 20)")
    parser.add_argument("--burst", type=int, default=2000, metavar="DOCS", help="documents of the burst phase (default 2000; 0: none)")
    parser.add_argument("--collectors", type=int, nargs="+", default=[1, 2], help="collector counts to run (default 1 2)")
    parser.add_argument("--stores", nargs="+", choices=["sqlite", "postgresql"], default=["sqlite", "postgresql"])
    parser.add_argument("--subscription", choices=["shared", "plain"], default="shared",
                        help="collectors in one shared-subscription group (split the load; default) or plain "
                        "(centre.collector.group null: each collector gets everything, the store drops the copies)")
    parser.add_argument("--stats-every", type=float, default=5.0, help="seconds between a box's stats documents (0: none)")
    parser.add_argument("--broker", metavar="HOST:PORT", help="an MQTT v5 broker to use (default: a throwaway mosquitto per configuration)")
    parser.add_argument("--postgres", metavar="URL", help="a PostgreSQL database to use (default: a throwaway server, a database each)")
    parser.add_argument("--template", type=Path, help="a saved liveguard.evidence/1 file to copy (default: a window of the demo clip)")
    parser.add_argument("--drain-timeout", type=float, default=60.0, help="seconds to wait for the store to hold everything")
    parser.add_argument("--workdir", type=Path, help="keep the stores, outboxes and logs here (default: a temporary folder, removed)")
    parser.add_argument("--json", action="store_true", help="also print one JSON line with every figure")
    args = parser.parse_args(argv)
    if args.boxes < 1 or args.rate <= 0 or args.seconds <= 0 or args.burst < 0 or any(n < 1 for n in args.collectors):
        parser.error("--boxes, --rate, --seconds and --collectors must be positive, --burst not negative")
    if args.stats_every and args.stats_every < 1:
        parser.error("--stats-every: at least 1 s (a stats document is keyed by its second)")
    if args.broker:
        host, _, port = args.broker.rpartition(":")
        args.broker = Broker(host or "127.0.0.1", int(port))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # through the finally blocks: no collector or server left behind

    template = json.loads(args.template.read_text(encoding="utf-8")) if args.template else TEMPLATE_DOC
    documents = Documents(template)
    documents.check_stats(stats_for("box-000", time.time(), 0, OutboxStats(0, 0, None, 0, 0, {}), True, int(time.time())))
    began = time.monotonic()
    reports = []
    with ExitStack() as stack:
        if args.workdir:
            workdir = args.workdir.resolve()
            workdir.mkdir(parents=True, exist_ok=True)
        else:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="liveguard-load-")))
        postgres: PostgresServer | None = None
        if "postgresql" in args.stores and not args.postgres:
            postgres = PostgresServer()
            stack.callback(postgres.stop)
            postgres.start()
        for kind in args.stores:
            for collectors in args.collectors:
                if kind == "sqlite":
                    url = f"sqlite:///{workdir / f'{kind}-{collectors}' / 'centre.sqlite'}"
                else:
                    url = args.postgres or postgres.database()  # type: ignore[union-attr]
                print(f"load_centre: {collectors} collector(s), {kind} ...", file=sys.stderr, flush=True)
                reports.append(run_configuration(args, documents, collectors, kind, url, workdir / f"{kind}-{collectors}"))
    elapsed = time.monotonic() - began
    per_box = max(1, round(args.rate * args.seconds))
    evidence, result = documents.window("box-000", 0)
    server = f"PostgreSQL {Path(PG_BINS[-1]).parent.name} on loopback, durable defaults (fsync, synchronous_commit on)" if PG_BINS else ""
    stores = {"sqlite": "SQLite (WAL, synchronous=FULL, as the store sets it)", "postgresql": args.postgres or server}
    subscription = "one shared-subscription group" if args.subscription == "shared" else "plain subscriptions (each gets everything)"
    print(f"Steady: {args.boxes} boxes x {args.rate:g} windows/s x {per_box / args.rate:g} s = {2 * args.boxes * per_box} documents "
          f"(evidence {len(compact(evidence))} B + result {len(compact(result))} B per window), stats every {args.stats_every:g} s; "
          f"burst: {reports[0].get('burst', 0)} documents.\n"
          f"Boxes: {PUBLISHER}. Broker: {'given' if args.broker else 'mosquitto on loopback'}. Collectors: `liveguard collect` "
          f"processes, default centre.collector settings, {subscription}. Stores: "
          f"{'; '.join(stores[kind] for kind in args.stores)}. {os.cpu_count()} CPUs, {elapsed:.0f} s in all.\n")
    print(table(reports))
    for r in reports:
        notes = list(r["problems"])
        if r["late_s"] > 0.5:
            notes.append(f"the tool fell up to {r['late_s']:.1f} s behind its schedule (offered less than stated while late)")
        if r["stats_stored"] != r["stats_offered"]:
            notes.append(f"stats: {r['stats_offered']} sent, {r['stats_stored']} stored")
        if len(r["collector_stored"]) > 1:
            notes.append(f"split between the collectors: {' / '.join(str(n) for n in r['collector_stored'])} documents")
        if not r["ok"]:
            notes.append(f"NOT OK: lost {r['lost']} (e.g. {', '.join(r['lost_ids'][:3])}), rows {r['stored_rows']}, "
                         f"exit status {r['collector_exit']}")
        if notes:
            print(f"\n{r['collectors']} collector(s), {r['store']}:\n" + "\n".join(f"- {note}" for note in notes))
    if args.json:
        print(json.dumps({"boxes": args.boxes, "rate": args.rate, "seconds": args.seconds, "burst": args.burst,
                          "stats_every": args.stats_every, "publisher": PUBLISHER, "cpus": os.cpu_count(),
                          "elapsed_s": round(elapsed, 1), "configurations": reports}))
    return 0 if all(r["ok"] for r in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
