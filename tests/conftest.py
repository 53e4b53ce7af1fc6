"""Fixtures every suite may use: the bundled demo clip and its truth, and writing a YAML file."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import onnxruntime as ort
import pytest
from workspace import DEMO


@pytest.fixture(scope="session")
def demo() -> Path:
    """The bundled 10 s demo clip (samples/demo.mp4)."""
    return DEMO


@pytest.fixture(scope="session")
def truth() -> dict[str, Any]:
    """The demo clip's ground truth (samples/demo.truth.json)."""
    return json.loads(DEMO.with_suffix(".truth.json").read_text(encoding="utf-8"))


@pytest.fixture
def write_yaml(tmp_path: Path) -> Callable[..., Path]:
    """``write_yaml(text, name="c.yaml")`` writes ``text`` into this test's tmp dir and returns the path."""

    def write(text: str, name: str = "c.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def session_providers(monkeypatch) -> list[list[str]]:
    """The providers each new ONNX Runtime session is asked for, on a "GPU box" (CUDA listed as available)."""
    asked: list[list[str]] = []
    real = ort.InferenceSession

    def recording(path, sess_options=None, providers=None, **kwargs):
        asked.append(list(providers))
        return real(path, sess_options=sess_options, providers=["CPUExecutionProvider"], **kwargs)

    monkeypatch.setattr(ort, "get_available_providers", lambda: ["CUDAExecutionProvider", "CPUExecutionProvider"])
    monkeypatch.setattr(ort, "InferenceSession", recording)
    return asked
