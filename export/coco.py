"""COCO-format detector data: load it for training, build it from benchmark clips, score boxes with COCO AP.

A dataset is a COCO detection document (``annotations.json``) whose ``file_name`` are relative to the
document's folder. :func:`coco_from_benchmark` writes one from the clips of ``tools/make_benchmark.py``:
the generator already annotates every ``--coco-stride``-th frame in ``DIR/coco/annotations.json`` (its
rules: paper §3.6.2); this samples those annotations at a coarser stride and decodes the frames from the
H.264 clips, so training sees the compression the box sees. :func:`coco_metrics` is pycocotools'
``COCOeval`` (the Table 3 metrics), not a re-implementation.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

ANNOTATIONS = "annotations.json"
JPEG_QUALITY = 95


@dataclass(frozen=True)
class CocoSample:
    """One image of a COCO document: its file, size and boxes as x1, y1, x2, y2 pixels with label indices."""

    image_id: int
    path: Path
    width: int
    height: int
    boxes: np.ndarray  # float32 [n, 4] x1, y1, x2, y2
    labels: np.ndarray  # int64 [n], index into CocoData.category_ids

    def read(self) -> np.ndarray:
        image = cv2.imread(str(self.path), cv2.IMREAD_COLOR)
        if image is None:
            raise FileNotFoundError(f"{self.path}: missing or not an image (make the frames with python -m export coco-from-benchmark)")
        return image


@dataclass(frozen=True)
class CocoData:
    """A loaded COCO document: the document itself (for the evaluator), its samples and category ids."""

    source: Path
    document: dict[str, Any]
    samples: tuple[CocoSample, ...]
    category_ids: tuple[int, ...]  # model label i is category category_ids[i]


def resolve_annotations(path: str | Path) -> Path:
    """A COCO json file, or the folder holding it (``annotations.json`` or a benchmark's ``coco/annotations.json``)."""
    path = Path(path)
    if path.is_file():
        return path
    for candidate in (path / ANNOTATIONS, path / "coco" / ANNOTATIONS):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"{path}: no COCO annotations (a .json file, or a folder with {ANNOTATIONS})")


def load_coco(path: str | Path) -> CocoData:
    """Read a COCO detection document; image files are checked when read, not here."""
    source = resolve_annotations(path)
    document = json.loads(source.read_text(encoding="utf-8"))
    for key in ("images", "annotations", "categories"):
        if not isinstance(document.get(key), list):
            raise ValueError(f"{source}: not a COCO detection document (no '{key}' list)")
    if not document["categories"]:
        raise ValueError(f"{source}: no categories")
    category_ids = tuple(sorted(int(c["id"]) for c in document["categories"]))
    label_of = {cid: i for i, cid in enumerate(category_ids)}
    boxes: dict[int, list[list[float]]] = {}
    labels: dict[int, list[int]] = {}
    for ann in document["annotations"]:
        if ann.get("iscrowd", 0):
            continue
        x, y, w, h = (float(v) for v in ann["bbox"])
        if w <= 0 or h <= 0:
            continue
        boxes.setdefault(ann["image_id"], []).append([x, y, x + w, y + h])
        labels.setdefault(ann["image_id"], []).append(label_of[int(ann["category_id"])])
    samples = tuple(
        CocoSample(
            image_id=int(image["id"]), path=source.parent / image["file_name"], width=int(image["width"]),
            height=int(image["height"]), boxes=np.asarray(boxes.get(image["id"], []), np.float32).reshape(-1, 4),
            labels=np.asarray(labels.get(image["id"], []), np.int64),
        )
        for image in document["images"]
    )
    if not samples:
        raise ValueError(f"{source}: no images")
    return CocoData(source, document, samples, category_ids)


