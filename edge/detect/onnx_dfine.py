"""D-FINE with the official export contract (DESIGN.md, Detector), on ONNX Runtime or TensorRT.

The graph takes RGB frames plainly resized to S×S and scaled to [0, 1], plus each frame's
(width, height); it returns ``labels``, ``boxes`` (x1, y1, x2, y2 in original pixels) and
sigmoid ``scores`` for its top-Q (query, class) pairs. The detector only keeps the product
boxes above the threshold and clips them to the frame; what runs the graph is a ``Runner``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from edge.config.models import DetectorConfig
from edge.detect.onnx_model import (
    GraphTensor,
    OrtRunner,
    TensorSpec,
    graph_inputs,
    graph_outputs,
    load_onnx,
    model_info,
    open_session,
    signature_problems,
)
from edge.detect.providers import select_providers
from edge.errors import ModelError
from edge.types import Detections, ModelInfo

OUTPUT_NAMES = ("labels", "boxes", "scores")


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


class Runner(Protocol):
    """What runs a graph: an ONNX Runtime session wrapper or a TensorRT engine."""

    def run(self, output_names: Sequence[str], feeds: Mapping[str, np.ndarray]) -> list[np.ndarray]: ...


class DFineDetector:
    """The official D-FINE contract on any runtime; see :class:`edge.detect.Detector`.

    ``runner`` runs the graph, ``model`` is its identity for evidence, ``input_dtype`` the
    dtype of its ``images`` input.
    """

    def __init__(self, config: DetectorConfig, runner: Runner, model: ModelInfo, input_dtype: str = "float32") -> None:
        self.config = config
        self.input_size = config.input_size
        self.model = model
        self._runner = runner
        self._input_dtype = np.dtype(input_dtype)
        self._product_labels = np.asarray(config.product_labels, dtype=np.int64)

    def detect(self, images: Sequence[np.ndarray]) -> list[Detections]:
        """Product boxes of each BGR frame, in that frame's pixels (frames may differ in size)."""
        if not images:
            return []
        blob = preprocess(images, self.input_size).astype(self._input_dtype, copy=False)
        sizes = np.array([(image.shape[1], image.shape[0]) for image in images], dtype=np.int64)
        feeds = {"images": blob, "orig_target_sizes": sizes}
        labels, boxes, scores = self._runner.run(OUTPUT_NAMES, feeds)
        return [
            self._products(labels[i], boxes[i], scores[i], (int(w), int(h))) for i, (w, h) in enumerate(sizes)
        ]

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


class OnnxDFineDetector(DFineDetector):
    """A D-FINE ONNX file (official contract) run by ONNX Runtime."""

    def __init__(self, config: DetectorConfig, threads: int, path: str | Path | None = None) -> None:
        source = path if path is not None else config.model
        if source is None:
            raise ValueError("OnnxDFineDetector needs config.model or a path")
        path = Path(source)
        graph = load_onnx(path)
        images = check_detector_signature(path, graph_inputs(graph), graph_outputs(graph), config.input_size)
        session = open_session(path, select_providers(config.providers), threads)
        super().__init__(config, OrtRunner(session, images.fixed_batch), model_info(path, graph, session), images.dtype)


def check_detector_signature(
    path: Path, inputs: Sequence[GraphTensor], outputs: Sequence[GraphTensor], size: int
) -> GraphTensor:
    """Refuse a graph that differs from the contract; returns its ``images`` input."""
    problems = signature_problems(inputs, outputs, contract_inputs(size), CONTRACT_OUTPUTS)
    if problems:
        raise ModelError(str(path), "does not match the D-FINE detector contract: " + "; ".join(problems))
    return next(tensor for tensor in inputs if tensor.name == "images")


def preprocess(images: Sequence[np.ndarray], size: int) -> np.ndarray:
    """BGR uint8 frames -> float32 [N,3,size,size]: RGB, plain bilinear resize, scaled to [0, 1]."""
    blob = np.empty((len(images), 3, size, size), dtype=np.float32)
    for i, image in enumerate(images):
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8 or 0 in image.shape:
            raise ValueError(f"frame {i}: expected a BGR uint8 array (H, W, 3), got {image.dtype} {image.shape}")
        resized = cv2.resize(image, (size, size), interpolation=cv2.INTER_LINEAR)
        blob[i] = cv2.cvtColor(resized, cv2.COLOR_BGR2RGB).transpose(2, 0, 1)
    blob /= 255.0
    return blob


def clip_boxes(xyxy: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Clip x1, y1, x2, y2 boxes to a frame of ``size`` = (width, height)."""
    width, height = size
    clipped = xyxy.copy()
    clipped[:, 0::2] = np.clip(clipped[:, 0::2], 0, width)
    clipped[:, 1::2] = np.clip(clipped[:, 1::2], 0, height)
    return clipped
