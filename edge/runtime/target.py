"""What this box can run: the installed TensorRT and the GPU, and whether an engine fits them.

TensorRT is imported lazily and only here, so that a box without it (or a CI machine) loads
everything else. An engine is tied to the TensorRT version and the GPU it was built on
(DESIGN.md): one built elsewhere is refused with a message that says how to rebuild it.
"""

from __future__ import annotations

import importlib
from functools import lru_cache
from types import ModuleType

from edge.errors import ModelError
from edge.runtime.cuda import device_identity
from edge.runtime.manifest import (
    EntryStatus,
    ModelPack,
    PackEntry,
    TensorRTTarget,
    file_status,
)

NEEDS = "needs an NVIDIA GPU and TensorRT"


def tensorrt() -> ModuleType:
    """The ``tensorrt`` module, or a :class:`ModelError` saying it is not installed."""
    try:
        return importlib.import_module("tensorrt")
    except ImportError as error:
        raise ModelError(
            "tensorrt",
            f"TensorRT is not installed ({error}); on Jetson it comes with JetPack (python3-libnvinfer), "
            "elsewhere `pip install tensorrt`",
        ) from None


@lru_cache(maxsize=1)
def current_target() -> TensorRTTarget:
    """This box: the installed TensorRT version and GPU 0's name and compute capability."""
    version = tensorrt().__version__
    gpu, capability = device_identity(0)
    return TensorRTTarget(version=version, gpu=gpu, compute_capability=capability)


def tensorrt_available() -> bool:
    """True when TensorRT imports and a GPU answers (what the TensorRT tests need)."""
    try:
        current_target()
    except ModelError:
        return False
    return True


def rebuild_hint(pack: ModelPack) -> str:
    return f"rebuild it on this box with `liveguard engines build --pack {pack.path}`"


def engine_status(pack: ModelPack, entry: PackEntry, target: TensorRTTarget | None = None) -> EntryStatus:
    """:func:`file_status`, then whether the engine was built for ``target`` (default: this box)."""
    status = file_status(pack, entry)
    if not status.usable or entry.format != "tensorrt":
        return status
    if entry.tensorrt is None:
        return EntryStatus(entry.name, "missing", "no TensorRT build recorded")
    target = target or current_target()
    built = entry.tensorrt
    differences = []
    if built.version != target.version:
        differences.append(f"TensorRT {built.version}, this box has {target.version}")
    if built.gpu != target.gpu or built.compute_capability != target.compute_capability:
        differences.append(
            f"{built.gpu} (compute capability {built.compute_capability}), "
            f"this box has {target.gpu} ({target.compute_capability})"
        )
    if differences:
        return EntryStatus(entry.name, "foreign", "built for " + "; ".join(differences))
    return status


def check_engine(pack: ModelPack, entry: PackEntry) -> None:
    """Refuse an engine that is missing, stale or built for another box, saying how to rebuild it."""
    status = engine_status(pack, entry)
    if not status.usable:
        raise ModelError(str(pack.file_of(entry)), f"engine '{entry.name}' is {status.state}: {status.reason}; "
                         + rebuild_hint(pack))
