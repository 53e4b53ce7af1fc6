"""H.264/AAC encoding through ffmpeg, bit-exact (same frames and audio in, same bytes out)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from livegen.speech import write_wav


def encode(
    frames: Iterable[np.ndarray],
    audio: np.ndarray | None,
    rate: int,
    out: Path,
    *,
    width: int,
    height: int,
    fps: int,
    crf: int = 27,
    maxrate_kbps: int = 1000,
) -> None:
    """Pipe BGR frames (rawvideo) to ffmpeg with a WAV track: H.264 yuv420p + AAC mono, faststart, bit-exact.

    ``audio`` None writes a clip without an audio stream.
    """
    if not shutil.which("ffmpeg"):
        raise FileNotFoundError("ffmpeg not found: apt-get install -y ffmpeg")
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "audio.wav"
        if audio is not None:
            write_wav(wav, audio, rate)
        errlog = Path(tmp) / "ffmpeg.log"
        audio_in = ["-i", str(wav)] if audio is not None else []
        audio_map = ["-map", "1:a:0"] if audio is not None else []
        audio_codec = ["-c:a", "aac", "-b:a", "64k", "-ac", "1"] if audio is not None else ["-an"]
        cmd = [
            "ffmpeg", "-y", "-hide_banner", "-loglevel", "error",
            "-f", "rawvideo", "-pix_fmt", "bgr24", "-s", f"{width}x{height}", "-r", str(fps), "-i", "pipe:0",
            *audio_in,
            "-map", "0:v:0", *audio_map,
            "-c:v", "libx264", "-preset", "medium", "-crf", str(crf), "-maxrate", f"{maxrate_kbps}k", "-bufsize", f"{2 * maxrate_kbps}k",
            "-pix_fmt", "yuv420p", "-g", str(2 * fps), "-threads", "2",
            *audio_codec,
            "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact",
            "-movflags", "+faststart", str(out),
        ]  # fmt: skip
        with open(errlog, "wb") as err:
            proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=err)
            try:
                assert proc.stdin is not None
                for img in frames:
                    if img.shape != (height, width, 3) or img.dtype != np.uint8:
                        raise ValueError(f"frame of shape {img.shape} {img.dtype}, expected ({height}, {width}, 3) uint8")
                    proc.stdin.write(np.ascontiguousarray(img).tobytes())
            except BrokenPipeError:
                pass
            finally:
                if proc.stdin:
                    proc.stdin.close()
                rc = proc.wait()
        if rc != 0:
            raise RuntimeError(f"ffmpeg failed ({rc}) writing {out}: {errlog.read_text(errors='replace').strip()}")


