"""The compact forms of the evidence: what the writer makes of boxes, lines and segments, that the
schema takes them (and documents written before) and refuses malformed ones, and that they read back."""

from __future__ import annotations

import copy
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from edge.config import Config
from edge.evidence import EVIDENCE_SCHEMA, Provenance, build_evidence, expanded, ocr_lines, schema_problem, segments
from edge.evidence.forms import box_form, box_points, segment_forms
from edge.fusion import EvidenceView
from edge.types import Detections, Frame, FrameScore, FusedText, Keyframe, ModelInfo, Readings, Selection, StreamInfo, Transcript
from edge.types import TranscriptSegment as Segment

RECT = ((84.0, 42.0), (205.0, 42.0), (205.0, 70.0), (84.0, 70.0))
TILTED = ((249.0, 58.0), (299.0, 60.0), (298.0, 84.0), (248.0, 82.0))
OCR = ModelInfo("rapidocr", "a" * 64, "fp32", "CPUExecutionProvider")


def keyframe(index: int, boxes=()) -> Keyframe:
    detections = Detections(np.array(boxes, np.float32).reshape(-1, 4), np.full(len(boxes), 0.91, np.float32),
                            np.zeros(len(boxes), np.int64))
    score = FrameScore(index, index / 2, 0.712345678, 0.9, sharpness=0.4321987, roi_count=len(boxes))
    return Keyframe(Frame(index, index / 2, np.zeros((960, 540, 3), np.uint8)), score, detections)


def line(text: str, box, frames=(2,), in_product=None, confidence=0.98765) -> FusedText:
    return FusedText(text, text.lower(), confidence, tuple(frames), in_product, tuple(box))


SILENT = Transcript()
SPEECH = Transcript("Only 129 today.", "en", (Segment(0.1, 1.9, "Only 129 today."),), "whisper")


def evidence(lines, keyframes, transcript=SILENT) -> dict[str, Any]:
    doc = build_evidence(
        Provenance(Config(), "c" * 64, {"detector": None, "quality": None, "ocr": OCR, "asr": None}),
        StreamInfo(id="cam1", source="demo.mp4", width=540, height=960),
        (0.0, 10.0), Selection(tuple(keyframes), 20, 10.0), [b"jpeg%d" % i for i in range(len(keyframes))],
        Readings(tuple(lines), len(lines), transcript),
    )
    assert schema_problem(doc, EVIDENCE_SCHEMA) is None
    return doc


def test_an_axis_aligned_box_is_four_integers_and_any_other_its_integer_corners():
    assert box_form(RECT) == [84, 42, 205, 70]
    assert box_form(TILTED) == [[249, 58], [299, 60], [298, 84], [248, 82]]
    assert box_form(((10.4, 20.6), (99.5, 21.4), (99.6, 40.2), (10.3, 39.8))) == [10, 21, 100, 40]  # whole pixels, then a rectangle
    mirrored = ((205.0, 42.0), (84.0, 42.0), (84.0, 70.0), (205.0, 70.0))  # not top-left first: the corners keep the order
    assert box_form(mirrored) == [[205, 42], [84, 42], [84, 70], [205, 70]]
    for box in (RECT, TILTED):
        assert box_points(box_form(box)) == box
    assert box_points([[84.0, 42.0], [205.0, 42.0], [205.0, 70.0], [84.0, 70.0]]) == RECT  # the form written before
    assert box_points(None) == () and box_points([]) == ()


def test_the_writer_states_each_fact_once():
    doc = evidence([line("AURORA", RECT), line("LIVE", TILTED)], [keyframe(2)])
    assert doc["ocr"]["lines"] == [
        {"text": "AURORA", "confidence": 0.9877, "box": [84, 42, 205, 70]},
        {"text": "LIVE", "confidence": 0.9877, "box": [[249, 58], [299, 60], [298, 84], [248, 82]]},
    ]  # one keyframe: no per-line frames; no product box known: no flag
    assert doc["keyframes"][0]["score"] == {"total": 0.7123, "detection": 0.9, "sharpness": 0.4322, "quality": None,
                                            "roi_count": 0, "whole_frame": False}
    assert doc["models"] == {"ocr": {"name": "rapidocr", "sha256": "a" * 64, "precision": "fp32", "provider": "CPUExecutionProvider"}}


def test_with_several_keyframes_each_line_says_where_it_was_read():
    doc = evidence([line("AURORA", RECT, frames=(2, 9), in_product=True), line("LIVE", TILTED, frames=(9,), in_product=False)],
                   [keyframe(2, [[100, 300, 400, 700]]), keyframe(9, [[100, 300, 400, 700]])])
    assert [(ln["frames"], ln["in_product"]) for ln in doc["ocr"]["lines"]] == [([2, 9], True), ([9], False)]
    assert doc["keyframes"][0]["products"] == [{"box": [100.0, 300.0, 400.0, 700.0], "confidence": 0.91, "label": 0}]


