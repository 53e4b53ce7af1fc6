"""A small benchmark (5 clips of 5 s, seed 2) generated once per test session and shared by the
generator and evaluation tests. Seed 2 covers Chinese and English packaging, both orientations,
clips with and without audio and with and without a final transition card."""

from __future__ import annotations

import shutil
import sys

import pytest
from bench_clips import BENCH_CLIPS, BENCH_SECONDS, BENCH_SEED
from workspace import TOOLS

if str(TOOLS) not in sys.path:  # the tools are scripts, imported as their folder's modules
    sys.path.insert(0, str(TOOLS))


@pytest.fixture(scope="session")
def small_bench(tmp_path_factory):
    """(folder, manifest) of the shared 5-clip benchmark, with COCO frame JPEGs."""
    if not (shutil.which("ffmpeg") and shutil.which("espeak-ng")):
        pytest.skip("needs ffmpeg and espeak-ng")
    from make_benchmark import make_benchmark

    out = tmp_path_factory.mktemp("bench")
    manifest = make_benchmark(out, BENCH_CLIPS, BENCH_SEED, workers=2, duration=BENCH_SECONDS, coco_images=True, log=lambda m: None)
    return out, manifest
