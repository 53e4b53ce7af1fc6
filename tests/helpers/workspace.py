"""Where the repository's files are, and which external tools this machine has (shared by every suite)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "samples"
DEMO = SAMPLES / "demo.mp4"
TOOLS = REPO / "tools"
CONFIGS = REPO / "configs"

needs_media_tools = pytest.mark.skipif(
    not (shutil.which("ffmpeg") and shutil.which("espeak-ng")),
    reason="needs ffmpeg and espeak-ng (apt-get install -y ffmpeg espeak-ng)",
)
