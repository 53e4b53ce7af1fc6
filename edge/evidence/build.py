"""Assembling the ``liveguard.evidence/1`` document for one window (DESIGN.md, Evidence JSON).

Evidence is text, numbers and hashes only; keyframe pixels stay on the box, named by their
JPEG's sha256. Each fact is stated once, in the compact forms of :mod:`edge.evidence.forms`: OCR
boxes in whole pixels, scores and confidences to 4 decimals (the result's precision), times to the
millisecond, no per-line field that the window already says, segments as spans of the transcript.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Any

import cv2
import numpy as np

from edge.config.models import Config
from edge.evidence.forms import box_form, segment_forms, timed_form
from edge.evidence.schema import EVIDENCE_SCHEMA
from edge.types import FusedText, Keyframe, ModelInfo, Readings, Selection, StreamInfo

JPEG_QUALITY = 90
DIGITS = 4  # scores and confidences; the result reports confidences to 4 decimals too


def encode_jpeg(image: np.ndarray) -> bytes:
    """The keyframe as stored locally and hashed into the evidence."""
    ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return buffer.tobytes()


@dataclass(frozen=True)
class Provenance:
    """Who saw the window and how: the configuration, its hash and the identity of every model."""

    config: Config
    config_hash: str
    models: Mapping[str, ModelInfo | None]


def build_evidence(
    provenance: Provenance,
    stream: StreamInfo,
    window: tuple[float, float],
    selection: Selection,
    jpegs: Sequence[bytes],
    readings: Readings,
    created_at: datetime | None = None,
    scores: Sequence[tuple[float, float]] | None = None,
) -> dict[str, Any]:
    """The evidence document of one window; ``jpegs`` are the keyframes' JPEGs, named by their sha256.

    ``scores``: the window's frame-score curve, ``(pts, total)`` in time order (:class:`edge.select.ScoreCurve`
    bounds it); None leaves ``selection.scores`` out.
    """
    config = provenance.config
    scoring = config.scoring
    weights = {"w_d": scoring.w_d, "w_q": scoring.w_q} if scoring.strategy == "B" else {"w_d": scoring.w_d, "w_s": scoring.w_s}
    transcript = readings.transcript
    one_keyframe = len(selection.keyframes) == 1
    doc: dict[str, Any] = {
        "schema": EVIDENCE_SCHEMA,
        "id": "",
        "created_at": (created_at or datetime.now(timezone.utc)).isoformat(timespec="seconds"),
        "device": {"id": config.device.id, "site": config.device.site},
        "stream": asdict(stream),
        "window": {"start": round(window[0], 3), "end": round(window[1], 3)},
        "selection": {
            "strategy": scoring.strategy,
            "top_k": config.selection.top_k,
            "sample_fps": config.sampling.fps,
            "sampled_frames": selection.sampled_frames,
            "d_min": round(selection.d_min, 3),
            "weights": weights,
            "detector": "d-fine" if config.detector.model is not None else "none",
            "whole_frame_fallback": any(kf.score.whole_frame for kf in selection.keyframes),
            **({} if scores is None else {"scores": score_curve_form(scores)}),
        },
        "keyframes": [
            _keyframe(kf, hashlib.sha256(jpeg).hexdigest()) for kf, jpeg in zip(selection.keyframes, jpegs, strict=True)
        ],
        "ocr": {"raw_lines": readings.raw_ocr_lines, "lines": [_ocr_line(line, one_keyframe) for line in readings.ocr_lines]},
        "asr": {
            "backend": transcript.backend,
            "language": transcript.language,
            "text": transcript.text,
            "segments": segment_forms(transcript.text, transcript.segments),
            **({"claim_segments": [timed_form(s) for s in transcript.claim_segments]} if transcript.claim_segments else {}),
        },
        "vl": readings.vl,
        "models": {role: asdict(info) for role, info in provenance.models.items() if info is not None},  # the models that ran
        "config_hash": provenance.config_hash,
    }
    doc["id"] = evidence_id(doc)
    return doc


def score_curve_form(scores: Sequence[tuple[float, float]]) -> list[list[float]]:
    """``[[pts, total], ...]``: pts to the millisecond, totals to 4 decimals, as the keyframes state them."""
    return [[round(float(pts), 3), round(float(total), DIGITS)] for pts, total in scores]


def evidence_id(doc: dict[str, Any]) -> str:
    """Idempotency id: the same window of the same stream, seen the same way, gets the same id."""
    key = {
        "device": doc["device"],
        "stream": [doc["stream"]["id"], doc["stream"]["source"]],
        "window": doc["window"],
        "keyframes": [kf["jpeg_sha256"] for kf in doc["keyframes"]],
        "config_hash": doc["config_hash"],
    }
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:32]


def _keyframe(keyframe: Keyframe, digest: str) -> dict[str, Any]:
    s, d = keyframe.score, keyframe.detections
    return {
        "frame_index": keyframe.frame.index,
        "pts": round(keyframe.frame.pts, 3),
        "score": {
            "total": round(s.total, DIGITS),
            "detection": round(s.detection, DIGITS),
            "sharpness": None if s.sharpness is None else round(s.sharpness, DIGITS),
            "quality": None if s.quality is None else round(s.quality, DIGITS),
            "roi_count": s.roi_count,
            "whole_frame": s.whole_frame,
        },
        "products": [
            {"box": [round(float(v), 1) for v in box], "confidence": round(float(c), DIGITS), "label": int(label)}
            for box, c, label in zip(d.xyxy, d.confidence, d.class_id)
        ],
        "jpeg_sha256": digest,
    }


def _ocr_line(line: FusedText, one_keyframe: bool) -> dict[str, Any]:
    """``frames`` is left out when the window has one keyframe, ``in_product`` when unknown (null)."""
    doc: dict[str, Any] = {"text": line.text, "confidence": round(float(line.confidence), DIGITS)}
    if line.box:
        doc["box"] = box_form(line.box)
    if not one_keyframe:
        doc["frames"] = list(line.frames)
    if line.in_product is not None:
        doc["in_product"] = line.in_product
    return doc
