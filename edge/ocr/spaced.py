"""A second look at print inside a product box that the text detector left out: the tracked-out letters of a logo
(``Z e n i t h``), and a small, thin Chinese logo (``云朵``).

The detector boxes such print letter by letter or not at all, so the brand never reaches the fusion. This pass
finds rows of separate glyphs that no recognised line covers, closes the gaps between the letters (keeping a
wider gap between words), and hands the closed strip and the row as printed to the recogniser alone. It runs
only where the detector read nothing, keeps a reading only when the recogniser is sure of it, and an untracked
row only when it reads as Chinese.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from edge.text import has_cjk
from edge.types import Detections, Frame, OcrLine

SCALE = 3.0  # the product crop is enlarged this much first: logo letters are a few pixels high in a stream
GLYPH_HEIGHT = (6, 0.2)  # a glyph is 6 px (enlarged) to a fifth of the box high ...
GLYPH_ASPECT = 2.5  # ... at most this many heights wide ...
GLYPH_AREA = 12  # ... and has this much ink (px, enlarged): specks are not letters
MIN_GLYPHS = 3  # a tracked row of fewer glyphs is no word ...
MIN_CJK_GLYPHS = 2  # ... but two characters are a Chinese brand (云朵), which the detector misses when small and thin
ROW_REACH = 4.0  # a glyph joins a row when it starts within this many glyph heights of the row's end
SPACING = (0.25, 2.0)  # letter gap / glyph height of tracked print: tighter is ordinary type, wider is no word;
# an untracked row is read too, and kept only when it reads as Chinese (small CJK print the detector left out)
WORD_GAP = 1.6  # a gap this many times the row's median gap separates words
CLOSED_GAP, CLOSED_WORD_GAP = 0.15, 0.9  # the gaps of the closed strip, in glyph heights
STRIP_HEIGHT = 40  # px: the recogniser's own input height is 48, less the border
MIN_CONFIDENCE = 0.7  # a closed strip the recogniser reads less surely is left out (textures read as "II", "Ell")
MIN_LETTERS = 2

Recognise = Callable[[np.ndarray], tuple[str, float]]  # BGR strip -> text, score


@dataclass(frozen=True)
class SpacedRow:
    """A row of separate glyphs in crop coordinates (enlarged by SCALE): their boxes (x, y, w, h)."""

    glyphs: tuple[tuple[int, int, int, int], ...]

    @property
    def height(self) -> int:
        return max(g[3] for g in self.glyphs)

    @property
    def bounds(self) -> tuple[int, int, int, int]:
        return (min(g[0] for g in self.glyphs), min(g[1] for g in self.glyphs),
                max(g[0] + g[2] for g in self.glyphs), max(g[1] + g[3] for g in self.glyphs))

    def spans(self) -> list[tuple[int, int]]:
        """The glyphs' column spans left to right, overlapping ones merged (an i and its dot)."""
        merged: list[list[int]] = []
        for a, b in sorted((g[0], g[0] + g[2]) for g in self.glyphs):
            if merged and a <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], b)
            else:
                merged.append([a, b])
        return [(a, b) for a, b in merged]

    def gaps(self) -> list[int]:
        spans = self.spans()
        return [spans[i + 1][0] - spans[i][1] for i in range(len(spans) - 1)]

    def spacing(self) -> float:
        gaps = self.gaps()
        return float(np.median(gaps)) / self.height if gaps else 0.0

    @property
    def tracked(self) -> bool:
        return len(self.glyphs) >= MIN_GLYPHS and self.spacing() >= SPACING[0]


def with_spaced_text(lines: Sequence[OcrLine], frame: Frame, products: Detections, recognise: Recognise) -> list[OcrLine]:
    """``lines`` and the rows the detector left out (tracked print, small Chinese type) read inside each product box
    of ``frame``; a lone letter the detector boxed out of such a row goes (the row's reading replaces it)."""
    out = list(lines)
    height, width = frame.image.shape[:2]
    for x0, y0, x1, y1 in np.asarray(products.xyxy, dtype=np.float64).reshape(-1, 4):
        left, top = max(0, int(x0)), max(0, int(y0))
        right, bottom = min(width, int(np.ceil(x1))), min(height, int(np.ceil(y1)))
        covered = [_offset(_bounds(line), -left, -top) for line in out if len(line.text.replace(" ", "")) >= MIN_LETTERS]
        for text, score, box in read_spaced(frame.image[top:bottom, left:right], covered, recognise):
            bx0, by0, bx1, by1 = _offset(box, left, top)
            out = [line for line in out if not (len(line.text.strip()) < MIN_LETTERS and _centre_in(line, (bx0, by0, bx1, by1)))]
            points = ((bx0, by0), (bx1, by0), (bx1, by1), (bx0, by1))
            out.append(OcrLine(text, min(max(score, 0.0), 1.0), points, frame.index, True))
    return out


def _bounds(line: OcrLine) -> tuple[float, float, float, float]:
    xs, ys = [p[0] for p in line.box], [p[1] for p in line.box]
    return min(xs), min(ys), max(xs), max(ys)


def _offset(box: tuple[float, float, float, float], dx: float, dy: float) -> tuple[float, float, float, float]:
    return box[0] + dx, box[1] + dy, box[2] + dx, box[3] + dy


def _centre_in(line: OcrLine, box: tuple[float, float, float, float]) -> bool:
    x0, y0, x1, y1 = _bounds(line)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return box[0] <= cx <= box[2] and box[1] <= cy <= box[3]


