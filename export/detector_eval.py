"""The trained detector measured and shipped: COCO metrics on a validation set, the ONNX the edge loads.

Validation frames are prepared exactly as the edge prepares them and boxes come from the export's own
post-processing (:class:`export.dfine.DFineWithPostprocess`), so the figures are those of the ONNX.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from export.augment import box_iou
from export.coco import CocoData, coco_metrics, detections_to_coco


@torch.no_grad()
def evaluate_detector(model: torch.nn.Module, data: CocoData, size: int, device: torch.device | None = None,
                      batch: int = 8, max_detections: int = 100) -> dict[str, float]:
    """COCO metrics (:func:`export.coco.coco_metrics`) of a D-FINE on ``data`` at input side ``size``."""
    from edge.detect.onnx_dfine import clip_boxes
    from edge.runtime import preprocess_frames
    from export.dfine import DFineWithPostprocess

    config = model.config  # type: ignore[attr-defined]
    top = DFineWithPostprocess(model, min(max_detections, config.num_queries * config.num_labels))  # type: ignore[arg-type]
    was_training = model.training
    model.eval()
    rows: list[dict[str, Any]] = []
    try:
        for start in range(0, len(data.samples), batch):
            chunk = data.samples[start : start + batch]
            images = [s.read() for s in chunk]
            sizes = torch.tensor([(im.shape[1], im.shape[0]) for im in images], device=device)
            labels, boxes, scores = top(torch.from_numpy(preprocess_frames(images, size)).to(device), sizes)
            for i, sample in enumerate(chunk):
                xyxy = clip_boxes(boxes[i].float().cpu().numpy(), (sample.width, sample.height))
                rows += detections_to_coco(sample.image_id, xyxy, scores[i].cpu().numpy(), labels[i].cpu().numpy(),
                                           data.category_ids)
    finally:
        model.train(was_training)
    return coco_metrics(data.document, rows)


def evaluate_onnx(path: str | Path, data: CocoData, batch: int = 4, threads: int = 2) -> dict[str, Any]:
    """COCO metrics of a detector ONNX (FP32, FP16 or INT8) as the edge runs it (no score threshold, the
    graph's top boxes, every label), plus the edge's own view: frames with a product whose top box
    reaches the runtime's 0.5 and the median IoU of that box."""
    from edge.config.models import DetectorConfig
    from edge.detect import create_detector

    labels = list(range(len(data.category_ids)))
    detector = create_detector(DetectorConfig(model=Path(path), threshold=0.0, product_labels=labels, batch_size=batch),
                               threads=threads)
    rows: list[dict[str, Any]] = []
    boxed = found = 0
    ious: list[float] = []
    try:
        for start in range(0, len(data.samples), batch):
            chunk = data.samples[start : start + batch]
            for sample, found_boxes in zip(chunk, detector.detect([s.read() for s in chunk])):
                rows += detections_to_coco(sample.image_id, found_boxes.xyxy, found_boxes.confidence,
                                           found_boxes.class_id, data.category_ids)
                if len(sample.boxes):
                    boxed += 1
                    if len(found_boxes) and found_boxes.confidence.max() >= 0.5:
                        found += 1
                        top = found_boxes.xyxy[int(found_boxes.confidence.argmax())]
                        ious.append(float(box_iou(sample.boxes, top).max()))
    finally:
        detector.close()
    return {**coco_metrics(data.document, rows), "frames": len(data.samples), "frames_with_product": boxed,
            "top_box_over_0.5": found, "median_top_iou": round(float(np.median(ious)), 4) if ious else None}


def export_detector(checkpoint: str | Path, path: str | Path, size: int, probe: np.ndarray) -> Path:
    """A ``transformers`` checkpoint to ONNX through :func:`export.dfine.export_dfine` (official contract,
    ``size``² input), then opened by the edge runtime as a fresh box opens it, with no input side
    configured (:func:`edge.detect.create_detector`: the contract check) and run on ``probe``."""
    from edge.config.models import DetectorConfig
    from edge.detect import create_detector
    from export.dfine import export_dfine, load_dfine

    path = export_dfine(load_dfine(checkpoint), path, size)
    detector = create_detector(DetectorConfig(model=path), threads=1)
    try:
        detector.detect([probe])
    finally:
        detector.close()
    return path
