"""The whole window on the bundled demo clip (real decoding, real OCR, real Whisper) and on
variants of it encoded by ffmpeg here: results against the clip's truth, and the selection
rules of paper §3.3 seen through the evidence."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pipeline_models import fixed_box_detector, make_config

from edge.evidence import EVIDENCE_SCHEMA, RESULT_SCHEMA, schema_problem
from edge.pipeline import Pipeline
from edge.types import FrameScore

NO_ASR = {"backend": "none"}
# the product box of the demo's sharp segment, normalised to the 540×960 frame
DEMO_PRODUCT_BOX = (130 / 540, 352 / 960, 412 / 540, 714 / 960)


def in_spans(pts: float, spans: list[list[float]], slack: float = 0.05) -> bool:
    return any(start - slack <= pts <= end + slack for start, end in spans)


@pytest.fixture(scope="module")
def default_outcome(demo: Path) -> Any:
    """The bundled defaults on the demo clip: the README's first command."""
    scores: list[FrameScore] = []
    outcome = Pipeline(make_config()).run(demo, on_score=scores.append)
    return outcome, scores


def test_defaults_recognise_the_demo_product(default_outcome: Any, truth: dict[str, Any]) -> None:
    outcome, _ = default_outcome
    result = outcome.result
    assert result["brand"] == truth["brand"]
    assert result["product_name"] == truth["product_name"]
    assert truth["category"] == "skincare" and result["category"].startswith("Health & Beauty > Personal Care > Cosmetics > Skin Care")
    assert truth["product_name"].lower().endswith(result["product_type"])  # "face cream"
    assert result["price"] == truth["price"]
    assert result["engine"] == "local-rules"
    assert "asr" in result["support"]["brand"]  # the streamer says the brand too
    assert schema_problem(outcome.evidence, EVIDENCE_SCHEMA) is None
    assert schema_problem(result, RESULT_SCHEMA) is None
    assert result["evidence_id"] == outcome.evidence["id"]


def test_defaults_run_the_bundled_detector_and_name_it(default_outcome: Any) -> None:
    from edge import bundled

    evidence = default_outcome[0].evidence
    assert evidence["selection"]["detector"] == "d-fine" and evidence["selection"]["whole_frame_fallback"] is False
    model = evidence["models"]["detector"]
    assert model["name"] == "detector.onnx" and model["precision"] == "fp32"
    assert model["sha256"] == hashlib.sha256(bundled.resolve(bundled.DETECTOR).read_bytes()).hexdigest()
    (keyframe,) = evidence["keyframes"]
    assert keyframe["products"] and keyframe["score"]["whole_frame"] is False


def test_without_detector_the_evidence_says_whole_frame_fallback(demo: Path) -> None:
    evidence = Pipeline(make_config(detector={"model": None})).run(demo).evidence
    assert evidence["selection"]["detector"] == "none"
    assert evidence["selection"]["whole_frame_fallback"] is True
    (keyframe,) = evidence["keyframes"]
    assert keyframe["products"] == [] and keyframe["score"]["whole_frame"] is True
    # the live-room overlay cannot be told from the product without boxes
    assert {line.get("in_product") for line in evidence["ocr"]["lines"]} == {None}  # unknown: left out


def test_strategy_a_keeps_the_argmax_and_it_is_readable(default_outcome: Any, truth: dict[str, Any]) -> None:
    outcome, scores = default_outcome
    evidence = outcome.evidence
    assert len(scores) == evidence["selection"]["sampled_frames"] == 20  # 10 s at 2 fps
    (keyframe,) = evidence["keyframes"]
    best = max(scores, key=lambda s: s.total)
    assert keyframe["frame_index"] == best.index
    assert keyframe["score"]["total"] == pytest.approx(best.total, abs=1e-4)
    assert in_spans(keyframe["pts"], truth["readable_frames"])
    # the window's score curve: every sampled frame, the keyframe on it (the centre marks it)
    assert evidence["selection"]["scores"] == [[round(s.pts, 3), round(s.total, 4)] for s in scores]
    assert [keyframe["pts"], keyframe["score"]["total"]] in evidence["selection"]["scores"]


