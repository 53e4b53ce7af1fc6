"""Peak memory of `liveguard run` on a 1-minute and a 10-minute clip (the second should be within 10%).

Each clip is the bundled sample looped with ffmpeg (stream copy, so the clips are real encoded
video with speech); each run happens in a fresh process, so its peak RSS is its own.

    .venv/bin/python tools/measure_memory.py [--clip samples/demo.mp4] [--minutes 1 10] [--config FILE]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

_CHILD = """
import json, sys, time
from edge.config import load_config
from edge.pipeline import Pipeline

def peak_mib():
    # VmHWM is this process's own high-water mark; getrusage's ru_maxrss would carry the parent's
    # across fork+exec, so a large parent (a benchmark holding models) would mask the child's peak.
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024

config = load_config(sys.argv[2] if len(sys.argv) > 2 else None)
pipeline = Pipeline(config)
loaded = peak_mib()
start = time.perf_counter()
outcome = pipeline.run(sys.argv[1])
print(json.dumps({
    "peak_rss_mib": peak_mib(),
    "after_load_mib": loaded,
    "seconds": time.perf_counter() - start,
    "sampled_frames": outcome.evidence["selection"]["sampled_frames"],
    "brand": outcome.result["brand"],
}))
"""


def loop_clip(clip: Path, seconds: float, out: Path) -> Path:
    """``clip`` repeated to ``seconds`` by stream copy (no re-encoding)."""
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-stream_loop", "-1", "-i", str(clip), "-t", str(seconds), "-c", "copy", str(out)],
        check=True,
    )
    return out


def measure(clip: Path, config: str | None) -> dict:
    args = [sys.executable, "-c", _CHILD, str(clip)] + ([config] if config else [])
    done = subprocess.run(args, check=True, capture_output=True, text=True, cwd=REPO)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip", type=Path, default=REPO / "samples/demo.mp4")
    parser.add_argument("--minutes", type=float, nargs="+", default=[1.0, 10.0])
    parser.add_argument("--config", help="configuration file (default: built-in defaults)")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for minutes in args.minutes:
            clip = loop_clip(args.clip, minutes * 60, Path(tmp) / f"loop-{minutes:g}min.mp4")
            started = time.perf_counter()
            row = measure(clip, args.config)
            row["minutes"] = minutes
            row["wall_seconds"] = time.perf_counter() - started
            rows.append(row)
            print(
                f"{minutes:>5g} min clip: peak RSS {row['peak_rss_mib']:7.1f} MiB "
                f"(models loaded: {row['after_load_mib']:.1f} MiB), {row['sampled_frames']} sampled frames, "
                f"{row['seconds']:.1f} s",
                flush=True,
            )
    first, last = rows[0]["peak_rss_mib"], rows[-1]["peak_rss_mib"]
    print(f"peak RSS ratio {rows[-1]['minutes']:g} min / {rows[0]['minutes']:g} min: {last / first:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
