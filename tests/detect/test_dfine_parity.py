"""The exported tiny D-FINE in ONNX Runtime against PyTorch + transformers' post-processing."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from edge.runtime import preprocess_frames

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

TOL = 1e-4


def _ort_outputs(path, blob: np.ndarray, sizes_wh: np.ndarray) -> dict[str, np.ndarray]:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = ["labels", "boxes", "scores"]
    return dict(zip(names, session.run(names, {"images": blob, "orig_target_sizes": sizes_wh})))


def _transformers_results(model, blob: np.ndarray, target_sizes: list[tuple[int, int]]) -> list[dict]:
    with torch.no_grad():
        outputs = model(pixel_values=torch.from_numpy(blob))
    processor = transformers.RTDetrImageProcessorPil()
    # threshold 0 keeps every (query, class) pair of the top-Q: sigmoid scores are > 0
    return processor.post_process_object_detection(outputs, threshold=0.0, target_sizes=target_sizes)


@pytest.fixture(scope="module")
def batch(tiny_dfine, frames):
    blob = preprocess_frames(frames, 640)
    sizes_wh = np.array([(f.shape[1], f.shape[0]) for f in frames], np.int64)
    return blob, sizes_wh


def test_onnx_matches_transformers_postprocessing(tiny_dfine, batch) -> None:
    blob, sizes_wh = batch
    got = _ort_outputs(tiny_dfine.path, blob, sizes_wh)
    # transformers takes (height, width); the ONNX contract takes (width, height)
    expected = _transformers_results(tiny_dfine.model, blob, [(int(h), int(w)) for w, h in sizes_wh])
    queries = tiny_dfine.model.config.num_queries
    for i, (want, (w, h)) in enumerate(zip(expected, sizes_wh)):
        assert got["scores"][i].shape == (queries,) and len(want["scores"]) == queries
        np.testing.assert_array_equal(got["labels"][i], want["labels"].numpy())
        np.testing.assert_allclose(got["scores"][i], want["scores"].numpy(), rtol=0, atol=TOL)
        # compared as fractions of the frame: float32 pixels of a 1280 frame carry ~1e-4 of rounding
        scale = np.array([w, h, w, h], np.float32)
        np.testing.assert_allclose(got["boxes"][i] / scale, want["boxes"].numpy() / scale, rtol=0, atol=TOL)


def test_swapping_width_and_height_is_caught(tiny_dfine, batch) -> None:
    """Feeding transformers (w, h), the ONNX order, gives different boxes on non-square frames."""
    blob, sizes_wh = batch
    got = _ort_outputs(tiny_dfine.path, blob, sizes_wh)
    swapped = _transformers_results(tiny_dfine.model, blob, [(int(w), int(h)) for w, h in sizes_wh])
    for i, (w, h) in enumerate(sizes_wh):
        assert w != h
        scale = np.array([w, h, w, h], np.float32)
        assert np.abs(got["boxes"][i] / scale - swapped[i]["boxes"].numpy() / scale).max() > 100 * TOL


def test_batch_is_dynamic(tiny_dfine, batch) -> None:
    """One frame alone gives what it gives inside a batch of three (the export traced two)."""
    blob, sizes_wh = batch
    together = _ort_outputs(tiny_dfine.path, blob, sizes_wh)
    for i in range(len(blob)):
        alone = _ort_outputs(tiny_dfine.path, blob[i : i + 1], sizes_wh[i : i + 1])
        np.testing.assert_array_equal(alone["labels"][0], together["labels"][i])
        np.testing.assert_allclose(alone["scores"][0], together["scores"][i], atol=1e-5)
        np.testing.assert_allclose(alone["boxes"][0], together["boxes"][i], atol=1e-5 * sizes_wh[i].max())


def test_export_has_the_official_layout(tiny_dfine) -> None:
    graph = onnx.load(str(tiny_dfine.path))
    ops = {node.op_type for node in graph.graph.node}
    assert graph.opset_import[0].version == 17
    assert "GridSample" in ops  # deformable attention
    assert "LayerNormalization" in ops  # opset 17 keeps it whole
    assert "TopK" in ops and "NonMaxSuppression" not in ops
    dims = {v.name: [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim] for v in graph.graph.input}
    assert dims == {"images": ["N", 3, 640, 640], "orig_target_sizes": ["N", 2]}
    assert [o.name for o in graph.graph.output] == ["labels", "boxes", "scores"]


def test_tiny_export_is_quick(tiny_dfine) -> None:
    assert tiny_dfine.export_seconds < 60
