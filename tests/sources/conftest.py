"""Clips for the source tests, encoded once per session by the ffmpeg CLI (real codecs, real muxers).

The "counter" clips encode their frame number in the brightness of the top half
(luma ``16 + 5 * n``) above a moving ``testsrc2`` picture, so a test can tell from the pixels
which source frame a sampled frame is.
"""

from __future__ import annotations

import random
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

COUNTER_STEP = 5  # luma levels per frame in the counter band
COUNTER_ROWS = slice(8, 104)  # rows of the counter band, clear of the band's edge
TONE_HZ = 440

VIDEO_CODECS = {
    "h264": ["-c:v", "libx264", "-preset", "ultrafast", "-crf", "18", "-g", "20"],
    "hevc": ["-c:v", "libx265", "-preset", "ultrafast", "-crf", "20", "-x265-params", "log-level=error"],
    "vp9": ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-crf", "20", "-b:v", "0"],
}
AUDIO_CODECS = {
    "aac": ["-c:a", "aac", "-b:a", "64k"],
    "opus": ["-c:a", "libopus", "-b:a", "48k"],
    "mp3": ["-c:a", "libmp3lame", "-b:a", "64k"],
}


@dataclass
class Clips:
    """Encodes clips on demand into one session folder and remembers them by name."""

    root: Path
    tone_hz: int = TONE_HZ

    @staticmethod
    def counter_at(image: np.ndarray) -> float:
        """The source frame number a decoded BGR image shows (limited-range luma back to ``n``)."""
        gray = float(image[COUNTER_ROWS].mean())
        return gray * 219 / 255 / COUNTER_STEP

    def encode(self, name: str, args: list[str]) -> Path:
        path = self.root / name
        if not path.exists():
            cmd = ["ffmpeg", "-nostdin", "-v", "error", "-y", *args, "-threads", "2", str(path)]
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
            if done.returncode != 0:
                raise RuntimeError(f"ffmpeg failed for {name}: {done.stderr.strip()}")
        return path

    def counter(
        self,
        ext: str = "mp4",
        video: str = "h264",
        audio: str | None = "aac",
        fps: int = 10,
        seconds: float = 4.0,
        drop: tuple[int, int] | None = None,
        width: int = 320,
    ) -> Path:
        """A counter clip; ``drop=(a, b)`` removes frames a..b (a variable-frame-rate gap)."""
        name = f"counter_{video}_{audio}_{fps}_{seconds}_{drop}_{width}.{ext}".replace(" ", "")
        size = f"{width}x120"
        counter = f"geq=lum='16+{COUNTER_STEP}*N':cb=128:cr=128"
        band = f"color=c=black:s={size}:r={fps}:d={seconds},format=yuv420p,{counter}"
        graph = f"{band}[a];testsrc2=s={size}:r={fps}:d={seconds}[b];[a][b]vstack,format=yuv420p"
        if drop is not None:
            graph += f",select='not(between(n\\,{drop[0]}\\,{drop[1]}))'"
        args = ["-filter_complex", graph + "[v]", "-map", "[v]"]
        if drop is not None:
            args += ["-fps_mode", "vfr"]
        args += VIDEO_CODECS[video]
        if audio is not None:
            args = [
                "-f",
                "lavfi",
                "-i",
                f"sine=frequency={TONE_HZ}:sample_rate=44100:duration={seconds}",
            ] + args
            args += ["-map", "0:a", *AUDIO_CODECS[audio]]
        return self.encode(name, args)

    def testsrc(
        self, name: str, seconds: float, size: str = "320x240", fps: int = 25, extra: tuple[str, ...] = ()
    ) -> Path:
        """``testsrc2`` with a 440 Hz tone, H.264/AAC unless ``extra`` says otherwise."""
        args = [
            "-f", "lavfi", "-i", f"testsrc2=size={size}:rate={fps}",
            "-f", "lavfi", "-i", f"sine=frequency={TONE_HZ}:sample_rate=44100",
            "-t", str(seconds), *VIDEO_CODECS["h264"], *AUDIO_CODECS["aac"], *extra,
        ]  # fmt: skip
        return self.encode(name, args)

    def damaged(
        self, source: Path, name: str, fractions: tuple[float, ...], length: int, seed: int = 1
    ) -> Path:
        """A copy of ``source`` with ``length`` seeded random bytes written at each fraction of its size."""
        path = self.root / name
        data = bytearray(source.read_bytes())
        rnd = random.Random(seed)
        for fraction in fractions:
            at = int(len(data) * fraction)
            data[at : at + length] = bytes(rnd.randrange(256) for _ in range(length))
        path.write_bytes(bytes(data))
        return path


@pytest.fixture(scope="session")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Clips:
    if shutil.which("ffmpeg") is None:
        pytest.skip("the ffmpeg CLI is needed to encode test clips (apt install ffmpeg)")
    return Clips(tmp_path_factory.mktemp("clips"))
