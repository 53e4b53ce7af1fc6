"""ONNX Runtime execution-provider selection."""

from __future__ import annotations

from collections.abc import Sequence

import onnxruntime as ort

CPU_PROVIDER = "CPUExecutionProvider"


def select_providers(preferred: Sequence[str]) -> list[str]:
    """The available providers among ``preferred``, in its order, always ending with the CPU one.

    Unknown or unavailable names (TensorRT on a CPU box, a typo) are dropped rather than handed
    to ONNX Runtime, which would warn and fall back on its own terms.
    """
    available = set(ort.get_available_providers())
    chosen = [name for name in dict.fromkeys(preferred) if name in available and name != CPU_PROVIDER]
    return [*chosen, CPU_PROVIDER]