def read_spaced(crop: np.ndarray, covered: Sequence[tuple[float, float, float, float]],
                recognise: Recognise) -> list[tuple[str, float, tuple[float, float, float, float]]]:
    """(text, score, box in crop pixels) of each row of separate glyphs in ``crop`` (BGR) that no ``covered`` box
    (x0, y0, x1, y1 in crop pixels: the lines already read) overlaps, read by ``recognise``: tracked rows in any
    script, untracked ones only when they read as Chinese."""
    if crop.size == 0 or min(crop.shape[:2]) < 8:
        return []
    big = cv2.resize(crop, None, fx=SCALE, fy=SCALE, interpolation=cv2.INTER_CUBIC)
    gray = cv2.cvtColor(big, cv2.COLOR_BGR2GRAY)
    out = []
    for row in spaced_rows(gray, [tuple(v * SCALE for v in box) for box in covered]):
        # tracked print with its gaps closed; an untracked row also as printed (a CJK space is narrow already), the
        # surer of the two readings
        strips = (closed_strip(gray, row),) if row.tracked else (closed_strip(gray, row), row_strip(gray, row))
        text, score = max((recognise(cv2.cvtColor(strip, cv2.COLOR_GRAY2BGR)) for strip in strips), key=lambda reading: reading[1])
        text = text.strip()
        if score < MIN_CONFIDENCE or sum(ch.isalpha() for ch in text) < MIN_LETTERS:
            continue
        if not row.tracked and not has_cjk(text):
            continue  # ordinary Latin type the detector left out is mostly texture or a picture read as letters
        x0, y0, x1, y1 = row.bounds
        out.append((text, score, (x0 / SCALE, y0 / SCALE, x1 / SCALE, y1 / SCALE)))
    return out


def spaced_rows(gray: np.ndarray, covered: Sequence[tuple[float, float, float, float]]) -> list[SpacedRow]:
    """Rows of two or more separate glyphs in ``gray`` outside the ``covered`` boxes, no wider spaced than a word."""
    h, w = gray.shape
    edges = cv2.morphologyEx(gray, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))
    _, ink = cv2.threshold(edges, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    # rules and accent bands are long horizontal strokes: removed, else the letters under a band join it
    rules = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (max(8, w // 4), 1)))
    ink = cv2.subtract(ink, cv2.dilate(rules, np.ones((5, 1), np.uint8)))
    for x0, y0, x1, y1 in covered:
        ink[max(0, int(y0)):max(0, int(y1)) + 1, max(0, int(x0)):max(0, int(x1)) + 1] = 0
    count, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    glyphs = sorted(
        (tuple(int(v) for v in stats[i][:4]) for i in range(1, count)
         if GLYPH_HEIGHT[0] <= stats[i][3] <= GLYPH_HEIGHT[1] * h and stats[i][2] <= GLYPH_ASPECT * stats[i][3]
         and stats[i][4] >= GLYPH_AREA),
        key=lambda g: g[0],
    )
    rows: list[list[tuple[int, int, int, int]]] = []
    for glyph in glyphs:
        for row in rows:
            if _joins(row, glyph):
                row.append(glyph)
                break
        else:
            rows.append([glyph])
    found = [SpacedRow(tuple(row)) for row in rows if len(row) >= MIN_CJK_GLYPHS]
    return [row for row in found if row.spacing() <= SPACING[1]]


def _joins(row: list[tuple[int, int, int, int]], glyph: tuple[int, int, int, int]) -> bool:
    top, bottom = min(g[1] for g in row), max(g[1] + g[3] for g in row)
    slack = 0.3 * (bottom - top)
    centre = glyph[1] + glyph[3] / 2
    reach = ROW_REACH * max(g[3] for g in row)
    return top - slack <= centre <= bottom + slack and glyph[0] - max(g[0] + g[2] for g in row) < reach


def row_strip(gray: np.ndarray, row: SpacedRow) -> np.ndarray:
    """The row as printed, with a margin, scaled to STRIP_HEIGHT with a border."""
    x0, y0, x1, y1 = row.bounds
    pad = max(1, row.height // 4)
    strip = gray[max(0, y0 - pad):y1 + pad, max(0, x0 - 2 * pad):x1 + 2 * pad]
    return _fitted(cv2.normalize(strip, None, 0, 255, cv2.NORM_MINMAX))


def _fitted(strip: np.ndarray) -> np.ndarray:
    scale = STRIP_HEIGHT / strip.shape[0]
    strip = cv2.resize(strip, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
    return cv2.copyMakeBorder(strip, 8, 8, 8, 8, cv2.BORDER_CONSTANT, value=int(np.median(strip)))


def closed_strip(gray: np.ndarray, row: SpacedRow) -> np.ndarray:
    """The row's glyph columns side by side with the letter gaps closed, on the row's own background, contrast
    stretched and scaled to STRIP_HEIGHT with a border."""
    height = row.height
    pad = max(1, height // 6)
    _, top, _, bottom = row.bounds
    y0, y1 = max(0, top - pad), min(gray.shape[0], bottom + pad)
    band = gray[y0:y1]
    background = int(np.median(band))
    gaps, spans = row.gaps(), row.spans()
    median = float(np.median(gaps)) if gaps else 0.0
    blank = lambda width: np.full((y1 - y0, max(1, width)), background, np.uint8)  # noqa: E731
    parts = [blank(height)]
    for i, (a, b) in enumerate(spans):
        parts.append(band[:, a:b])
        if i < len(gaps):
            wide = gaps[i] > WORD_GAP * median
            parts.append(blank(int((CLOSED_WORD_GAP if wide else CLOSED_GAP) * height)))
    parts.append(blank(height))
    return _fitted(cv2.normalize(np.hstack(parts), None, 0, 255, cv2.NORM_MINMAX))
