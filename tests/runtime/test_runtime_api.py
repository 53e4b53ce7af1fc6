"""edge.runtime's public surface: ``__all__`` pinned, and the contract ``export/`` builds on.

``export/`` imports ``edge.runtime`` (plus ``edge.engines`` and ``edge.errors``), never the modules
behind it; ``edge.runtime`` imports neither the models (detect, score) nor the engine builder, and
loads TensorRT and the CUDA driver only when an engine is opened. The layering of all of ``edge/``
is tests/test_layers.py's.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path
from typing import get_args

import pytest

import edge.runtime
from edge.config.models import Runtime
from edge.runtime import RUNTIMES

REPO = Path(__file__).resolve().parents[2]

PUBLIC = [
    "DEFAULT_PACK", "DFINE_INPUT_NAMES", "DFINE_OUTPUT_NAMES", "IMAGENET_MEAN", "IMAGENET_STD", "NEEDS",
    "QUALITY_MAX_KEY", "QUALITY_MIN_KEY", "RUNTIMES", "BatchRange", "EntryStatus", "GraphTensor", "ModelPack",
    "ModelSignature", "OpenedModel", "PackEntry", "Role", "Runner", "TensorRTTarget", "TensorSpec",
    "crop_xyxy", "current_target", "engine_entry", "engine_status", "file_status", "graph_inputs", "graph_metadata",
    "graph_outputs", "graph_precision", "load_onnx", "onnx_entry", "open_model", "preprocess_crops",
    "preprocess_frames", "read_range", "select_providers", "signature_problems", "tensor_problems",
    "tensorrt_available",
]


def test_public_names_are_pinned() -> None:
    assert sorted(edge.runtime.__all__) == sorted(PUBLIC)
    assert all(hasattr(edge.runtime, name) for name in PUBLIC)


def test_one_runtime_per_config_literal() -> None:
    assert sorted(RUNTIMES) == sorted(get_args(Runtime))


def _imports(path: Path) -> set[str]:
    """Every absolute module a file imports, at the top or inside functions."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_export_uses_only_the_public_contract() -> None:
    allowed = {"edge.runtime", "edge.engines", "edge.errors"}
    # training checks its exported detector in the edge's own loader, as the box will open it (issue 12)
    # and the OCR-readability teacher reads crops with the edge's own OCR engine
    verifies = {"detector_eval.py": {"edge.detect", "edge.detect.onnx_dfine", "edge.config.models"},
                "teachers.py": {"edge.config.models", "edge.ocr", "edge.types"},
                "train_quality.py": {"edge.config", "edge.score"}}  # its exported regressor, opened by the edge
    for path in sorted((REPO / "export").glob("*.py")):
        used = {m for m in _imports(path) if m.split(".")[0] == "edge"} - verifies.get(path.name, set())
        assert used <= allowed, f"{path.name} imports {sorted(used - allowed)}"


def test_runtime_imports_neither_the_models_nor_the_builder() -> None:
    """edge.runtime sits below detect, score and engines (tests/test_layers.py ranks every package)."""
    for path in (REPO / "edge" / "runtime").glob("*.py"):
        used = {".".join(m.split(".")[:2]) for m in _imports(path)}
        assert not used & {"edge.detect", "edge.score", "edge.engines", "edge.pipeline", "edge.cli"}, path.name


@pytest.mark.parametrize("code", [
    "import edge.runtime, edge.detect, edge.score, edge.engines",
    "from edge.detect import create_detector; from edge.config import DetectorConfig; "
    "create_detector(DetectorConfig(), threads=1).close()",  # the bundled detector on ONNX Runtime
])
def test_tensorrt_and_cuda_load_only_when_an_engine_is_opened(code) -> None:
    check = (f"{code}\nimport sys\nfrom edge.runtime import cuda\n"
             "assert 'tensorrt' not in sys.modules and 'edge.runtime.tensorrt_engine' not in sys.modules\n"
             "assert cuda._driver.cache_info().currsize == 0\n")
    subprocess.run([sys.executable, "-c", check], check=True, cwd=REPO)
