"""How many live streams `liveguard serve` keeps up with on this box, and whether its memory stays flat.

Both commands loop a clip (default: the bundled sample, with speech) as a live HLS stream (ffmpeg's HLS
muxer in real time behind a loopback HTTP server), run `liveguard serve` in its own process on the
bundled defaults (plus the streams) and read its /metrics page.

    .venv/bin/python tools/serve_bench.py capacity [--streams 1 2 3 4] [--seconds 240] [--config FILE]
    .venv/bin/python tools/serve_bench.py memory [--minutes 3 30] [--config FILE]

capacity: for each N, N streams of the same source (each decoded separately) for ``--seconds``; per N:
windows made against the windows that ended, the lag between a window's end and its commit, sampled
frames dropped, the process's CPU (percent of all cores) and RSS, and the stage with the most busy
seconds. A box keeps up when every window that ended is committed, the lag stays below a window and
nothing is dropped. memory: one stream; the process's RSS at each listed minute.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psutil
import yaml
from prometheus_client.parser import text_string_to_metric_families

REPO = Path(__file__).resolve().parents[1]
LIVEGUARD = [sys.executable, "-m", "edge.cli"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


@contextlib.contextmanager
def live_hls(clip: Path, folder: Path) -> Iterator[str]:
    """``clip`` looped forever in real time as a live HLS playlist on loopback; yields its URL."""
    folder.mkdir(parents=True, exist_ok=True)
    segmenter = subprocess.Popen(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-re", "-stream_loop", "-1", "-i", str(clip), "-c", "copy", "-f", "hls",
         "-hls_time", "2", "-hls_list_size", "6", "-hls_flags", "delete_segments+omit_endlist", str(folder / "live.m3u8")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    server = ThreadingHTTPServer(("127.0.0.1", _free_port()), functools.partial(_Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while len(list(folder.glob("*.ts"))) < 3 and time.monotonic() < deadline:
            time.sleep(0.2)
        yield f"http://127.0.0.1:{server.server_address[1]}/live.m3u8"
    finally:
        server.shutdown()
        server.server_close()
        segmenter.kill()
        segmenter.wait(10)


@contextlib.contextmanager
def serving(folder: Path, url: str, streams: int, base: Path | None) -> Iterator[tuple[psutil.Process, str, dict[str, Any]]]:
    """`liveguard serve` on ``streams`` copies of ``url``; yields the process, its metrics URL and the config."""
    port = _free_port()
    layer = {
        "service": {"state_dir": str(folder / "state"), "health": {"port": port}, "stats_interval_s": 10.0},
        "transport": {"outbox": {"path": str(folder / "outbox.sqlite")}},
        "streams": [{"id": f"s{i}", "url": url} for i in range(streams)],
    }
    (folder / "bench.yaml").write_text(yaml.safe_dump(layer), encoding="utf-8")
    configs = ([] if base is None else ["-c", str(base)]) + ["-c", str(folder / "bench.yaml")]
    log = open(folder / "serve.log", "wb")
    process = subprocess.Popen([*LIVEGUARD, "serve", *configs], cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    metrics = f"http://127.0.0.1:{port}/metrics"
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and process.poll() is None:
            with contextlib.suppress(OSError):
                urllib.request.urlopen(metrics.replace("/metrics", "/readyz"), timeout=2)
                break
            time.sleep(0.5)
        if process.poll() is not None:
            raise SystemExit(f"serve exited with {process.returncode}: {(folder / 'serve.log').read_text()[-2000:]}")
        yield psutil.Process(process.pid), metrics, layer
    finally:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(60)
        process.kill()
        log.close()


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """``(sample name, labels) -> value`` of every sample on the metrics page."""
    text = urllib.request.urlopen(url, timeout=10).read().decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value for family in text_string_to_metric_families(text) for s in family.samples}


def _per_stream(samples: dict, name: str, **match: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for (sample, labels), value in samples.items():
        d = dict(labels)
        if sample == name and all(d.get(k) == v for k, v in match.items()):
            out[d["stream"]] = out.get(d["stream"], 0.0) + value
    return out


def capacity_run(url: str, streams: int, seconds: float, base: Path | None, window_s: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="lg-capacity-") as tmp, serving(Path(tmp), url, streams, base) as (proc, metrics, _):
        first = scrape(metrics)
        cpu0, wall0 = proc.cpu_times(), time.monotonic()
        children0 = sum(c.cpu_times().user + c.cpu_times().system for c in proc.children(recursive=True))
        lags: list[float] = []
        rss = 0
        while time.monotonic() - wall0 < seconds:
            time.sleep(5)
            samples = scrape(metrics)
            lags += [v for v in _per_stream(samples, "liveguard_stream_lag_seconds").values() if v > 0]
            rss = max(rss, proc.memory_info().rss)
        last = scrape(metrics)
        wall = time.monotonic() - wall0
        cpu1 = proc.cpu_times()
        children1 = sum(c.cpu_times().user + c.cpu_times().system for c in proc.children(recursive=True))
        busy = (cpu1.user + cpu1.system - cpu0.user - cpu0.system) + (children1 - children0)
    windows = {s: last_v - _per_stream(first, "liveguard_stream_windows_total", outcome="ok").get(s, 0.0)
               for s, last_v in _per_stream(last, "liveguard_stream_windows_total", outcome="ok").items()}
    read = _per_stream(last, "liveguard_stream_frames_read_total")
    dropped = _per_stream(last, "liveguard_stream_frames_dropped_total")
    stages: dict[str, float] = {}
    for (sample, labels), value in last.items():
        if sample == "liveguard_stream_stage_seconds_total":
            stage = dict(labels)["stage"]
            stages[stage] = stages.get(stage, 0.0) + value - first.get((sample, labels), 0.0)
    ended = wall / window_s  # windows that ended per stream during the measurement
    total_dropped, total_read = sum(dropped.values()), sum(read.values())
    result = {
        "streams": streams,
        "seconds": round(wall, 1),
        "windows_per_stream": round(sum(windows.values()) / max(1, streams), 2),
        "windows_ended_per_stream": round(ended, 2),
        "lag_s_mean": round(sum(lags) / len(lags), 2) if lags else None,
        "lag_s_max": round(max(lags), 2) if lags else None,
        "frames_dropped_ratio": round(total_dropped / max(1.0, total_read + total_dropped), 4),
        "cpu_percent_of_box": round(100 * busy / wall / (os.cpu_count() or 1), 1),
        "rss_mib_max": round(rss / 2**20, 1),
        "busiest_stage": max(stages, key=stages.get) if stages else None,
        "stage_busy_s": {k: round(v, 1) for k, v in sorted(stages.items(), key=lambda kv: -kv[1]) if v > 0.05},
    }
    result["keeps_up"] = bool(
        result["windows_per_stream"] >= ended - 1.5 and (result["lag_s_max"] or 0) < window_s and result["frames_dropped_ratio"] < 0.01
    )
    return result


def memory_run(url: str, minutes: list[float], base: Path | None) -> list[dict[str, Any]]:
    marks = sorted(minutes)
    out = []
    with tempfile.TemporaryDirectory(prefix="lg-memory-") as tmp, serving(Path(tmp), url, 1, base) as (proc, metrics, _):
        start = time.monotonic()
        for mark in marks:
            while time.monotonic() - start < mark * 60:
                time.sleep(5)
            samples = scrape(metrics)
            windows = sum(_per_stream(samples, "liveguard_stream_windows_total", outcome="ok").values())
            row = {"minute": mark, "rss_mib": round(proc.memory_info().rss / 2**20, 1), "windows": int(windows)}
            out.append(row)
            print(json.dumps(row), flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    cap = commands.add_parser("capacity", help="N looping live streams per run: does the box keep up?")
    cap.add_argument("--streams", type=int, nargs="+", default=[1, 2, 3, 4])
    cap.add_argument("--seconds", type=float, default=240.0, help="measured seconds per N (after the models load)")
    mem = commands.add_parser("memory", help="RSS of the daemon on one looping stream at each listed minute")
    mem.add_argument("--minutes", type=float, nargs="+", default=[3.0, 30.0])
    for sub in (cap, mem):
        sub.add_argument("--clip", type=Path, default=REPO / "samples" / "demo.mp4")
        sub.add_argument("--config", type=Path, help="a configuration layer under the benchmark's (default: bundled defaults)")
    args = parser.parse_args(argv)
    # SIGTERM ends the benchmark through its finally blocks, so that no daemon or segmenter is left behind
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if shutil.which("ffmpeg") is None:
        raise SystemExit("serve_bench: needs the ffmpeg CLI (apt-get install -y ffmpeg)")
    from edge.config import load_config

    window_s = (load_config([args.config]) if args.config else load_config(None)).windows.window_s
    with tempfile.TemporaryDirectory(prefix="lg-hls-") as tmp, live_hls(args.clip, Path(tmp)) as url:
        if args.command == "capacity":
            rows = []
            for n in args.streams:
                row = capacity_run(url, n, args.seconds, args.config, window_s)
                rows.append(row)
                print(json.dumps(row), flush=True)
            fits = [r["streams"] for r in rows if r["keeps_up"]]
            print(json.dumps({"capacity_streams": max(fits) if fits else 0, "cpu_count": os.cpu_count(), "window_s": window_s}))
        else:
            rows = memory_run(url, args.minutes, args.config)
            first, last = rows[0]["rss_mib"], rows[-1]["rss_mib"]
            print(json.dumps({"rss_growth_percent": round(100 * (last - first) / first, 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
