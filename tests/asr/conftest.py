"""Fixtures for the ASR tests: synthesised speech, noise-burst audio and tiny FunASR model folders."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import tiny_funasr
from asr_media import BRAND_PHRASE, BURSTS, RATE, read_wav, resample


@pytest.fixture(scope="session")
def brand_speech(tmp_path_factory) -> np.ndarray:
    """The brand phrase spoken by espeak-ng, 16 kHz mono float32."""
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        pytest.skip("espeak-ng is not installed (apt-get install -y espeak-ng); it synthesises the test speech")
    path = tmp_path_factory.mktemp("speech") / "brand.wav"
    subprocess.run([espeak, "-v", "en-us", "-s", "150", "-w", str(path), BRAND_PHRASE], check=True)
    samples, rate = read_wav(path)
    return resample(samples, rate)


@pytest.fixture(scope="session")
def burst_audio() -> np.ndarray:
    """6 s of quiet noise (-80 dBFS) with two loud noise bursts at ``BURSTS``."""
    rng = np.random.default_rng(7)
    audio = rng.normal(0.0, 1e-4, 6 * RATE).astype(np.float32)
    for start, end in BURSTS:
        span = slice(int(start * RATE), int(end * RATE))
        audio[span] += rng.normal(0.0, 0.1, span.stop - span.start).astype(np.float32)
    return audio


@pytest.fixture(scope="session")
def funasr_dirs(tmp_path_factory) -> dict[str, Path]:
    """Tiny model folders: deterministic and random Paraformers, FSMN-VAD, CT-Transformer."""
    root = tmp_path_factory.mktemp("funasr")
    return {
        "asr": tiny_funasr.build_paraformer(root / "paraformer"),
        "asr_random": tiny_funasr.build_paraformer(root / "paraformer-random", table_scale=0.0, projection_scale=1.0),
        "vad": tiny_funasr.build_vad(root / "fsmn-vad"),
        "punc": tiny_funasr.build_punctuation(root / "ct-punc"),
    }


@pytest.fixture
def copy_model(tmp_path):
    """Copy a model folder into this test's tmp dir (to break it without touching the original)."""

    def copy(folder: Path, name: str | None = None) -> Path:
        return Path(shutil.copytree(folder, tmp_path / (name or folder.name)))

    return copy
