"""The window's frame-score curve in the evidence (selection.scores): every sampled frame's [pts, total]
while a window has at most 600, decimated beyond (each bucket's best, every keyframe's own point kept),
memory bounded whatever the window's length, rounded as the keyframes are, checked by the schema."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from edge.config import Config
from edge.evidence import EVIDENCE_SCHEMA, Provenance, build_evidence, schema_problem
from edge.select import CURVE_LIMIT, ScoreCurve
from edge.transport.delivery import compact
from edge.types import Detections, Frame, FrameScore, Keyframe, ModelInfo, Readings, Selection, StreamInfo, Transcript

OCR = ModelInfo("rapidocr", "a" * 64, "fp32", "CPUExecutionProvider")


def stream_of(n: int, seed: int = 0, fps: float = 2.0) -> list[tuple[float, float]]:
    rng = random.Random(seed)
    return [(i / fps, rng.random()) for i in range(n)]


def test_a_live_window_keeps_every_frame_exactly():
    curve = ScoreCurve()
    frames = stream_of(60)  # 30 s at 2 fps
    for pts, total in frames:
        curve.add(pts, total)
    assert curve.points() == frames and curve.width == 1
    assert curve.points([frames[17]]) == frames  # a keyframe is already on it


def test_a_long_window_is_decimated_to_each_buckets_best_with_the_keyframes_on_it():
    frames = stream_of(2 * 3600 * 2, seed=1)  # a 2-hour file read as one window
    curve = ScoreCurve()
    most = 0
    for pts, total in frames:
        curve.add(pts, total)
        most = max(most, curve.held)
    assert most <= CURVE_LIMIT + 1, "memory does not grow with the window"
    best = max(frames, key=lambda f: f[1])
    second = frames[1234]  # a Top-K pick that is not its bucket's best
    points = curve.points([best, second])
    assert len(points) <= CURVE_LIMIT and points == sorted(points)
    assert best in points and second in points
    width = curve.width
    assert width == 32 and len(frames) / width <= CURVE_LIMIT < len(frames) / (width / 2)
    for start in range(0, len(frames), width * 97):  # spot checks: each bucket's maximum is on the curve
        bucket = frames[start - start % width : start - start % width + width]
        assert max(bucket, key=lambda f: f[1]) in points


def test_keyframes_that_would_not_fit_coarsen_the_curve_once_more():
    curve = ScoreCurve(limit=10)
    frames = stream_of(10)
    for pts, total in frames:
        curve.add(pts, total)
    assert curve.points() == frames  # exact: 10 frames in 10 points
    extra = [(100.0, 0.5)]  # (not a frame of the curve: it has to be added)
    points = curve.points(extra)
    assert len(points) <= 10 and extra[0] in points and curve.width == 2


def test_ties_keep_the_earliest_frame():
    curve = ScoreCurve(limit=2)
    for pts in (0.0, 0.5, 1.0, 1.5):
        curve.add(pts, 0.5)
    assert curve.points() == [(0.0, 0.5), (1.0, 0.5)]


def keyframe(index: int) -> Keyframe:
    score = FrameScore(index, index / 2, 0.712345678, 0.9, sharpness=0.4321987)
    return Keyframe(Frame(index, index / 2, np.zeros((96, 54, 3), np.uint8)), score, Detections.empty())


def evidence(scores, frames: int = 60):
    keyframes = (keyframe(2),)
    return build_evidence(
        Provenance(Config(), "c" * 64, {"ocr": OCR}), StreamInfo(id="cam1", source="demo.mp4", width=540, height=960),
        (0.0, 30.0), Selection(keyframes, frames, 30.0), [b"jpeg"], Readings((), 0, Transcript()), scores=scores,
    )


def test_the_evidence_carries_the_curve_rounded_as_the_keyframes_are():
    doc = evidence([(0.0, 0.123456), (0.5000004, 0.98765), (1.0, 0.712345678)])
    assert doc["selection"]["scores"] == [[0.0, 0.1235], [0.5, 0.9877], [1.0, 0.7123]]
    kf = doc["keyframes"][0]
    assert [kf["pts"], kf["score"]["total"]] in doc["selection"]["scores"]  # the keyframe marked on its curve
    assert schema_problem(doc, EVIDENCE_SCHEMA) is None
    assert "scores" not in evidence(None)["selection"]  # strategy baseline, and documents written before


def test_the_schema_bounds_and_shapes_the_curve():
    doc = evidence([(i / 2, 0.5) for i in range(CURVE_LIMIT + 1)], frames=CURVE_LIMIT + 1)
    assert "scores" in (schema_problem(doc, EVIDENCE_SCHEMA) or "")
    for bad in ([[0.0]], [[0.0, 0.5, 1]], [["0.0", 0.5]]):
        doc = evidence([])
        doc["selection"]["scores"] = bad
        assert schema_problem(doc, EVIDENCE_SCHEMA) is not None, bad


@pytest.mark.parametrize("seconds", [30])
def test_what_the_curve_costs_on_the_wire(seconds):
    """A 30 s window at 2 fps: 60 pairs, 13-14 bytes each in the compact JSON (pts to the ms, 4 decimals)."""
    rng = random.Random(3)
    frames = [(i / 2 + rng.choice((0.0, 0.02, 0.04)), rng.uniform(0.2, 0.99)) for i in range(2 * seconds)]
    with_curve, without = evidence(frames), evidence(None)
    added = len(compact(with_curve)) - len(compact(without))
    assert math.isclose(added / len(frames), 13.5, abs_tol=1.5), added
    assert added < 900
