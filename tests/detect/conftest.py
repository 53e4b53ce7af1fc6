"""A tiny randomly initialised D-FINE exported once per session, and test frames."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

INPUT_SIZE = 640  # the official export's side


@dataclass(frozen=True)
class TinyDFine:
    model: object  # transformers DFineForObjectDetection, eval mode
    path: Path  # its ONNX export (opset 17, dynamic batch)
    export_seconds: float


@pytest.fixture(scope="session")
def tiny_dfine(tmp_path_factory: pytest.TempPathFactory) -> TinyDFine:
    pytest.importorskip("torch", reason="exporting D-FINE needs torch (the export extra)")
    pytest.importorskip("transformers", reason="exporting D-FINE needs transformers (the export extra)")
    from export.dfine import export_dfine, tiny_dfine_model

    model = tiny_dfine_model(seed=0)
    started = time.perf_counter()
    path = export_dfine(model, tmp_path_factory.mktemp("dfine") / "tiny_dfine.onnx", input_size=INPUT_SIZE)
    return TinyDFine(model, path, time.perf_counter() - started)


@pytest.fixture(scope="session")
def frames() -> list[np.ndarray]:
    """Three non-square BGR frames of different sizes (landscape, portrait, small)."""
    rng = np.random.default_rng(7)
    shapes = [(480, 640), (1280, 720), (150, 260)]
    out = []
    for h, w in shapes:
        # 10-pixel blocks of random colour: edges and flat areas, unlike pure noise
        base = rng.integers(0, 256, (h // 10 + 1, w // 10 + 1, 3), dtype=np.uint8)
        frame = np.repeat(np.repeat(base, 10, axis=0), 10, axis=1)[:h, :w]
        out.append(np.ascontiguousarray(frame))
    return out
