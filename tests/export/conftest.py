"""Small randomly initialised models exported once per session, and synthetic frames.

The variant tests use a 96-pixel tiny D-FINE and a 96-pixel reduced EfficientNetV2: the same
graphs as the real models at toy sizes, so that FP32, FP16 and INT8 exports and their reports
all run in seconds on two cores.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from synthetic_frames import SIZE, block_frames


@dataclass(frozen=True)
class Variants:
    model: object  # the PyTorch model
    fp32: Path
    fp16: Path
    int8: Path
    holdout: list[np.ndarray]
    calibration: list[np.ndarray]


@pytest.fixture(scope="session")
def detector_variants(tmp_path_factory: pytest.TempPathFactory) -> Variants:
    pytest.importorskip("torch", reason="exporting needs torch (the export extra)")
    pytest.importorskip("transformers", reason="exporting D-FINE needs transformers (the export extra)")
    from export.dfine import export_dfine, tiny_dfine_model
    from export.fp16 import convert_to_fp16
    from export.int8 import FrameCalibrationReader, quantize_int8

    folder = tmp_path_factory.mktemp("dfine_variants")
    model = tiny_dfine_model(seed=0)
    fp32 = export_dfine(model, folder / "detector.onnx", input_size=SIZE)
    calibration, holdout = block_frames(12, seed=1), block_frames(6, seed=2)
    fp16 = convert_to_fp16(fp32, folder / "detector-fp16.onnx")
    int8 = quantize_int8(fp32, folder / "detector-int8.onnx", FrameCalibrationReader(calibration, "detector", SIZE))
    return Variants(model, fp32, fp16, int8, holdout, calibration)


@pytest.fixture(scope="session")
def quality_variants(tmp_path_factory: pytest.TempPathFactory) -> Variants:
    torch = pytest.importorskip("torch", reason="exporting needs torch (the export extra)")
    pytest.importorskip("torchvision", reason="EfficientNetV2 needs torchvision (the export extra)")
    from edge.runtime import preprocess_crops
    from export.efficientnet import calibrate_batchnorm, efficientnet_v2_regressor
    from export.fp16 import convert_to_fp16
    from export.int8 import FrameCalibrationReader, quantize_int8
    from export.quality import export_quality_regressor

    folder = tmp_path_factory.mktemp("quality_variants")
    crops = lambda n, seed: block_frames(n, seed, shape=(120, 100), block=8)
    calibration, holdout = crops(16, 3), crops(32, 4)
    model = efficientnet_v2_regressor("tiny", seed=0)
    calibrate_batchnorm(model, [torch.from_numpy(preprocess_crops(crops(16, 5), SIZE))])
    with torch.no_grad():
        raw = model(torch.from_numpy(preprocess_crops(holdout, SIZE))).numpy()[:, 0]
    fp32 = export_quality_regressor(model, folder / "quality.onnx", float(raw.min()), float(raw.max()), SIZE)
    fp16 = convert_to_fp16(fp32, folder / "quality-fp16.onnx")
    int8 = quantize_int8(fp32, folder / "quality-int8.onnx", FrameCalibrationReader(calibration, "quality", SIZE))
    return Variants(model, fp32, fp16, int8, holdout, calibration)
