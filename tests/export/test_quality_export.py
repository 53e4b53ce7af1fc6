"""export/quality.py: a regressor exported with its range runs in the edge quality regressor."""

from __future__ import annotations

import numpy as np
import onnx
import pytest

from edge.config import QualityConfig
from edge.runtime import QUALITY_MAX_KEY, QUALITY_MIN_KEY, preprocess_crops
from edge.score import create_quality_regressor

torch = pytest.importorskip("torch")
from torch import nn

from export.quality import export_quality_regressor, write_range


class TinyRegressor(nn.Module):
    """Stands in for EfficientNetV2: [N,3,S,S] -> [N,1]."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Linear(8, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def _crops() -> list[np.ndarray]:
    rng = np.random.default_rng(3)
    return [rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for h, w in [(224, 224), (40, 90), (300, 120), (7, 7)]]


def test_round_trip_matches_pytorch(tmp_path) -> None:
    torch.manual_seed(0)
    model = TinyRegressor()
    crops = _crops()
    with torch.no_grad():
        raw = model(torch.from_numpy(preprocess_crops(crops, 224))).numpy()[:, 0]
    low, high = float(np.sort(raw)[1]), float(raw.max())  # the smallest falls below: clipped to 0
    path = export_quality_regressor(model, tmp_path / "quality.onnx", low, high)

    props = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    assert float(props[QUALITY_MIN_KEY]) == low and float(props[QUALITY_MAX_KEY]) == high
    got = create_quality_regressor(QualityConfig(model=path)).predict(crops)
    np.testing.assert_allclose(got, np.clip((raw - low) / (high - low), 0, 1), atol=1e-5)
    assert got.min() == 0.0 and got.max() == pytest.approx(1.0, abs=1e-5)


def test_write_range_replaces_the_old_one(tmp_path) -> None:
    path = export_quality_regressor(TinyRegressor(), tmp_path / "q.onnx", 0.0, 1.0, input_size=32)
    write_range(path, -3.0, 5.0)
    keys = [p.key for p in onnx.load(str(path)).metadata_props]
    assert sorted(keys) == sorted([QUALITY_MIN_KEY, QUALITY_MAX_KEY])
    model = create_quality_regressor(QualityConfig(model=path, input_size=32))
    assert (model.raw_min, model.raw_max) == (-3.0, 5.0)


def test_refuses_bad_range_and_shape(tmp_path) -> None:
    with pytest.raises(ValueError, match="raw_min < raw_max"):
        export_quality_regressor(TinyRegressor(), tmp_path / "q.onnx", 1.0, 1.0)
    two_outputs = nn.Sequential(nn.Conv2d(3, 2, 1), nn.AdaptiveAvgPool2d(1), nn.Flatten())
    with pytest.raises(ValueError, match=r"\[N,1\], got \[2, 2\]"):
        export_quality_regressor(two_outputs, tmp_path / "q.onnx", 0.0, 1.0, input_size=32)
    assert not (tmp_path / "q.onnx").exists()
