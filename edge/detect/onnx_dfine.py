"""D-FINE with the official export contract (DESIGN.md, Detector), on any runtime of :mod:`edge.runtime`.

The graph takes RGB frames plainly resized to S×S and scaled to [0, 1], plus each frame's
(width, height); it returns ``labels``, ``boxes`` (x1, y1, x2, y2 in original pixels) and
sigmoid ``scores`` for its top-Q (query, class) pairs. The detector only keeps the product
boxes above the threshold and clips them to the frame; what runs the graph is a ``Runner``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from edge.config.models import DetectorConfig
from edge.errors import ModelError
from edge.runtime import (
    DFINE_OUTPUT_NAMES,
    GraphTensor,
    ModelSignature,
    Runner,
    TensorSpec,
    preprocess_frames,
    signature_problems,
)
from edge.types import Detections, ModelInfo

OFFICIAL_INPUT_SIDE = 640


def contract_inputs(size: int) -> list[TensorSpec]:
    """The official inputs for a model of input side ``size`` (FP16 variants may take float16 images)."""
    return [
        TensorSpec("images", ("float32", "float16"), ("N", 3, size, size)),
        TensorSpec("orig_target_sizes", ("int64",), ("N", 2)),
    ]


CONTRACT_OUTPUTS = [
    TensorSpec("labels", ("int64",), ("N", "Q")),
    TensorSpec("boxes", ("float32",), ("N", "Q", 4)),
    TensorSpec("scores", ("float32",), ("N", "Q")),
]


class DFineDetector:
    """The official D-FINE contract on any runtime; see :class:`edge.detect.Detector`.

    ``runner`` runs the graph (the detector owns it: :meth:`close` closes it), ``model`` is its
    identity for evidence, ``input_dtype`` the dtype of its ``images`` input.
    """

    def __init__(self, config: DetectorConfig, runner: Runner, model: ModelInfo, input_dtype: str = "float32",
                 input_size: int = OFFICIAL_INPUT_SIDE) -> None:
        self.config = config
        self.input_size = input_size
        self.model = model
        self._runner = runner
        self._input_dtype = np.dtype(input_dtype)
        self._product_labels = np.asarray(config.product_labels, dtype=np.int64)

    def detect(self, images: Sequence[np.ndarray]) -> list[Detections]:
        """Product boxes of each BGR frame, in that frame's pixels (frames may differ in size)."""
        if not images:
            return []
        blob = preprocess_frames(images, self.input_size).astype(self._input_dtype, copy=False)
        sizes = np.array([(image.shape[1], image.shape[0]) for image in images], dtype=np.int64)
        feeds = {"images": blob, "orig_target_sizes": sizes}
        labels, boxes, scores = self._runner.run(DFINE_OUTPUT_NAMES, feeds)
        return [
            self._products(labels[i], boxes[i], scores[i], (int(w), int(h))) for i, (w, h) in enumerate(sizes)
        ]

    def close(self) -> None:
        self._runner.close()

    def _products(self, labels: np.ndarray, boxes: np.ndarray, scores: np.ndarray, size: tuple[int, int]) -> Detections:
        keep = (scores >= self.config.threshold) & np.isin(labels, self._product_labels)
        xyxy = clip_boxes(boxes[keep].astype(np.float32), size)
        # A box wholly outside the frame collapses to zero area when clipped: nothing to show.
        visible = (xyxy[:, 2] > xyxy[:, 0]) & (xyxy[:, 3] > xyxy[:, 1])
        return Detections(
            xyxy=xyxy[visible],
            confidence=scores[keep][visible].astype(np.float32),
            class_id=labels[keep][visible].astype(np.int64),
        )


def input_side(signature: ModelSignature, configured: int | None) -> int:
    """The square input side to feed: ``configured``, else the side the ``images`` input fixes, else 640."""
    if configured is not None:
        return configured
    images = next((t for t in signature.inputs if t.name == "images"), None)
    shape = images.shape if images is not None else None
    if shape is not None and len(shape) == 4 and isinstance(shape[2], int) and shape[2] == shape[3]:
        return shape[2]
    return OFFICIAL_INPUT_SIDE


def check_detector_signature(signature: ModelSignature, size: int | None) -> GraphTensor:
    """Refuse a graph that differs from the contract (input side ``size``, None: its own); returns its ``images`` input."""
    size = input_side(signature, size)
    problems = signature_problems(signature.inputs, signature.outputs, contract_inputs(size), CONTRACT_OUTPUTS)
    if problems:
        raise ModelError(str(signature.path), "does not match the D-FINE detector contract: " + "; ".join(problems))
    return signature.input("images")


def clip_boxes(xyxy: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Clip x1, y1, x2, y2 boxes to a frame of ``size`` = (width, height)."""
    width, height = size
    clipped = xyxy.copy()
    clipped[:, 0::2] = np.clip(clipped[:, 0::2], 0, width)
    clipped[:, 1::2] = np.clip(clipped[:, 1::2], 0, height)
    return clipped
