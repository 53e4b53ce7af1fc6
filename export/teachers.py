"""Teachers that give product crops a quality pseudo-label in [0, 1] for distilling the regressor (paper §3.7.2).

- ``scores``: scores of any no-reference IQA model (HyperIQA in the paper) read from a CSV or JSON
  file of crop -> score, linearly mapped to [0, 1] over their range.
- ``brisque``: BRISQUE (Mittal et al.) with OpenCV's LIVE model files (Debian ``opencv-data``);
  0 (best) .. 100 mapped to 1 .. 0.
- ``ocr``: the task-oriented teacher the paper names as future work (§5, "product-oriented quality
  supervision"): how readable the crop is to our own OCR engine, the mean recognition confidence
  of its characters times the share of the package's truth text recovered (or, without a truth,
  a count of characters read that saturates at ``saturation``).

A teacher maps a :class:`~export.crops.ProductCrop` to a raw score; ``labels`` maps the raw
scores of a whole set to labels (the ``scores`` range is only known once all are read).
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Sequence
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from edge.types import Frame, OcrLine
from export.crops import ProductCrop

TEACHERS = ("scores", "brisque", "ocr")


class Teacher(Protocol):
    name: str

    def score(self, crop: ProductCrop) -> tuple[float | None, dict[str, Any]]:
        """The crop's raw score (None: the teacher has none for it) and details kept beside the label."""
        ...

    def labels(self, raw: Sequence[float]) -> list[float]:
        """Labels in [0, 1] (1 = best for recognition) of a set's raw scores."""
        ...

    def describe(self) -> dict[str, Any]:
        """The teacher and its settings, recorded in the labels file."""
        ...


# ------------------------------------------------------------------------------------------------ scores


class ScoresTeacher:
    """Scores computed elsewhere (e.g. HyperIQA over the crops folder), matched to crops by their id.

    A key matches a crop when it is the crop's id or a path ending in it (``/data/crops/clip_0003/00040_0.png``).
    ``score_range`` maps to [0, 1] (default: the min and max of the scores matched); ``lower_is_better``
    flips the scale (BRISQUE-like scores).
    """

    name = "scores"

    def __init__(self, scores: dict[str, float], source: str = "", score_range: tuple[float, float] | None = None,
                 lower_is_better: bool = False) -> None:
        if not scores:
            raise ValueError(f"{source or 'scores'}: no scores")
        self.source = source
        self.score_range = score_range
        self.lower_is_better = lower_is_better
        self._scores: dict[str, float] = {}
        for key, value in scores.items():
            parts = key.replace("\\", "/").strip("/").split("/")
            for tail in range(min(len(parts), 2), 0, -1):
                self._scores.setdefault("/".join(parts[-tail:]), float(value))

    @classmethod
    def from_file(cls, path: str | Path, **options: Any) -> ScoresTeacher:
        return cls(read_scores(path), str(path), **options)

    def score(self, crop: ProductCrop) -> tuple[float | None, dict[str, Any]]:
        value = self._scores.get(crop.crop)
        return (value if value is not None and math.isfinite(value) else None), {}

    def labels(self, raw: Sequence[float]) -> list[float]:
        if not raw:
            return []
        low, high = self.score_range or (min(raw), max(raw))
        if not high > low:
            raise ValueError(f"{self.source}: the scores span no range ({low} .. {high}); give --scores-range")
        scaled = np.clip((np.asarray(raw, np.float64) - low) / (high - low), 0.0, 1.0)
        return [float(v) for v in (1.0 - scaled if self.lower_is_better else scaled)]

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "file": self.source, "range": list(self.score_range) if self.score_range else "min-max",
                "lower_is_better": self.lower_is_better}


_KEY_COLUMNS = ("crop", "path", "file", "filename", "image", "name", "img")
_SCORE_COLUMNS = ("score", "quality", "pred", "prediction", "mos", "iqa", "value")


def read_scores(path: str | Path) -> dict[str, float]:
    """crop -> score from a JSON object, a JSON list of records, or a CSV (header with a crop and a
    score column, or two plain columns)."""
    path = Path(path)
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() == ".json":
        data = json.loads(text)
        if isinstance(data, dict):
            data = data.get("items", data)
        if isinstance(data, dict):
            return {str(k): float(v) for k, v in data.items()}
        return dict(_record(path, row) for row in data)
    rows = [row for row in csv.reader(text.splitlines()) if row and any(cell.strip() for cell in row)]
    if not rows:
        raise ValueError(f"{path}: no scores")
    header = [cell.strip().lower() for cell in rows[0]]
    key_col = next((header.index(c) for c in _KEY_COLUMNS if c in header), None)
    score_col = next((header.index(c) for c in _SCORE_COLUMNS if c in header), None)
    if key_col is None or score_col is None:
        key_col, score_col = 0, 1
        if not _is_number(rows[0][1] if len(rows[0]) > 1 else ""):  # an unknown header
            rows = rows[1:]
    else:
        rows = rows[1:]
    try:
        return {row[key_col].strip(): float(row[score_col]) for row in rows}
    except (IndexError, ValueError) as error:
        raise ValueError(f"{path}: expected crop,score rows ({error})") from error