def test_the_long_form_of_the_lines_fills_what_the_window_says():
    doc = evidence([line("AURORA", RECT), line("LIVE", TILTED)], [keyframe(2)])
    assert ocr_lines(doc) == [
        {"text": "AURORA", "confidence": 0.9877, "box": [[84, 42], [205, 42], [205, 70], [84, 70]], "frames": [2], "in_product": None},
        {"text": "LIVE", "confidence": 0.9877, "box": [[249, 58], [299, 60], [298, 84], [248, 82]], "frames": [2], "in_product": None},
    ]
    view = EvidenceView.from_document(doc)
    assert [(ln.box, ln.frames, ln.in_product) for ln in view.ocr_lines] == [(RECT, (2,), None), (TILTED, (2,), None)]
    assert view.ocr_lines[0].bounds == (84.0, 42.0, 205.0, 70.0)


@pytest.mark.parametrize(
    "pieces, language", [(("Hi everyone!", "Only 129 today."), "en"), (("今天给大家", "推荐这款面霜", "只要129元"), "zh")],
)
def test_segments_are_spans_of_the_text_and_read_back_to_their_text(pieces, language):
    from edge.asr.transcript import make_transcript

    transcript = make_transcript([Segment(i * 2.0, i * 2.0 + 1.5, p) for i, p in enumerate(pieces)], language, "whisper")
    doc = evidence([], [keyframe(0)], transcript)
    assert all(isinstance(s, list) and len(s) == 4 for s in doc["asr"]["segments"])
    assert segments(doc["asr"]) == [{"start": s.start, "end": s.end, "text": s.text} for s in transcript.segments]
    assert doc["asr"]["text"] == transcript.text


def test_a_segment_that_is_not_a_span_of_the_text_keeps_its_own_text():
    pieces = [SimpleNamespace(start=0.0, end=1.0, text="hello"), SimpleNamespace(start=1.0, end=2.5, text="world")]
    assert segment_forms("hello there", pieces) == [[0.0, 1.0, 0, 5], {"start": 1.0, "end": 2.5, "text": "world"}]
    with pytest.raises(ValueError, match="outside the 5-character text"):
        segments({"text": "hello", "segments": [[0.0, 1.0, 2, 9]]})


def legacy() -> dict[str, Any]:
    """A document as written before the compact forms: float corners, every line complete, segments with text, null models."""
    doc = evidence([line("AURORA", RECT)], [keyframe(2)], SPEECH)
    doc["ocr"]["lines"] = [{"text": "AURORA", "confidence": 0.9877, "box": [list(p) for p in RECT], "frames": [2], "in_product": None}]
    doc["asr"]["segments"] = [{"start": 0.1, "end": 1.9, "text": "Only 129 today."}]
    doc["models"] = {"detector": None, "quality": None, "ocr": doc["models"]["ocr"], "asr": None}
    return doc


def test_documents_written_before_still_validate_and_read_the_same():
    old = legacy()
    assert schema_problem(old, EVIDENCE_SCHEMA) is None
    assert expanded(old)["ocr"] == old["ocr"] and expanded(old)["asr"] == old["asr"]
    new = evidence([line("AURORA", RECT)], [keyframe(2)], SPEECH)
    assert EvidenceView.from_document(new) == EvidenceView.from_document(old)


@pytest.mark.parametrize(
    "box",
    [
        [84, 42, 205],  # three numbers
        [84, 42, 205, 70, 1],  # five
        [84.5, 42, 205, 70],  # a rectangle in fractions of a pixel
        [[84, 42], [205, 42], [205, 70]],  # three corners
        [[84, 42], [205, 42, 1], [205, 70], [84, 70]],  # a corner with three coordinates
        [[84, 42], 205, [205, 70], [84, 70]],  # corners and numbers mixed
        "84,42,205,70",
        [],
    ],
)
def test_the_schema_refuses_a_malformed_box(box):
    doc = evidence([line("AURORA", RECT)], [keyframe(2)])
    doc["ocr"]["lines"][0]["box"] = box
    problem = schema_problem(doc, EVIDENCE_SCHEMA)
    assert problem is not None and problem.startswith("$.ocr.lines[0].box")


@pytest.mark.parametrize("segment", [[0.1, 1.9, 0], [0.1, 1.9, 0, 5, 7], [0.1, 1.9, -1, 5], [0.1, 1.9, 0.5, 5], {"start": 0.1, "end": 1.9}])
def test_the_schema_refuses_a_malformed_segment(segment):
    doc = evidence([], [keyframe(0)], Transcript("hello", "en", (Segment(0.1, 1.9, "hello"),), "whisper"))
    doc["asr"]["segments"] = [segment]
    problem = schema_problem(copy.deepcopy(doc), EVIDENCE_SCHEMA)
    assert problem is not None and problem.startswith("$.asr.segments[0]")
