"""Product crops of a benchmark dataset at its truth boxes: the inputs the quality teachers label.

A dataset is what ``tools/make_benchmark.py --coco-images`` writes (rendered frames), or what
``python -m export coco-from-benchmark`` writes (frames decoded from the H.264 clips, as the box sees
them; the shipped regressor's labels come from these): ``annotations.json`` names each frame JPEG
with its clip (``video``) and product boxes, and each clip's ``clips/<id>.truth.json`` in the
benchmark holds the text printed on the package (brand, product name, spec).
Crops are cut exactly as the edge cuts them for Strategy B (:func:`edge.runtime.contracts.crop_xyxy`), so
the labels describe what the regressor will see on the box (paper §3.3.3, input preprocessing).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from edge.runtime import crop_xyxy


@dataclass(frozen=True)
class ProductCrop:
    """One product ROI: ``crop`` is its id (a path relative to the crops folder), ``video`` the clip
    it comes from (the unit of the train/validation split), ``text`` the truth text on its package."""

    crop: str
    video: str
    frame: int
    box: tuple[float, float, float, float]  # x1 y1 x2 y2 in the frame
    text: tuple[str, ...] = ()
    image: np.ndarray = field(default_factory=lambda: np.zeros((0, 0, 3), np.uint8), repr=False)


def coco_folder(frames_dir: str | Path) -> Path:
    """The ``coco/`` folder of a dataset given as its root or as that folder itself."""
    root = Path(frames_dir)
    for folder in (root / "coco", root):
        if (folder / "annotations.json").is_file():
            return folder
    raise FileNotFoundError(f"{root}: no coco/annotations.json (a dataset of tools/make_benchmark.py --coco-images)")


def truth_text(truth: dict) -> tuple[str, ...]:
    """What the generator prints on the package face and the truth records: brand, product name, spec."""
    fields = [truth.get("brand"), truth.get("product_name"), *dict(truth.get("key_attributes") or {}).values()]
    return tuple(str(value) for value in fields if value)


def iter_crops(frames_dir: str | Path, stride: int = 1, limit: int | None = None) -> Iterator[ProductCrop]:
    """Crops of every ``stride``-th annotated frame of the dataset (first ``limit``), with their pixels.

    A frame without a box (product out of view, occluded) yields nothing; a missing JPEG is an
    error naming it (the dataset was written without ``--coco-images``).
    """
    if stride < 1:
        raise ValueError(f"stride must be at least 1, got {stride}")
    coco = coco_folder(frames_dir)
    document = json.loads((coco / "annotations.json").read_text(encoding="utf-8"))
    boxes: dict[int, list[list[float]]] = {}
    for annotation in document.get("annotations", []):
        x, y, w, h = annotation["bbox"]
        boxes.setdefault(annotation["image_id"], []).append([x, y, x + w, y + h])
    root = _benchmark_root(coco, document)
    texts: dict[str, tuple[str, ...]] = {}
    done, seen = 0, 0
    for image in sorted(document.get("images", []), key=lambda im: (im.get("video", ""), im.get("frame_index", 0))):
        if image["id"] not in boxes:
            continue
        seen += 1
        if (seen - 1) % stride:
            continue
        video = _video_id(image)
        if video not in texts:
            texts[video] = _clip_text(root, image.get("video"))
        path = coco / image["file_name"]
        frame = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if frame is None:
            raise FileNotFoundError(f"{path}: frame missing or unreadable (write the dataset with --coco-images)")
        xyxy = np.asarray(boxes[image["id"]], np.float32)
        index = int(image.get("frame_index", image["id"]))
        for k, (pixels, box) in enumerate(zip(crop_xyxy(frame, xyxy), xyxy)):
            yield ProductCrop(f"{video}/{index:05d}_{k}.png", video, index, tuple(float(v) for v in box), texts[video],
                              np.ascontiguousarray(pixels))
            done += 1
            if limit and done >= limit:
                return


def _benchmark_root(coco: Path, document: dict) -> Path:
    """The benchmark folder holding ``clips/``: the dataset's parent, or where coco-from-benchmark sampled it."""
    sampled = (document.get("info") or {}).get("sampled_from")
    if sampled and not (coco.parent / "clips").is_dir():
        source = Path(sampled) if Path(sampled).is_absolute() else coco / sampled
        return source.parent.parent if source.parent.name == "coco" else source.parent
    return coco.parent


def _video_id(image: dict) -> str:
    if image.get("video"):
        return Path(image["video"]).stem
    return Path(image["file_name"]).parent.name or "video"


def _clip_text(root: Path, video: str | None) -> tuple[str, ...]:
    if not video:
        return ()
    path = root / Path(video).with_suffix("").with_suffix(".truth.json")
    if not path.is_file():
        return ()
    return truth_text(json.loads(path.read_text(encoding="utf-8")))
