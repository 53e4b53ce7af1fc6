"""The trained detector measured and shipped: COCO metrics on a validation set, the ONNX the edge loads.

Validation frames are prepared exactly as the edge prepares them and boxes come from the export's own
post-processing (:class:`export.dfine.DFineWithPostprocess`), so the figures are those of the ONNX.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from export.coco import CocoData, coco_metrics, detections_to_coco

# Written into the exported ONNX. The runtime does not read it: it takes detector.input_size from the
# config and refuses a graph whose fixed input side differs (edge.detect.check_detector_signature).
INPUT_SIZE_KEY = "liveguard.detector.input_size"


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


def export_detector(checkpoint: str | Path, path: str | Path, size: int, probe: np.ndarray) -> Path:
    """A ``transformers`` checkpoint to ONNX through :func:`export.dfine.export_dfine` (official contract,
    ``size``² input), ``size`` written to the metadata, then opened by the edge runtime
    (:func:`edge.detect.create_detector`: the contract check) and run on ``probe``."""
    import onnx

    from edge.config.models import DetectorConfig
    from edge.detect import create_detector
    from export.dfine import export_dfine, load_dfine

    path = export_dfine(load_dfine(checkpoint), path, size)
    graph = onnx.load(str(path))
    kept = [p for p in graph.metadata_props if p.key != INPUT_SIZE_KEY]
    del graph.metadata_props[:]
    graph.metadata_props.extend(kept)
    graph.metadata_props.add(key=INPUT_SIZE_KEY, value=str(size))
    onnx.save(graph, str(path))
    detector = create_detector(DetectorConfig(model=path, input_size=size), threads=1)
    try:
        detector.detect([probe])
    finally:
        detector.close()
    return path
