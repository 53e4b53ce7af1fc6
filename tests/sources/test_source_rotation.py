"""Video stored with a rotation (as phones record portrait) is decoded upright, like ffmpeg shows it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from edge.sources import VideoFile
from edge.types import Frame

W, H = 320, 180


def _rotated_copy(src: Path, out: Path, degrees: int) -> Path:
    """Stream-copy ``src`` with a display rotation; the option's name depends on the ffmpeg version."""
    attempts = [
        ["-display_rotation", str(degrees), "-i", str(src), "-c", "copy"],  # ffmpeg ≥ 6
        ["-i", str(src), "-c", "copy", "-metadata:s:v:0", f"rotate={degrees}"],  # ffmpeg 5
    ]
    for args in attempts:
        done = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args, str(out)], capture_output=True)
        if done.returncode == 0:
            return out
    pytest.fail(f"ffmpeg could not write a rotated copy: {done.stderr.decode()}")


def _ffmpeg_first_frame(path: Path) -> np.ndarray:
    """The first frame as the ffmpeg CLI decodes it (it applies the rotation)."""
    raw = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "bgr24", "-"],
        capture_output=True,
        check=True,
    ).stdout
    assert len(raw) == W * H * 3, f"unexpected frame size {len(raw)}"
    ffprobe = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=width,height", "-of", "csv=p=0", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert ffprobe.stdout.strip().startswith(f"{W},{H}")  # stored landscape
    return np.frombuffer(raw, np.uint8).reshape(W, H, 3)  # shown portrait


@pytest.mark.parametrize("degrees", [90, 270])
def test_rotated_video_is_decoded_upright(clips, tmp_path: Path, degrees: int) -> None:
    src = clips.testsrc("rotation-source.mp4", seconds=1.0, size=f"{W}x{H}", fps=10)
    rotated = _rotated_copy(src, tmp_path / f"rot{degrees}.mp4", degrees)
    expected = _ffmpeg_first_frame(rotated)
    with VideoFile(rotated, sample_fps=10) as video:
        first = next(item for item in video if isinstance(item, Frame))
    assert first.image.shape == expected.shape == (W, H, 3)
    assert np.abs(first.image.astype(int) - expected.astype(int)).mean() < 1.0
