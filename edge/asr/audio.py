"""Checks on the samples handed to a transcriber (float32 mono 16 kHz in [-1, 1])."""

from __future__ import annotations

import numpy as np

SAMPLE_RATE = 16000
MIN_SECONDS = 0.1  # shorter audio is never speech worth reporting (and crashes funasr-onnx under ~25 ms)
SILENCE_PEAK = 1e-3  # -60 dBFS: a chunk whose loudest sample stays below this holds no speech


def as_mono_float32(samples: np.ndarray) -> np.ndarray:
    """The samples as a contiguous 1-D float32 array in [-1, 1] (NaN and inf become 0)."""
    array = np.asarray(samples, dtype=np.float32)
    if array.ndim == 2 and 1 in array.shape:
        array = array.reshape(-1)
    if array.ndim != 1:
        raise ValueError(f"expected mono samples (1-D), got shape {array.shape}")
    array = np.nan_to_num(array, nan=0.0, posinf=1.0, neginf=-1.0)
    return np.ascontiguousarray(np.clip(array, -1.0, 1.0))


def has_speech_candidate(samples: np.ndarray) -> bool:
    """False when the chunk is too short or silent to hold speech, so no model needs to run."""
    if samples.shape[0] < MIN_SECONDS * SAMPLE_RATE:
        return False
    return bool(np.max(np.abs(samples)) >= SILENCE_PEAK)
