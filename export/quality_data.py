"""Crops, split, augmentation and metrics for distilling the quality regressor (paper §3.7.2, Tables 2 and 4).

Inputs are prepared as the edge prepares them (:func:`edge.runtime.preprocess_crops`: bilinear resize
to S×S, RGB, ImageNet mean/std); augmentation acts on the resized uint8 crop in between. The split
is by video, so no clip has crops on both sides (paper §3.7).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import torch

from edge.runtime import preprocess_crops
from export.labels import QualityLabel


def split_by_video(
    labels: Sequence[QualityLabel], val_fraction: float = 0.2, seed: int = 0
) -> tuple[list[QualityLabel], list[QualityLabel]]:
    """(train, validation): a seeded ``val_fraction`` of the videos (at least one each side) and all their crops."""
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction}")
    videos = sorted({label.video for label in labels})
    if len(videos) < 2:
        raise ValueError(f"a split by video needs at least 2 videos, the labels have {len(videos)}")
    order = np.random.default_rng(seed).permutation(len(videos))
    count = min(max(1, round(val_fraction * len(videos))), len(videos) - 1)
    held = {videos[i] for i in order[:count]}
    return [x for x in labels if x.video not in held], [x for x in labels if x.video in held]


@dataclass(frozen=True)
class Augmentation:
    """Table 2's augmentations: horizontal flip (p 0.5), brightness/contrast ±30 % (as albumentations'
    RandomBrightnessContrast(0.3, 0.3): ``x·α + β·255``), Gaussian noise with p 0.2 (σ 3..7 of 255,
    albumentations' GaussNoise default). Off: the crop as the edge sees it."""

    flip: float = 0.5
    brightness: float = 0.3
    contrast: float = 0.3
    noise: float = 0.2
    noise_sigma: tuple[float, float] = (math.sqrt(10.0), math.sqrt(50.0))

    def __call__(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        out = image
        if rng.random() < self.flip:
            out = out[:, ::-1]
        alpha = 1.0 + rng.uniform(-self.contrast, self.contrast)
        beta = rng.uniform(-self.brightness, self.brightness) * 255.0
        work = out.astype(np.float32) * alpha + beta
        if rng.random() < self.noise:
            work += rng.normal(0.0, rng.uniform(*self.noise_sigma), work.shape).astype(np.float32)
        return np.clip(work, 0, 255).astype(np.uint8)


class CropSet(torch.utils.data.Dataset):
    """Labelled crops as (tensor [3,S,S], label) pairs; a key is ``(index, epoch)`` so that each
    epoch's augmentation is a pure function of (seed, epoch, index), also after a resume."""

    def __init__(self, labels: Sequence[QualityLabel], size: int, augment: Augmentation | None = None, seed: int = 0) -> None:
        self.labels = list(labels)
        self.size = size
        self.augment = augment
        self.seed = seed

    def __len__(self) -> int:
        return len(self.labels)

    def image(self, index: int) -> np.ndarray:
        """The crop resized to S×S (BGR uint8), before augmentation."""
        path = self.labels[index].path
        crop = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if crop is None:
            raise ValueError(f"{path}: cannot decode the crop")
        return cv2.resize(crop, (self.size, self.size), interpolation=cv2.INTER_LINEAR)

    def __getitem__(self, key: int | tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
        index, epoch = key if isinstance(key, tuple) else (key, 0)
        image = self.image(index)
        if self.augment is not None:
            image = self.augment(image, np.random.default_rng((self.seed, epoch, index)))
        blob = preprocess_crops([np.ascontiguousarray(image)], self.size)[0]
        return torch.from_numpy(blob), torch.tensor(self.labels[index].label, dtype=torch.float32)


def epoch_batches(count: int, batch_size: int, epoch: int, seed: int) -> list[list[tuple[int, int]]]:
    """The shuffled batches of keys of ``epoch`` (a final batch of one is dropped: BatchNorm needs two)."""
    order = np.random.default_rng((seed, epoch, 0x51)).permutation(count)
    batches = [[(int(i), epoch) for i in order[start : start + batch_size]] for start in range(0, count, batch_size)]
    return [b for b in batches if len(b) > 1] or batches


def regression_metrics(predicted: np.ndarray, target: np.ndarray) -> dict[str, float | None]:
    """Table 4's figures: MSE, MAE, RMSE and the Pearson correlation with the teacher (None if undefined)."""
    predicted, target = np.asarray(predicted, np.float64), np.asarray(target, np.float64)
    error = predicted - target
    mse = float(np.mean(error**2))
    pearson = None
    if len(target) > 1 and np.std(predicted) > 0 and np.std(target) > 0:
        pearson = float(np.corrcoef(predicted, target)[0, 1])
    return {"mse": mse, "mae": float(np.mean(np.abs(error))), "rmse": math.sqrt(mse), "pearson": pearson}
