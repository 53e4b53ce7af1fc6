"""Synthetic frames and crops for export tests (no image data ships with the repository)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

SIZE = 96  # input side of the variant tests' models


def block_frames(count: int, seed: int, shape: tuple[int, int] = (480, 640), block: int = 16) -> list[np.ndarray]:
    """BGR frames of random colour blocks: edges and flat areas, unlike pure noise."""
    rng = np.random.default_rng(seed)
    h, w = shape
    out = []
    for _ in range(count):
        base = rng.integers(0, 256, (h // block + 1, w // block + 1, 3), dtype=np.uint8)
        out.append(np.ascontiguousarray(np.repeat(np.repeat(base, block, 0), block, 1)[:h, :w]))
    return out


def write_frames(folder: Path, frames: list[np.ndarray]) -> Path:
    """Save ``frames`` as PNG files in ``folder`` (created); returns it."""
    folder.mkdir(parents=True, exist_ok=True)
    for i, frame in enumerate(frames):
        cv2.imwrite(str(folder / f"{i:04d}.png"), frame)
    return folder
