"""The wheel carries the bundled models, so a plain `pip install` (the Jetson image) runs them by default."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]


def test_the_wheel_holds_the_bundled_models_and_their_pack(tmp_path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(REPO)],
                   check=True, cwd=tmp_path)
    (wheel,) = tmp_path.glob("liveguard-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    pack = yaml.safe_load((REPO / "edge/bundled/manifest.yaml").read_text())
    files = {f"edge/bundled/{entry['file']}" for entry in pack["models"]}
    assert files and files <= names, sorted(files - names)
    assert "edge/bundled/manifest.yaml" in names
    assert not any(name.endswith((".pt", ".engine")) for name in names)
