"""The model pack manifest: round trip, validation messages, sha256, staleness and foreign-box checks."""

from __future__ import annotations

import pytest
import yaml
from pack_files import HERE, make_pack

from edge.errors import ModelError
from edge.runtime import ModelPack, TensorRTTarget, engine_status, file_status


def test_round_trip_keeps_every_field(tmp_path) -> None:
    pack = make_pack(tmp_path)
    again = ModelPack.load(pack.path)
    assert [e.model_dump() for e in again.entries] == [e.model_dump() for e in pack.entries]
    detector = again.get("detector")
    assert detector.precision == "fp32" and detector.provenance == {"exported_by": "test"}
    assert [t.name for t in detector.inputs] == ["images", "orig_target_sizes"]
    assert detector.inputs[0].shape == ["N", 3, 64, 64]
    assert again.get("quality").metadata == {"liveguard.quality.min": "0.0", "liveguard.quality.max": "1.0"}
    text = pack.path.read_text()
    assert "shape: [N, 3, 64, 64]" in text and text.startswith("# LiveGuard model pack")
    engine = again.get("detector-trt")
    assert engine.tensorrt == HERE and engine.source_sha256 == detector.sha256 and engine.batch.max == 4


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["models"][0].update(colour="red"), r"models\[0\] \(detector\)\.colour: unknown key"),
        (lambda d: d["models"][0].update(precision="fp8"), r"models\[0\] \(detector\)\.precision: Input should be"),
        (lambda d: d["models"][2].update(source="nothing"), r"source 'nothing' is not an onnx entry"),
        (lambda d: d["models"].append(dict(d["models"][0])), r"duplicate model names \['detector'\]"),
        (lambda d: d["models"][0].pop("sha256"), r"an onnx entry needs its sha256"),
        (lambda d: d["models"][2].update(batch={"min": 4, "opt": 2, "max": 8}), r"need min <= opt <= max"),
        (lambda d: d.update(format="other/2"), r"format: Input should be 'liveguard.modelpack/1'"),
    ],
)
def test_invalid_manifests_are_refused_in_one_line(tmp_path, change, message) -> None:
    pack = make_pack(tmp_path)
    data = yaml.safe_load(pack.path.read_text())
    change(data)
    pack.path.write_text(yaml.safe_dump(data))
    with pytest.raises(ModelError, match=message) as raised:
        ModelPack.load(pack.path)
    assert str(raised.value).startswith(str(pack.path)) and "\n" not in str(raised.value)


def test_missing_manifest_and_unknown_name(tmp_path) -> None:
    with pytest.raises(ModelError, match="model pack manifest not found"):
        ModelPack.load(tmp_path / "none.yaml")
    pack = make_pack(tmp_path)
    with pytest.raises(ModelError, match=r"no model named 'x' in the pack \(it has: detector, quality"):
        pack.get("x")


def test_file_status_sees_missing_changed_and_stale_files(tmp_path) -> None:
    pack = make_pack(tmp_path)
    assert all(file_status(pack, e).usable for e in pack.entries)
    (tmp_path / "quality-trt.engine").unlink()
    assert file_status(pack, pack.get("quality-trt")).state == "missing"
    (tmp_path / "detector-trt.engine").write_bytes(b"tampered")
    status = file_status(pack, pack.get("detector-trt"))
    assert status.state == "stale" and "sha256 of detector-trt.engine" in status.reason
    with pytest.raises(ModelError, match="detector-trt.engine: model 'detector-trt' of .*: sha256 of"):
        pack.verify(pack.get("detector-trt"))


def test_an_engine_is_stale_when_its_source_changed(tmp_path) -> None:
    pack = make_pack(tmp_path)
    source = pack.get("detector")
    pack.put(source.model_copy(update={"sha256": "0" * 64}))  # re-exported since the build
    status = file_status(pack, pack.get("detector-trt"))
    assert status.state == "stale" and "built from detector.onnx" in status.reason


def test_engine_for_another_gpu_or_tensorrt_is_foreign(tmp_path) -> None:
    pack = make_pack(tmp_path)
    engine = pack.get("detector-trt")
    assert engine_status(pack, engine, HERE).usable
    other_trt = TensorRTTarget(version="10.7.0", gpu="Orin", compute_capability="8.7")
    status = engine_status(pack, engine, other_trt)
    assert status.state == "foreign" and status.reason == "built for TensorRT 10.3.0, this box has 10.7.0"
    other_gpu = TensorRTTarget(version="10.3.0", gpu="NVIDIA H100", compute_capability="9.0")
    assert "Orin (compute capability 8.7), this box has NVIDIA H100 (9.0)" in engine_status(pack, engine, other_gpu).reason


def test_onnx_entry_must_lie_under_the_pack(tmp_path) -> None:
    from edge.runtime import onnx_entry

    pack = make_pack(tmp_path / "pack")
    with pytest.raises(ModelError, match="must lie under the pack's folder"):
        onnx_entry(pack, "x", "detector", tmp_path / "elsewhere.onnx")
