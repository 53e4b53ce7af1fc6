"""Folders of frames for calibration and held-out accuracy checks, prepared as the edge prepares them.

The paper's inputs are 640×640 detector frames and 224×224 product crops; any image size
works, since frames are resized exactly as the edge runtime resizes them
(:func:`edge.runtime.preprocess_frames`, :func:`edge.runtime.preprocess_crops`), so
calibration and reports see what the box will see.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import cv2
import numpy as np

from edge.runtime import preprocess_crops, preprocess_frames

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")


def image_files(folder: str | Path, limit: int | None = None) -> list[Path]:
    """Image files directly in ``folder``, sorted by name (first ``limit``)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: not a folder of frames")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not files:
        raise FileNotFoundError(f"{folder}: no images ({', '.join(IMAGE_SUFFIXES)})")
    return files[:limit] if limit else files


def read_images(folder: str | Path, limit: int | None = None) -> list[np.ndarray]:
    """BGR uint8 images of ``folder`` (see :func:`image_files`)."""
    images = []
    for path in image_files(folder, limit):
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            raise ValueError(f"{path}: cannot decode the image")
        images.append(image)
    return images


def block_frames(count: int, seed: int, shape: tuple[int, int] = (480, 640), block: int = 16) -> list[np.ndarray]:
    """Synthetic BGR frames of random colour blocks (edges and flat areas, unlike pure noise), for
    checks and benchmarks where no real frames are at hand."""
    rng = np.random.default_rng(seed)
    h, w = shape
    out = []
    for _ in range(count):
        base = rng.integers(0, 256, (h // block + 1, w // block + 1, 3), dtype=np.uint8)
        out.append(np.ascontiguousarray(np.repeat(np.repeat(base, block, 0), block, 1)[:h, :w]))
    return out


def detector_feeds(images: Sequence[np.ndarray], size: int) -> dict[str, np.ndarray]:
    """The D-FINE contract's inputs for BGR frames: ``images`` [N,3,S,S] and (w, h) sizes."""
    sizes = np.array([(image.shape[1], image.shape[0]) for image in images], dtype=np.int64)
    return {"images": preprocess_frames(images, size), "orig_target_sizes": sizes}


def quality_feeds(crops: Sequence[np.ndarray], size: int, input_name: str = "images") -> dict[str, np.ndarray]:
    return {input_name: preprocess_crops(crops, size)}


def batches(items: Sequence[np.ndarray], size: int) -> Iterator[Sequence[np.ndarray]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