def _record(path: Path, row: Any) -> tuple[str, float]:
    if not isinstance(row, dict):
        raise ValueError(f"{path}: expected records with a crop and a score, got {row!r}")
    key = next((row[c] for c in _KEY_COLUMNS if c in row), None)
    value = next((row[c] for c in _SCORE_COLUMNS if c in row), None)
    if key is None or value is None:
        raise ValueError(f"{path}: a record lacks a crop or a score: {row!r}")
    return str(key), float(value)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# ------------------------------------------------------------------------------------------------ brisque


class BrisqueTeacher:
    """BRISQUE 0 (best) .. 100 on the crop; label 1 - score / 100. See :mod:`export.brisque`."""

    name = "brisque"

    def __init__(self, models_dir: str | Path | None = None) -> None:
        from export.brisque import Brisque

        self._brisque = Brisque(models_dir)

    def score(self, crop: ProductCrop) -> tuple[float | None, dict[str, Any]]:
        return self._brisque.score(crop.image), {}

    def labels(self, raw: Sequence[float]) -> list[float]:
        return [1.0 - min(max(value, 0.0), 100.0) / 100.0 for value in raw]

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, **self._brisque.describe()}


# ------------------------------------------------------------------------------------------------ ocr


def readable_form(text: str) -> str:
    """Text as compared for recovery: the OCR fusion's matching form, letters, digits and CJK only."""
    from edge.ocr import normalise_text

    return "".join(ch for ch in normalise_text(text) if ch.isalnum())


def readability(lines: Sequence[OcrLine], reference: Sequence[str] = (), saturation: int = 24) -> dict[str, Any]:
    """How readable a crop was: ``score`` = mean character confidence x ``recovered``.

    ``recovered`` is the share of the reference's characters found, in order, in what was read (the
    reference lines joined against the lines read joined, in reading order; runs of one character are
    coincidences and do not count); without a reference, the characters read over ``saturation``,
    capped at 1. Characters count in :func:`readable_form`.
    """
    read = [(readable_form(line.text), line.confidence) for line in lines]
    chars = sum(len(text) for text, _ in read)
    confidence = sum(len(text) * conf for text, conf in read) / chars if chars else 0.0
    fields = [form for form in (readable_form(text) for text in reference) if form]
    if fields:
        recovered = _matched("".join(fields), "".join(text for text, _ in read)) / sum(len(field) for field in fields)
    else:
        recovered = min(chars / saturation, 1.0) if saturation > 0 else float(chars > 0)
    return {"score": confidence * recovered, "confidence": confidence, "recovered": recovered, "chars": chars}


def _matched(reference: str, read: str, shortest: int = 2) -> int:
    if not read:
        return 0
    blocks = SequenceMatcher(None, reference, read, autojunk=False).get_matching_blocks()
    return sum(block.size for block in blocks if block.size >= shortest)


class OcrTeacher:
    """Readability of the crop to the edge's OCR reader (RapidOCR with the edge's ``ocr`` settings).

    ``use_truth`` False ignores the truth text and uses the saturating count.
    """

    name = "ocr"

    def __init__(self, reader: Any = None, threads: int = 1, min_confidence: float = 0.5, saturation: int = 24,
                 use_truth: bool = True) -> None:
        if reader is None:
            from edge.config.models import OcrConfig
            from edge.ocr import create_reader

            reader = create_reader(OcrConfig(min_confidence=min_confidence), threads)
        self.reader = reader
        self.min_confidence = getattr(reader, "min_confidence", min_confidence)
        self.saturation = saturation
        self.use_truth = use_truth

    def score(self, crop: ProductCrop) -> tuple[float | None, dict[str, Any]]:
        lines = self.reader.read(Frame(crop.frame, 0.0, crop.image), None)
        reference = crop.text if self.use_truth else ()
        result = readability(lines, reference, self.saturation)
        detail = {
            "ocr_confidence": round(result["confidence"], 4), "recovered": round(result["recovered"], 4),
            "chars": result["chars"], "read": " | ".join(line.text for line in lines),
            "against": "truth" if reference else f"count/{self.saturation}",
        }
        return result["score"], detail

    def labels(self, raw: Sequence[float]) -> list[float]:
        return [min(max(float(value), 0.0), 1.0) for value in raw]

    def describe(self) -> dict[str, Any]:
        model = getattr(self.reader, "model", None)
        return {
            "name": self.name, "engine": getattr(model, "name", type(self.reader).__name__),
            "min_confidence": self.min_confidence, "saturation": self.saturation, "use_truth": self.use_truth,
            "formula": "mean character confidence x share of truth characters recovered (or chars/saturation, capped at 1)",
        }


def make_teacher(name: str, **options: Any) -> Teacher:
    """The teacher ``name`` of :data:`TEACHERS` with its options (see each class)."""
    if name == "scores":
        if not options.get("scores"):
            raise ValueError("the scores teacher needs --scores FILE (crop,score as CSV or JSON)")
        return ScoresTeacher.from_file(options["scores"], score_range=options.get("score_range"),
                                       lower_is_better=bool(options.get("lower_is_better")))
    if name == "brisque":
        return BrisqueTeacher(options.get("brisque_models"))
    if name == "ocr":
        return OcrTeacher(threads=int(options.get("threads") or 1), min_confidence=float(options.get("min_confidence", 0.5)),
                          saturation=int(options.get("saturation") or 24), use_truth=not options.get("no_truth"))
    raise ValueError(f"teacher must be one of {TEACHERS}, got {name!r}")