def test_evidence_carries_text_and_hashes_not_pixels(default_outcome: Any) -> None:
    outcome, _ = default_outcome
    import hashlib
    import json

    (jpeg,) = outcome.jpegs
    assert outcome.evidence["keyframes"][0]["jpeg_sha256"] == hashlib.sha256(jpeg).hexdigest()
    size = len(json.dumps(outcome.evidence).encode())
    assert size < 16_000, f"evidence is {size} bytes"


def test_baseline_takes_the_last_frame_into_the_transition(demo: Path, truth: dict[str, Any]) -> None:
    outcome = Pipeline(make_config(scoring={"strategy": "baseline"}, asr=NO_ASR)).run(demo)
    (keyframe,) = outcome.evidence["keyframes"]
    assert keyframe["frame_index"] == outcome.evidence["selection"]["sampled_frames"] - 1
    assert keyframe["pts"] >= truth["transition_start"]
    assert outcome.result["product_name"] != truth["product_name"]  # the paper's point: the last frame is a poor pick
    assert "scores" not in outcome.evidence["selection"]  # baseline scores no frame: no curve


def test_top_k_keyframes_are_spaced_and_their_texts_fused(demo: Path) -> None:
    scores: list[FrameScore] = []
    outcome = Pipeline(make_config(selection={"top_k": 3}, asr=NO_ASR)).run(demo, on_score=scores.append)
    selection = outcome.evidence["selection"]
    indices = sorted(kf["frame_index"] for kf in outcome.evidence["keyframes"])
    assert len(indices) == 3
    assert selection["d_min"] == pytest.approx(20 / (2 * 3), abs=1e-3)
    assert min(np.diff(indices)) >= selection["d_min"]
    assert max(scores, key=lambda s: s.total).index in indices  # the best frame is always among them
    assert len(selection["scores"]) == 20
    assert all([kf["pts"], kf["score"]["total"]] in selection["scores"] for kf in outcome.evidence["keyframes"])
    lines = outcome.evidence["ocr"]["lines"]
    assert outcome.evidence["ocr"]["raw_lines"] > len(lines)  # duplicates across keyframes merged
    assert any(len(line["frames"]) > 1 for line in lines)
    assert [line["text"] for line in lines].count("AURORA") == 1


def test_detector_boxes_separate_product_text_from_the_overlay(demo: Path, tmp_path: Path, truth: dict) -> None:
    model = fixed_box_detector(tmp_path / "fixed.onnx", DEMO_PRODUCT_BOX, score=0.9)
    config = make_config(detector={"model": str(model), "input_size": 64, "batch_size": 3}, asr=NO_ASR)
    outcome = Pipeline(config).run(demo)
    evidence = outcome.evidence
    assert evidence["selection"]["whole_frame_fallback"] is False
    assert evidence["models"]["detector"]["sha256"] == __import__("hashlib").sha256(model.read_bytes()).hexdigest()
    (keyframe,) = evidence["keyframes"]
    (product,) = keyframe["products"]
    assert product["box"] == pytest.approx([130, 352, 412, 714], abs=1)
    assert keyframe["score"]["detection"] == pytest.approx(0.9, abs=1e-6)
    flags = {line["text"]: line["in_product"] for line in evidence["ocr"]["lines"]}
    assert flags["AURORA"] is True
    assert flags["@MiaLive"] is False
    assert outcome.result["brand"] == truth["brand"]
    assert outcome.result["product_name"] == truth["product_name"]


def test_a_clip_without_audio_still_gives_a_result(demo: Path, tmp_path: Path, truth: dict[str, Any]) -> None:
    silent = tmp_path / "silent.mkv"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(demo), "-an", "-c:v", "copy", str(silent)], check=True)
    outcome = Pipeline(make_config()).run(silent)
    assert outcome.evidence["stream"]["audio_codec"] is None
    assert outcome.evidence["asr"]["text"] == "" and outcome.evidence["asr"]["segments"] == []
    assert outcome.result["brand"] == truth["brand"]
    assert "asr" not in outcome.result["support"]["brand"]
    assert "failures" not in outcome.result


