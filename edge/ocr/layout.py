"""Where OCR lines lie: inside a product box or not, and in what order a person reads them.

Engine-independent: every text reader and the evaluation use these on ``OcrLine`` values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from edge.types import Detections, OcrLine

Box = tuple[tuple[float, float], ...]


def in_product(box: Box, products: Detections | None) -> bool | None:
    """Whether the box centre lies inside any product box (edges count); None without boxes."""
    if products is None or len(products) == 0:
        return None
    centre = np.asarray(box, dtype=np.float64).reshape(-1, 2).mean(axis=0)
    xyxy = np.asarray(products.xyxy, dtype=np.float64).reshape(-1, 4)
    x, y = centre
    inside = (xyxy[:, 0] <= x) & (x <= xyxy[:, 2]) & (xyxy[:, 1] <= y) & (y <= xyxy[:, 3])
    return bool(inside.any())


def reading_order(lines: Sequence[OcrLine]) -> list[OcrLine]:
    """Top-to-bottom rows, left-to-right within a row.

    A line joins the current row when its vertical centre lies within the span of the row's
    first line, so slightly tilted or offset lines on one visual row keep their left-right order.
    """
    rows: list[list[OcrLine]] = []
    for line in sorted(lines, key=lambda item: (_span(item)[0], _left(item))):
        if rows and _same_row(rows[-1][0], line):
            rows[-1].append(line)
        else:
            rows.append([line])
    return [line for row in rows for line in sorted(row, key=_left)]


def _span(line: OcrLine) -> tuple[float, float]:
    ys = [y for _, y in line.box]
    return min(ys), max(ys)


def _left(line: OcrLine) -> float:
    return min(x for x, _ in line.box)


def _same_row(first: OcrLine, line: OcrLine) -> bool:
    top, bottom = _span(first)
    low, high = _span(line)
    return top <= (low + high) / 2 <= bottom


def with_product_flags(lines: Sequence[OcrLine], products: Detections | None) -> list[OcrLine]:
    """``lines`` with ``in_product`` computed against ``products`` (None without boxes)."""
    return [replace(line, in_product=in_product(line.box, products)) for line in lines]
