"""Synthetic frames and crops for export tests (no image data ships with the repository)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from export.frames import block_frames  # noqa: F401  (re-exported for the tests)

SIZE = 96  # input side of the variant tests' models


def write_frames(folder: Path, frames: list[np.ndarray]) -> Path:
    """Save ``frames`` as PNG files in ``folder`` (created); returns it."""
    folder.mkdir(parents=True, exist_ok=True)
    for i, frame in enumerate(frames):
        cv2.imwrite(str(folder / f"{i:04d}.png"), frame)
    return folder