def test_a_tiny_dfine_export_runs_through_the_pipeline(demo: Path, tmp_path: Path) -> None:
    """A randomly initialised transformers D-FINE, exported to ONNX: the contract end to end."""
    pytest.importorskip("transformers", reason="exporting D-FINE needs transformers (the test extra)")
    from export.dfine import export_dfine, tiny_dfine_model

    model = export_dfine(tiny_dfine_model(seed=0), tmp_path / "tiny_dfine.onnx", input_size=640)
    # threshold 0: a random model's scores are low, and every box it returns must reach the evidence
    config = make_config(detector={"model": str(model), "threshold": 0.0}, sampling={"fps": 1.0}, asr=NO_ASR)
    outcome = Pipeline(config).run(demo)
    (keyframe,) = outcome.evidence["keyframes"]
    assert keyframe["products"], "a threshold of 0 keeps every product-label box"
    for product in keyframe["products"]:
        x1, y1, x2, y2 = product["box"]
        assert 0 <= x1 < x2 <= 540 and 0 <= y1 < y2 <= 960
    confidences = [p["confidence"] for p in keyframe["products"]]
    assert keyframe["score"]["detection"] == pytest.approx(float(np.mean(confidences)), abs=1e-3)
    assert outcome.evidence["models"]["detector"]["provider"] == "CPUExecutionProvider"


def test_strategy_b_scores_with_the_quality_regressor(demo: Path, tmp_path: Path) -> None:
    """A real ONNX quality regressor (mean Laplacian energy of the crop) drives Strategy B."""
    torch = pytest.importorskip("torch", reason="exporting the quality regressor needs torch (the test extra)")
    from export.quality import export_quality_regressor

    class Sharpness(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            kernel = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])
            self.register_buffer("kernel", kernel.expand(1, 3, 3, 3).clone())

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            edges = torch.nn.functional.conv2d(x, self.kernel)
            return edges.abs().mean(dim=(1, 2, 3)).unsqueeze(1)

    quality = export_quality_regressor(Sharpness().eval(), tmp_path / "quality.onnx", 0.0, 4.0, input_size=96)
    detector = fixed_box_detector(tmp_path / "fixed.onnx", DEMO_PRODUCT_BOX, score=0.8)
    config = make_config(
        detector={"model": str(detector), "input_size": 64},
        scoring={"strategy": "B", "quality": {"model": str(quality), "input_size": 96}},
        asr=NO_ASR,
    )
    scores: list[FrameScore] = []
    outcome = Pipeline(config).run(demo, on_score=scores.append)
    (keyframe,) = outcome.evidence["keyframes"]
    score = keyframe["score"]
    assert score["quality"] is not None and score["sharpness"] is None
    assert score["total"] == pytest.approx(0.7 * 0.8 + 0.3 * score["quality"], abs=1e-4)
    assert len({round(s.total, 6) for s in scores}) > 5  # the regressor tells frames apart
    assert outcome.evidence["models"]["quality"]["sha256"]


def test_strategy_b_runs_the_bundled_quality_regressor_with_no_model_configured(demo: Path) -> None:
    from edge import bundled

    evidence = Pipeline(make_config(scoring={"strategy": "B"}, asr={"backend": "none"})).run(demo).evidence
    model = evidence["models"]["quality"]
    assert model["sha256"] == hashlib.sha256(bundled.resolve(bundled.QUALITY).read_bytes()).hexdigest()
    (keyframe,) = evidence["keyframes"]
    assert keyframe["score"]["quality"] is not None and 0.0 <= keyframe["score"]["quality"] <= 1.0
    assert keyframe["products"]  # Q(crop) of the bundled detector's box
