"""What an exported model file and the edge agree on beyond its tensors: input preparation and metadata.

``export/`` prepares calibration and accuracy-report inputs with these functions and writes the
metadata keys, so what it measures is what the box will see (DESIGN.md, model contracts). The
tensor signatures themselves are checked by each model (:mod:`edge.detect`, :mod:`edge.score`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import cv2
import numpy as np

from edge.errors import ModelError

# D-FINE, official export contract: RGB frames plainly resized to S×S in [0, 1], plus each frame's (w, h).
DFINE_INPUT_NAMES = ("images", "orig_target_sizes")
DFINE_OUTPUT_NAMES = ("labels", "boxes", "scores")

# Quality regressor: ImageNet-normalised RGB crops; the raw-score range travels in the file's metadata.
QUALITY_MIN_KEY = "liveguard.quality.min"
QUALITY_MAX_KEY = "liveguard.quality.max"
IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


def preprocess_frames(images: Sequence[np.ndarray], size: int) -> np.ndarray:
    """D-FINE input: BGR uint8 frames -> float32 [N,3,size,size]: RGB, plain bilinear resize, [0, 1]."""
    blob = np.empty((len(images), 3, size, size), dtype=np.float32)
    for i, image in enumerate(images):
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8 or 0 in image.shape:
            raise ValueError(f"frame {i}: expected a BGR uint8 array (H, W, 3), got {image.dtype} {image.shape}")
        resized = cv2.resize(image, (size, size), interpolation=cv2.INTER_LINEAR)
        blob[i] = cv2.cvtColor(resized, cv2.COLOR_BGR2RGB).transpose(2, 0, 1)
    blob /= 255.0
    return blob


def preprocess_crops(crops: Sequence[np.ndarray], size: int) -> np.ndarray:
    """Quality input: BGR uint8 crops -> float32 [N,3,size,size]: bilinear resize, RGB, ImageNet mean/std."""
    blob = np.empty((len(crops), size, size, 3), dtype=np.float32)
    for i, crop in enumerate(crops):
        if crop.ndim != 3 or crop.shape[2] != 3 or crop.dtype != np.uint8 or 0 in crop.shape:
            raise ValueError(f"crop {i}: expected a BGR uint8 array (H, W, 3), got {crop.dtype} {crop.shape}")
        blob[i] = cv2.cvtColor(cv2.resize(crop, (size, size), interpolation=cv2.INTER_LINEAR), cv2.COLOR_BGR2RGB)
    blob = (blob / 255.0 - IMAGENET_MEAN) / IMAGENET_STD
    return np.ascontiguousarray(blob.transpose(0, 3, 1, 2), dtype=np.float32)


def read_range(path: Path, metadata: Mapping[str, str]) -> tuple[float, float]:
    """The (min, max) of the quality regressor's raw output in ``metadata``, checked finite and ordered.

    ``metadata`` is an ONNX file's (:func:`edge.runtime.graph.graph_metadata`) or a pack entry's.
    """
    bounds = []
    for key in (QUALITY_MIN_KEY, QUALITY_MAX_KEY):
        if key not in metadata:
            raise ModelError(str(path), f"missing metadata key '{key}' (the raw-score range that maps Q to [0, 1])")
        try:
            value = float(metadata[key])
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise ModelError(str(path), f"metadata key '{key}' is not a finite number: {metadata[key]!r}")
        bounds.append(value)
    low, high = bounds
    if high <= low:
        raise ModelError(str(path), f"metadata range is empty: {QUALITY_MIN_KEY}={low} >= {QUALITY_MAX_KEY}={high}")
    return low, high


def crop_xyxy(image: np.ndarray, xyxy: np.ndarray) -> list[np.ndarray]:
    """The crops of boxes ``xyxy`` (pixels; rounded outward, clipped, at least 1×1): how the edge cuts the
    product ROIs that Strategy B's regressor sees, and so how its training crops must be cut."""
    h, w = image.shape[:2]
    crops = []
    for x1, y1, x2, y2 in xyxy:
        left = min(max(int(np.floor(x1)), 0), w - 1)
        top = min(max(int(np.floor(y1)), 0), h - 1)
        right = max(min(int(np.ceil(x2)), w), left + 1)
        bottom = max(min(int(np.ceil(y2)), h), top + 1)
        crops.append(image[top:bottom, left:right])
    return crops
