"""What ``liveguard engines build`` would build, and the precisions a source ONNX allows."""

from __future__ import annotations

import pytest
from pack_files import HERE, make_pack

from edge.engines import allowed_precisions, engines_to_build
from edge.errors import ModelError
from edge.runtime import TensorRTTarget


def test_engines_to_build_lists_missing_stale_and_foreign(tmp_path, monkeypatch) -> None:
    from edge.runtime import target

    pack = make_pack(tmp_path)
    monkeypatch.setattr(target, "current_target", lambda: HERE)
    assert engines_to_build(pack) == []
    assert [s.name for s in engines_to_build(pack, force=True)] == ["detector-trt", "quality-trt"]
    (tmp_path / "quality-trt.engine").unlink()
    assert [(s.name, s.state) for s in engines_to_build(pack)] == [("quality-trt", "missing")]
    monkeypatch.setattr(target, "current_target", lambda: TensorRTTarget(version="11.0.0", gpu="Orin",
                                                                        compute_capability="8.7"))
    assert [(s.name, s.state) for s in engines_to_build(pack)] == [("detector-trt", "foreign"), ("quality-trt", "missing")]
    with pytest.raises(ModelError, match="is an ONNX file, not an engine"):
        engines_to_build(pack, ["detector"])


def test_precisions_follow_the_source_and_tensorrt_version() -> None:
    assert allowed_precisions("fp32", 10) == ("fp32", "fp16")
    assert allowed_precisions("fp32", 11) == ("fp32",)  # no FP16 builder flag on TensorRT 11
    assert allowed_precisions("int8", 10) == allowed_precisions("int8", 11) == ("int8",)