def coco_from_benchmark(bench: str | Path, out: str | Path, stride: int = 10) -> Path:
    """Every ``stride``-th frame of a benchmark's clips with the generator's boxes, as ``out/annotations.json``
    plus JPEGs decoded from the clips; returns the json's path.

    ``stride`` counts frames of the clip and must be a multiple of the stride the generator annotated at
    (``manifest.json``'s ``coco.stride``, 5 by default).
    """
    bench, out = Path(bench), Path(out)
    source = bench / "coco" / ANNOTATIONS
    if not source.is_file():
        raise FileNotFoundError(f"{bench}: not a benchmark folder (no coco/{ANNOTATIONS}; see tools/make_benchmark.py)")
    if stride < 1:
        raise ValueError(f"--stride must be at least 1, got {stride}")
    document = json.loads(source.read_text(encoding="utf-8"))
    indices = sorted({int(image["frame_index"]) for image in document["images"]})
    base = indices[1] - indices[0] if len(indices) > 1 else 1
    if stride % base:
        raise ValueError(f"{source}: frames are annotated every {base} frames; --stride must be a multiple of {base}")
    images = [image for image in document["images"] if int(image["frame_index"]) % stride == 0]
    by_video: dict[str, list[dict[str, Any]]] = {}
    for image in images:
        by_video.setdefault(image["video"], []).append(image)
    for video, wanted in by_video.items():
        _write_frames(bench / video, {int(i["frame_index"]): out / i["file_name"] for i in wanted})
    kept = {image["id"] for image in images}
    sampled = {
        **document,
        "info": {**document.get("info", {}), "sampled_from": str(source), "stride": stride},
        "images": images,
        "annotations": [ann for ann in document["annotations"] if ann["image_id"] in kept],
    }
    out.mkdir(parents=True, exist_ok=True)
    path = out / ANNOTATIONS
    path.write_text(json.dumps(sampled, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def _write_frames(video: Path, targets: dict[int, Path]) -> None:
    capture = cv2.VideoCapture(str(video))
    if not capture.isOpened():
        raise FileNotFoundError(f"{video}: cannot open the clip")
    try:
        index, last = 0, max(targets)
        while index <= last:
            ok, frame = capture.read()
            if not ok:
                raise ValueError(f"{video}: ends at frame {index}, annotations go to frame {last}")
            if index in targets:
                targets[index].parent.mkdir(parents=True, exist_ok=True)
                cv2.imwrite(str(targets[index]), frame, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
            index += 1
    finally:
        capture.release()


# COCOeval.stats positions of the metrics of the paper's Table 3
METRIC_INDEX = {"mAP50:95": 0, "AP50": 1, "AP75": 2, "AR100": 8}


def coco_metrics(document: dict[str, Any], detections: Sequence[dict[str, Any]]) -> dict[str, float]:
    """COCO box AP/AR of ``detections`` (COCO results: image_id, category_id, bbox x,y,w,h, score) against
    ``document``, with pycocotools' ``COCOeval``: mAP50:95, AP50, AP75, AR100 (paper Table 3).

    No detections at all scores 0 (pycocotools refuses an empty result list); -1 means no ground truth.
    """
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    if not detections:
        has_truth = bool(document["annotations"])
        return {name: 0.0 if has_truth else -1.0 for name in METRIC_INDEX}
    with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints its progress and summary table
        truth = COCO()
        # ids renumbered from 1: COCOeval reads a matched ground-truth id of 0 as "unmatched"
        annotations = [{"iscrowd": 0, "area": a["bbox"][2] * a["bbox"][3], **a, "id": i + 1}
                       for i, a in enumerate(document["annotations"])]
        truth.dataset = {"images": document["images"], "annotations": annotations, "categories": document["categories"]}
        truth.createIndex()
        results = truth.loadRes([dict(d) for d in detections])
        evaluator = COCOeval(truth, results, iouType="bbox")
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return {name: float(evaluator.stats[i]) for name, i in METRIC_INDEX.items()}


def detections_to_coco(
    image_id: int, boxes: np.ndarray, scores: np.ndarray, labels: np.ndarray, category_ids: Sequence[int]
) -> list[dict[str, Any]]:
    """One image's x1, y1, x2, y2 boxes, scores and label indices as COCO result rows."""
    rows = []
    for (x1, y1, x2, y2), score, label in zip(boxes.tolist(), scores.tolist(), labels.tolist()):
        rows.append({"image_id": image_id, "category_id": int(category_ids[int(label)]),
                     "bbox": [x1, y1, x2 - x1, y2 - y1], "score": float(score)})
    return rows
