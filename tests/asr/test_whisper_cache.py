"""The Whisper-base cache: rebuilt from the two PyPI parts once, atomically, then reused."""

from __future__ import annotations

import hashlib
import os
import shutil
import threading
import time
from importlib import resources
from pathlib import Path

import pytest

from edge.asr import whisper_cache
from edge.asr.whisper_cache import CACHE_NAME, MANIFEST, bundled_whisper_model, default_cache_root

pytestmark = pytest.mark.slow  # each build writes 145 MB


def part_paths() -> list[Path]:
    return [Path(str(resources.files(pkg) / "data" / name)) for _, pkg, name in whisper_cache.PARTS]


@pytest.fixture(scope="module")
def parts_sha256() -> str:
    digest = hashlib.sha256()
    for path in part_paths():
        digest.update(path.read_bytes())
    return digest.hexdigest()


@pytest.fixture
def root(tmp_path):
    folder = tmp_path / "cache"
    yield folder
    shutil.rmtree(folder, ignore_errors=True)  # 145 MB a build: do not leave it to pytest's retention


def leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.name != CACHE_NAME)


def test_first_use_concatenates_the_parts(root, parts_sha256):
    model = bundled_whisper_model(root)
    assert model.path == root / CACHE_NAME
    assert model.sha256 == parts_sha256
    assert (model.path / "model.bin").stat().st_size == sum(p.stat().st_size for p in part_paths())
    assert {p.name for p in model.path.iterdir()} == {"model.bin", MANIFEST, *whisper_cache.SIDE_FILES}
    assert leftovers(root) == []


def test_later_uses_reuse_the_cache(root):
    first = bundled_whisper_model(root)
    before = (first.path / "model.bin").stat()
    again = bundled_whisper_model(root)
    after = (again.path / "model.bin").stat()
    assert again == first
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_a_truncated_model_is_rebuilt(root, parts_sha256):
    model = bundled_whisper_model(root)
    with (model.path / "model.bin").open("r+b") as handle:
        handle.truncate(1000)
    rebuilt = bundled_whisper_model(root)
    assert rebuilt.sha256 == parts_sha256
    assert (rebuilt.path / "model.bin").stat().st_size > 100_000_000
    assert leftovers(root) == []


def test_an_outdated_manifest_is_rebuilt(root):
    model = bundled_whisper_model(root)
    manifest = model.path / MANIFEST
    manifest.write_text(manifest.read_text(encoding="utf-8").replace("1.0.0", "0.9.0"), encoding="utf-8")
    before = (model.path / "model.bin").stat().st_ino
    bundled_whisper_model(root)
    assert (model.path / "model.bin").stat().st_ino != before
    assert "0.9.0" not in manifest.read_text(encoding="utf-8")


def test_a_crash_while_building_leaves_no_model(root, monkeypatch):
    def crash(*_):
        raise KeyboardInterrupt  # stands for the process dying between the copy and the rename

    monkeypatch.setattr(whisper_cache, "_write_manifest", crash)
    with pytest.raises(KeyboardInterrupt):
        bundled_whisper_model(root)
    assert not (root / CACHE_NAME).exists()
    assert leftovers(root) == []


def test_stale_staging_folders_are_swept(root):
    stale = root / f".{CACHE_NAME}.killed"
    stale.mkdir(parents=True)
    (stale / "model.bin").write_bytes(b"half")
    old = time.time() - 2 * whisper_cache.STALE_SECONDS
    os.utime(stale, (old, old))
    bundled_whisper_model(root)
    assert leftovers(root) == []


def test_concurrent_first_uses_agree(root, parts_sha256):
    results, errors = [], []

    def build():
        try:
            results.append(bundled_whisper_model(root))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=build) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert [r.sha256 for r in results] == [parts_sha256, parts_sha256]
    assert leftovers(root) == []


def test_cache_root_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("LIVEGUARD_CACHE_DIR", str(tmp_path / "elsewhere"))
    assert default_cache_root() == tmp_path / "elsewhere"
    monkeypatch.delenv("LIVEGUARD_CACHE_DIR")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_cache_root() == tmp_path / ".cache" / "liveguard"
