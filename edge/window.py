"""One window's documents: from what selection kept and the readers made of it to evidence and result.

These are the steps after frame scoring, shared by :class:`edge.pipeline.Pipeline` and the
evaluation (``tools/livebench``), so that both assemble a window the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from edge.claims import screening_for
from edge.evidence import EVIDENCE_SCHEMA, RESULT_SCHEMA, Provenance, build_evidence, encode_jpeg, schema_problem
from edge.fusion.engine import Document, FusionEngine
from edge.ocr import fuse_ocr_lines
from edge.ocr.layout import with_product_flags
from edge.select import ScoreCurve
from edge.sources import MediaInfo
from edge.types import Detections, Frame, Keyframe, ModelInfo, OcrLine, Readings, Selection, StreamInfo


def model_identities(**models: Any) -> dict[str, ModelInfo | None]:
    """``role -> ModelInfo`` of the models that ran (each has a ``model`` attribute), None for those that did not."""
    return {role: (model.model if model is not None else None) for role, model in models.items()}


def stream_info(path: str | Path, media: MediaInfo, keyframes: Sequence[Keyframe], decode_errors: int) -> StreamInfo:
    """Where the window came from; the size is the keyframe's, which is upright even when the file stores a rotation."""
    height, width = keyframes[0].frame.image.shape[:2] if keyframes else (media.height, media.width)
    return StreamInfo(
        id=Path(path).stem,
        source=Path(path).name,
        video_codec=media.video_codec,
        audio_codec=media.audio_codec,
        width=int(width),
        height=int(height),
        decode_errors=decode_errors,
    )


def window_span(last_pts: float, duration: float | None) -> tuple[float, float]:
    """A file's one window: from its start to its last sampled frame or its duration, whichever is later."""
    return 0.0, max(last_pts, duration or 0.0)


def read_keyframes(
    keyframes: Sequence[Keyframe], read: Callable[[Frame, Detections | None], Sequence[OcrLine]], boxes_known: bool,
    similarity: float,
) -> tuple[list[Any], int]:
    """OCR each keyframe with ``read`` (a ``TextReader.read``: it is given the keyframe's product boxes, where it reads
    letter-spaced print), flag its lines against them, fuse them across keyframes (paper §3.4.2). Returns the fused
    texts and how many lines were read.

    ``boxes_known``: a detector ran. Without one (the whole-frame fallback), and on a keyframe where it
    found nothing, a line cannot be told from the overlay: its flag is None.
    """
    lines: list[OcrLine] = []
    for keyframe in keyframes:
        boxes = keyframe.detections if boxes_known else None
        lines += with_product_flags(read(keyframe.frame, boxes), boxes)
    return fuse_ocr_lines(lines, similarity), len(lines)


def window_evidence(
    provenance: Provenance, stream: StreamInfo, window: tuple[float, float], selection: Selection, readings: Readings,
    curve: ScoreCurve | None = None,
) -> tuple[Document, list[bytes]]:
    """The window's evidence (checked against its schema), claims screened, and its keyframes' JPEGs.

    ``curve``: the window's frame scores; their curve goes into ``selection.scores`` with the keyframes on it.
    """
    jpegs = [encode_jpeg(keyframe.frame.image) for keyframe in selection.keyframes]
    scores = None if curve is None else curve.points((kf.frame.pts, kf.score.total) for kf in selection.keyframes)
    evidence = build_evidence(provenance, stream, window, selection, jpegs, readings, scores=scores)
    screening = screening_for(provenance.config.claims)
    if screening is not None:
        evidence["claims"] = screening.section(evidence)
    check_document(evidence, EVIDENCE_SCHEMA)
    return evidence, jpegs


def decode_failure(decode_errors: int) -> list[str]:
    """The line a window carries when some of its packets could not be decoded."""
    if not decode_errors:
        return []
    return [f"decode: {decode_errors} damaged packet(s) skipped; the result rests on the frames that decoded"]


def window_result(fuse: FusionEngine, evidence: Document, failures: Sequence[str] = ()) -> Document:
    """Fuse the evidence; the window's own ``failures`` come before the engine's. Checked against its schema."""
    result = fuse(evidence)
    if failures:
        result["failures"] = [*failures, *result.get("failures", [])]
    check_document(result, RESULT_SCHEMA)
    return result


def check_document(document: Mapping[str, Any], schema: str) -> None:
    """A document we built that misses its schema is a bug of ours, not bad input: say exactly where."""
    problem = schema_problem(document, schema)
    if problem is not None:
        raise AssertionError(f"{schema} document does not match its schema: {problem}")
