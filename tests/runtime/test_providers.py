"""Execution-provider selection."""

from __future__ import annotations

import onnxruntime as ort
import pytest

from edge.config.models import DEFAULT_PROVIDERS
from edge.runtime import select_providers


def test_default_list_on_this_machine() -> None:
    expected = [p for p in DEFAULT_PROVIDERS if p in ort.get_available_providers()]
    assert select_providers(DEFAULT_PROVIDERS) == expected
    assert select_providers(DEFAULT_PROVIDERS)[-1] == "CPUExecutionProvider"


@pytest.mark.parametrize(
    ("preferred", "expected"),
    [
        (["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"],
         ["CUDAExecutionProvider", "CPUExecutionProvider"]),
        (["CPUExecutionProvider", "CUDAExecutionProvider"], ["CUDAExecutionProvider", "CPUExecutionProvider"]),
        (["NoSuchExecutionProvider"], ["CPUExecutionProvider"]),
        (["CUDAExecutionProvider", "CUDAExecutionProvider"], ["CUDAExecutionProvider", "CPUExecutionProvider"]),
        ([], ["CPUExecutionProvider"]),
    ],
    ids=["drops-unavailable", "cpu-always-last", "unknown-name", "duplicates", "empty"],
)
def test_keeps_available_in_order_and_ends_with_cpu(monkeypatch, preferred, expected) -> None:
    available = ["CUDAExecutionProvider", "CPUExecutionProvider"]  # a GPU box without TensorRT
    monkeypatch.setattr(ort, "get_available_providers", lambda: available)
    assert select_providers(preferred) == expected
