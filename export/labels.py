"""The quality labels file: product crops (PNG files beside it) with a teacher's pseudo-label each.

``python -m export label-quality`` writes it, ``python -m export train-quality`` reads it::

    {"schema": "liveguard.quality-labels/1", "teacher": {...}, "crops_dir": "labels_crops",
     "items": [{"crop": "clip_0003/00040_0.png", "video": "clip_0003", "frame": 40, "box": [...],
                "raw": 0.61, "label": 0.61, ...teacher details}, ...]}

``crops_dir`` is relative to the file; ``label`` is in [0, 1] (1 = best for recognition); ``video``
keeps every crop of a clip on one side of the train/validation split (paper §3.7).
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2

from export.crops import iter_crops
from export.teachers import Teacher

SCHEMA = "liveguard.quality-labels/1"


@dataclass(frozen=True)
class QualityLabel:
    """One labelled crop: its image file, its clip and its label in [0, 1]."""

    path: Path
    video: str
    label: float
    crop: str = ""


def default_crops_dir(out: Path) -> Path:
    return out.with_name(out.stem + "_crops")


def label_dataset(
    frames_dir: str | Path, teacher: Teacher | None, out: str | Path, *, crops_dir: str | Path | None = None,
    stride: int = 1, limit: int | None = None, command: str = "", log: Callable[[str], None] = lambda _m: None,
) -> dict[str, Any]:
    """Cut the dataset's product crops into ``crops_dir``, score each with ``teacher`` and write ``out``.

    ``teacher`` None writes the crops and a file without labels, for scoring them elsewhere (HyperIQA),
    then ``--teacher scores``. Returns the document written.
    """
    out = Path(out)
    crops = Path(crops_dir) if crops_dir else default_crops_dir(out)
    items: list[dict[str, Any]] = []
    raws: list[float] = []
    skipped = 0
    started = time.perf_counter()
    for n, crop in enumerate(iter_crops(frames_dir, stride, limit), 1):
        path = crops / crop.crop
        path.parent.mkdir(parents=True, exist_ok=True)
        if not cv2.imwrite(str(path), crop.image):
            raise RuntimeError(f"{path}: cannot write the crop")
        item: dict[str, Any] = {"crop": crop.crop, "video": crop.video, "frame": crop.frame,
                                "box": [round(v, 1) for v in crop.box]}
        if teacher is not None:
            raw, detail = teacher.score(crop)
            if raw is None:
                skipped += 1
                continue
            item["raw"] = round(float(raw), 6)
            item.update(detail)
            raws.append(float(raw))
        items.append(item)
        if n % 100 == 0:
            log(f"{n} crops, {time.perf_counter() - started:.0f} s")
    if not items:
        raise ValueError(f"{frames_dir}: no crop was labelled (skipped {skipped} without a teacher score)")
    if teacher is not None:
        for item, label in zip(items, teacher.labels(raws)):
            item["label"] = round(label, 6)
    document = {
        "schema": SCHEMA,
        "teacher": teacher.describe() if teacher is not None else None,
        "source": str(frames_dir),
        "crops_dir": _relative(crops, out.parent),
        "stride": stride,
        "count": len(items),
        "videos": len({item["video"] for item in items}),
        "skipped": skipped,
        "seconds": round(time.perf_counter() - started, 1),
        "command": command,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "items": items,
    }
    write_document(document, out)
    return document


def write_document(document: dict[str, Any], out: Path) -> None:
    """One item a line, the rest as a readable header."""
    head = {k: v for k, v in document.items() if k != "items"}
    body = ",\n".join("    " + json.dumps(item, ensure_ascii=False) for item in document["items"])
    text = json.dumps(head, ensure_ascii=False, indent=2)[:-2] + ',\n  "items": [\n' + body + "\n  ]\n}\n"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")


def read_labels(path: str | Path) -> tuple[list[QualityLabel], dict[str, Any]]:
    """The labelled crops of a labels file (checked: every label finite in [0, 1], every crop present)
    and the file's header."""
    path = Path(path)
    document = json.loads(path.read_text(encoding="utf-8"))
    if document.get("schema") != SCHEMA:
        raise ValueError(f"{path}: not a quality labels file (schema {document.get('schema')!r}, expected {SCHEMA!r})")
    crops = path.parent / document.get("crops_dir", default_crops_dir(path).name)
    labels = []
    for i, item in enumerate(document.get("items", [])):
        value = item.get("label")
        if value is None:
            raise ValueError(f"{path}: item {i} ({item.get('crop')}) has no label; run label-quality with a teacher")
        value = float(value)
        if not (math.isfinite(value) and 0.0 <= value <= 1.0):
            raise ValueError(f"{path}: item {i} ({item.get('crop')}) label {value} is not in [0, 1]")
        labels.append(QualityLabel(crops / item["crop"], str(item["video"]), value, item["crop"]))
    if not labels:
        raise ValueError(f"{path}: no items")
    missing = [label.path for label in labels if not label.path.is_file()]
    if missing:
        raise FileNotFoundError(f"{missing[0]}: crop missing ({len(missing)} of {len(labels)})")
    return labels, {k: v for k, v in document.items() if k != "items"}


def _relative(path: Path, start: Path) -> str:
    try:
        return str(path.resolve().relative_to(start.resolve()))
    except ValueError:
        return str(path.resolve())
