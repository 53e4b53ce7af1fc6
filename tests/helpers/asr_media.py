"""Test audio: WAV reading, resampling and the constants the ASR tests share."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

RATE = 16000
BRAND_PHRASE = "Welcome to the live stream. Today we are selling the Samsung Galaxy phone for only ninety nine dollars."
BURSTS = ((1.0, 2.5), (3.7, 5.0))  # seconds of loud noise in a 6 s clip, quiet noise elsewhere


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """Mono float32 samples in [-1, 1] and the rate of a 16-bit PCM WAV file."""
    with wave.open(str(path)) as wav:
        assert wav.getsampwidth() == 2, "expected 16-bit PCM"
        rate, channels = wav.getframerate(), wav.getnchannels()
        pcm = np.frombuffer(wav.readframes(wav.getnframes()), np.int16)
    return pcm.reshape(-1, channels).mean(axis=1).astype(np.float32) / 32768.0, rate


def resample(samples: np.ndarray, rate: int, target: int = RATE) -> np.ndarray:
    """Windowed-sinc low-pass below the target Nyquist, then linear interpolation."""
    if rate == target:
        return samples
    if target < rate:
        cutoff = 0.45 * target / rate  # cycles per input sample
        taps = np.arange(-64, 65)
        kernel = 2 * cutoff * np.sinc(2 * cutoff * taps) * np.hamming(taps.size)
        samples = np.convolve(samples, kernel / kernel.sum(), mode="same")
    positions = np.arange(int(round(samples.size * target / rate))) * rate / target
    return np.interp(positions, np.arange(samples.size), samples).astype(np.float32)
