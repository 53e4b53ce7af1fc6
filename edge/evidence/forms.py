"""The compact forms of the evidence (boxes, OCR lines, ASR segments) and how to read them back.

The evidence states each fact once (``tools/evidence_size.py`` measures what each part costs):

- an OCR box is in whole frame pixels: ``[x0, y0, x1, y1]`` when its corners are the axis-aligned
  rectangle (x0, y0), (x1, y0), (x1, y1), (x0, y1), else its four corners ``[[x, y], ...]`` in the
  OCR's order;
- a line's ``frames`` is left out when the window has one keyframe (it was read in that one), its
  ``in_product`` when it is null (no product box known);
- an ASR segment is ``[start, end, i, j]``: its times and its text as ``asr.text[i:j]`` (code points,
  as Python indexes a str; a JavaScript reader counting UTF-16 units must convert outside the BMP).

Documents written before (corners as one-decimal numbers, every line with its frames and flag,
segments as ``{"start", "end", "text"}``) are read the same way: :func:`expanded` gives either form
in the long one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

Point = tuple[float, float]


def box_form(points: Sequence[Sequence[float]]) -> list[Any]:
    """The compact form of an OCR box given as corner points (TL, TR, BR, BL): a rectangle or four integer corners."""
    corners = [[round(float(x)), round(float(y))] for x, y in points]
    if len(corners) == 4:
        (x0, y0), (x1, y1), (x2, y2), (x3, y3) = corners
        if y0 == y1 and x1 == x2 and y2 == y3 and x3 == x0 and x0 <= x1 and y0 <= y2:
            return [x0, y0, x2, y2]
    return corners


def box_points(box: Sequence[Any] | None) -> tuple[Point, ...]:
    """Corner points of a box in either form (rectangle, or corners as written now or before); () without one."""
    if not box:
        return ()
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in box):
        if len(box) != 4:
            raise ValueError(f"a rectangle box has 4 numbers [x0, y0, x1, y1], got {len(box)}")
        x0, y0, x1, y1 = (float(v) for v in box)
        return (x0, y0), (x1, y0), (x1, y1), (x0, y1)
    return tuple((float(p[0]), float(p[1])) for p in box)


def segment_forms(text: str, segments: Sequence[Any]) -> list[Any]:
    """ASR segments (``start``, ``end``, ``text`` attributes) as ``[start, end, i, j]`` spans of ``text``.

    A segment whose text is not found in order in ``text`` keeps its own text (``{"start", "end", "text"}``).
    """
    forms: list[Any] = []
    cursor = 0
    for s in segments:
        start, end = round(s.start, 3), round(s.end, 3)
        at = text.find(s.text, cursor) if s.text else -1
        if at < 0:
            forms.append({"start": start, "end": end, "text": s.text})
            continue
        cursor = at + len(s.text)
        forms.append([start, end, at, cursor])
    return forms


def timed_form(segment: Any) -> dict[str, Any]:
    """One ASR segment as ``{"start", "end", "text"}``, times rounded to the millisecond."""
    return {"start": round(segment.start, 3), "end": round(segment.end, 3), "text": segment.text}


def segments(asr: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The ``asr`` section's segments as ``{"start", "end", "text"}``, whichever form they were written in."""
    text = asr.get("text") or ""
    out = []
    for s in asr.get("segments") or ():
        if isinstance(s, Mapping):
            out.append({"start": s["start"], "end": s["end"], "text": s["text"]})
            continue
        start, end, i, j = s
        if not 0 <= i <= j <= len(text):
            raise ValueError(f"ASR segment span [{i}, {j}] lies outside the {len(text)}-character text")
        out.append({"start": start, "end": end, "text": text[i:j]})
    return out


def ocr_lines(evidence: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The OCR lines with every field stated: ``box`` as corner points, ``frames``, ``in_product``."""
    keyframes = evidence.get("keyframes") or ()
    only = [keyframes[0]["frame_index"]] if len(keyframes) == 1 else []
    lines = []
    for line in evidence["ocr"]["lines"]:
        full = dict(line)
        if "box" in line:
            full["box"] = [list(p) for p in box_points(line["box"])]
        full["frames"] = list(line["frames"]) if "frames" in line else list(only)
        full["in_product"] = line.get("in_product")
        lines.append(full)
    return lines


def expanded(evidence: Mapping[str, Any]) -> dict[str, Any]:
    """The document in the long form: every OCR line with corner points, frames and flag; segments with their text.

    For audits and for readers written against the long form; fusion reads it through
    ``edge.fusion.EvidenceView``, which accepts both.
    """
    doc = dict(evidence)
    doc["ocr"] = {**evidence["ocr"], "lines": ocr_lines(evidence)}
    doc["asr"] = {**evidence["asr"], "segments": segments(evidence["asr"])}
    return doc
