"""COCO-format product-box annotations of benchmark frames, for detector training (paper §3.6.2).

One category, ``goods`` (id 0, the runtime's default ``detector.product_labels``). A frame is annotated
when the product face is mostly in frame and not severely occluded, as the paper's annotators did;
its per-frame facts (blur, defocus, occlusion, yaw) ride along in ``attributes``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

CATEGORY = {"id": 0, "name": "goods", "supercategory": "product"}
MIN_IN_FRAME = 0.6
MAX_OCCLUDED = 0.6


def frame_file(clip_id: str, index: int) -> str:
    """Where a frame's JPEG lives (relative to the dataset's ``coco/`` folder) when written."""
    return f"frames/{clip_id}/{index:05d}.jpg"


def annotated(frame: dict[str, Any]) -> bool:
    """Does this truth frame carry a product box a person would draw?"""
    return bool(frame["box"]) and frame["in_frame"] >= MIN_IN_FRAME and frame["occluded"] <= MAX_OCCLUDED


def coco_document(clips: Iterable[tuple[str, str, dict[str, Any]]], stride: int) -> dict[str, Any]:
    """A COCO detection document over every ``stride``-th frame of each (clip_id, video path, truth)."""
    images: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    for clip_id, video, truth in clips:
        width, height = truth["video"]["width"], truth["video"]["height"]
        for frame in truth["frames"][::stride]:
            image_id = len(images) + 1
            images.append(
                {
                    "id": image_id, "file_name": frame_file(clip_id, frame["i"]), "width": width, "height": height,
                    "video": video, "frame_index": frame["i"], "t": frame["t"],
                }
            )
            if annotated(frame):
                x1, y1, x2, y2 = frame["box"]
                annotations.append(
                    {
                        "id": len(annotations) + 1, "image_id": image_id, "category_id": CATEGORY["id"],
                        "bbox": [x1, y1, x2 - x1, y2 - y1], "area": (x2 - x1) * (y2 - y1), "iscrowd": 0,
                        "attributes": {k: frame[k] for k in ("in_frame", "motion_blur_px", "defocus_px", "occluded", "yaw")},
                    }
                )
    return {
        "info": {"description": "LiveGuard synthetic livestream benchmark: product boxes", "version": "1"},
        "licenses": [],
        "images": images,
        "annotations": annotations,
        "categories": [CATEGORY],
    }


def frames_to_save(truth_frames: Sequence[dict[str, Any]], stride: int) -> set[int]:
    return {f["i"] for f in truth_frames[::stride]}
