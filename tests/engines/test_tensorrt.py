"""TensorRT engines built and run for real: these need an NVIDIA GPU and TensorRT, else they skip.

Builds FP32, FP16 (builder flag on TensorRT 10; FP16 ONNX, strongly typed) and explicit Q/DQ
INT8 engines of a tiny D-FINE and the quality regressor through the model pack, and compares
them with ONNX Runtime FP32 the way the accuracy reports do (DESIGN.md: compare before
trusting an engine; GridSample is wrong on TensorRT 10.14/11.1).
"""

from __future__ import annotations

import numpy as np
import pytest
from pack_files import QUALITY_SIZE, frames, quality_graph

from edge.runtime import NEEDS, tensorrt_available

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not tensorrt_available(), reason=NEEDS)]

SIZE = 96


@pytest.fixture(scope="module")
def pack(tmp_path_factory):
    pytest.importorskip("torch", reason="exporting the test models needs torch")
    pytest.importorskip("transformers", reason="exporting D-FINE needs transformers")
    from edge.runtime import BatchRange, ModelPack, engine_entry, onnx_entry
    from export.dfine import export_dfine, tiny_dfine_model
    from export.fp16 import convert_to_fp16
    from export.int8 import FrameCalibrationReader, quantize_int8

    folder = tmp_path_factory.mktemp("trt_pack")
    fp32 = export_dfine(tiny_dfine_model(seed=0), folder / "detector.onnx", input_size=SIZE)
    fp16 = convert_to_fp16(fp32, folder / "detector-fp16.onnx")
    int8 = quantize_int8(fp32, folder / "detector-int8.onnx", FrameCalibrationReader(frames(8), "detector", SIZE))
    quality_graph(folder / "quality.onnx", 0.0, 1.0)
    pack = ModelPack(folder / "manifest.yaml")
    for name, path in (("detector", fp32), ("detector-fp16", fp16), ("detector-int8", int8)):
        pack.put(onnx_entry(pack, name, "detector", path))
    pack.put(onnx_entry(pack, "quality", "quality", folder / "quality.onnx"))
    batch = BatchRange(min=1, opt=2, max=4)
    for name, source, precision in (
        ("trt-fp32", "detector", "fp32"),
        ("trt-fp16", "detector-fp16", "fp16"),
        ("trt-int8", "detector-int8", "int8"),
        ("trt-quality", "quality", "fp32"),
    ):
        pack.put(engine_entry(pack, name, source, precision, batch))
    pack.save()
    return pack


@pytest.fixture(scope="module")
def built(pack):
    from edge.engines import build_pack_engine, engines_to_build

    results = {}
    for status in engines_to_build(pack):
        results[status.name] = build_pack_engine(pack, pack.get(status.name), workspace_mb=512)
    pack.save()
    return results


def _detect(pack, runtime: str, engine: str | None = None, model=None):
    from edge.config.models import DetectorConfig
    from edge.detect import create_detector

    config = DetectorConfig(model=model, runtime=runtime, engine=engine, input_size=SIZE, threshold=0.0,
                            product_labels=[0, 1], fallback_to_onnxruntime=False)
    return create_detector(config, threads=1, pack=pack.path)


def test_builds_record_the_box_and_the_source(pack, built) -> None:
    from edge.engines import engines_to_build
    from edge.runtime import current_target

    assert set(built) == {"trt-fp32", "trt-fp16", "trt-int8", "trt-quality"}
    here = current_target()
    for name in built:
        entry = pack.get(name)
        assert entry.tensorrt == here and entry.sha256 and entry.source_sha256 == pack.get(entry.source).sha256
        assert (pack.root / entry.file).stat().st_size > 0
    assert built["trt-fp16"].strongly_typed and built["trt-int8"].strongly_typed
    assert (pack.root / "timing.cache").is_file()
    assert engines_to_build(pack) == []  # all up to date now


@pytest.mark.parametrize(("engine", "score_tol", "px_tol"), [("trt-fp32", 1e-3, 0.5), ("trt-fp16", 0.02, 3.0)])
def test_engines_match_onnx_runtime(pack, built, engine, score_tol, px_tol) -> None:
    images = frames(3)  # 3 frames through a profile of max batch 4, then 6 through two chunks
    reference = _detect(pack, "onnxruntime", model=pack.root / "detector.onnx").detect(images * 2)
    detector = _detect(pack, "tensorrt", engine)
    assert detector.model.provider == "TensorRT" and detector.model.precision == pack.get(engine).precision
    got = detector.detect(images * 2)
    for want, have in zip(reference, got):
        top = np.argsort(-want.confidence)[:10]
        for i in top:
            same = np.flatnonzero(have.class_id == want.class_id[i])
            error = np.abs(have.xyxy[same] - want.xyxy[i]).max(axis=1)
            j = same[np.argmin(error)]
            assert error.min() <= px_tol and abs(have.confidence[j] - want.confidence[i]) <= score_tol


def test_int8_engine_runs(pack, built) -> None:
    found = _detect(pack, "tensorrt", "trt-int8").detect(frames(2))
    assert len(found) == 2 and all(len(d) > 0 for d in found)


def test_quality_regressor_engine_takes_its_range_from_the_pack(pack, built) -> None:
    from edge.config.models import QualityConfig
    from edge.score import create_quality_regressor

    config = QualityConfig(runtime="tensorrt", engine="trt-quality", input_size=QUALITY_SIZE,
                           fallback_to_onnxruntime=False)
    engine = create_quality_regressor(config, threads=1, pack=pack.path)
    reference = create_quality_regressor(QualityConfig(model=pack.root / "quality.onnx", input_size=QUALITY_SIZE))
    assert engine.model.provider == "TensorRT" and (engine.raw_min, engine.raw_max) == (0.0, 1.0)
    crops = frames(6)
    np.testing.assert_allclose(engine.predict(crops), reference.predict(crops), atol=1e-3)


def test_engine_from_another_box_falls_back(pack, built, monkeypatch) -> None:
    from edge.config.models import DetectorConfig
    from edge.detect import create_detector
    from edge.runtime import TensorRTTarget, target

    here = target.current_target()
    other = TensorRTTarget(version=here.version + ".1", gpu=here.gpu, compute_capability=here.compute_capability)
    monkeypatch.setattr(target, "current_target", lambda: other)
    config = DetectorConfig(runtime="tensorrt", engine="trt-fp32", input_size=SIZE)
    detector = create_detector(config, threads=1, pack=pack.path)
    assert detector.model.provider == "CPUExecutionProvider"


def test_cuda_driver_names_the_gpu_and_moves_bytes() -> None:
    from edge.runtime.cuda import CudaContext, DeviceBuffer, Stream, device_identity

    name, capability = device_identity(0)
    assert name and capability.count(".") == 1
    CudaContext()
    stream, data = Stream(), np.arange(1000, dtype=np.float32)
    buffer = DeviceBuffer(data.nbytes)
    back = np.empty_like(data)
    buffer.upload(data, stream)
    buffer.download(back, stream)
    stream.synchronize()
    np.testing.assert_array_equal(back, data)
    buffer.free()
    stream.close()
