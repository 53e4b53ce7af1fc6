"""Accuracy of an FP16 or INT8 variant against its FP32 export, on held-out frames, with stated bounds.

Detector: the FP32 model's top-K detections of each frame (boxes whose shorter side is at least
2% of the frame's shorter side: smaller ones are no product anyone reads) are matched greedily
(highest score first) to the variant's detections of the same label by IoU; the report gives
the share matched at IoU >= 0.5, the matched boxes' IoU, their score deltas and their box
deltas in pixels and as a fraction of the frame side. Quality regressor: Pearson correlation of the raw
scores and the mean/max absolute error of the [0, 1] scores the edge uses.

``BOUNDS`` are what a variant of a trained model must meet before it ships;
``python -m export fp16|int8|report`` exits non-zero when one is missed. A randomly initialised
D-FINE (the only kind CI has: no detector weights ship anywhere) is chaotic: its box heads turn
any perturbation of the features into shifts of a few pixels on boxes a few pixels wide, so
its INT8 variant misses the shipping bounds by construction. ``RANDOM_WEIGHT_BOUNDS`` state what
such a model must still meet (scores and boxes of matched detections close); the tests hold
the random models to them and check that the shipping gate flags the rest.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort

from edge.runtime import graph_inputs, graph_metadata, graph_outputs, graph_precision, read_range
from export.frames import detector_feeds, quality_feeds


@dataclass(frozen=True)
class Bound:
    metric: str
    op: str  # ">=" or "<="
    value: float

    def holds(self, measured: float) -> bool:
        return measured >= self.value if self.op == ">=" else measured <= self.value

    def __str__(self) -> str:
        return f"{self.metric} {self.op} {self.value:g}"


BOUNDS: dict[tuple[str, str], tuple[Bound, ...]] = {
    ("detector", "fp16"): (
        Bound("matched_fraction", ">=", 0.95),
        Bound("iou_mean", ">=", 0.95),
        Bound("score_delta_max", "<=", 0.02),
        Bound("box_delta_rel_max", "<=", 0.02),
    ),
    ("detector", "int8"): (
        Bound("matched_fraction", ">=", 0.6),
        Bound("iou_mean", ">=", 0.85),
        Bound("score_delta_mean", "<=", 0.05),
    ),
    ("quality", "fp16"): (Bound("pearson", ">=", 0.999), Bound("mae", "<=", 0.01)),
    ("quality", "int8"): (Bound("pearson", ">=", 0.95), Bound("mae", "<=", 0.06)),
}
RANDOM_WEIGHT_BOUNDS: dict[tuple[str, str], tuple[Bound, ...]] = {
    **BOUNDS,
    ("detector", "int8"): (
        Bound("matched_fraction", ">=", 0.02),
        Bound("score_delta_mean", "<=", 0.05),
        Bound("box_delta_rel_max", "<=", 0.05),
    ),
}


@dataclass
class AccuracyReport:
    """Figures of one variant against FP32, and the bounds they are held to."""

    role: str
    precision: str
    reference: str
    variant: str
    samples: int
    metrics: dict[str, float]
    bounds: tuple[Bound, ...] = field(default=())

    def violations(self) -> list[str]:
        return [
            f"{bound.metric} = {self.metrics[bound.metric]:.4g}, needs {bound}"
            for bound in self.bounds
            if not bound.holds(self.metrics[bound.metric])
        ]

    def to_dict(self) -> dict:
        return {
            "role": self.role,
            "precision": self.precision,
            "reference": self.reference,
            "variant": self.variant,
            "samples": self.samples,
            "metrics": {k: round(float(v), 6) for k, v in self.metrics.items()},
            "bounds": [str(b) for b in self.bounds],
            "violations": self.violations(),
        }

    def format(self) -> str:
        head = f"{self.role} {self.precision} vs fp32 on {self.samples} held-out {'frames' if self.role == 'detector' else 'crops'}"
        lines = [head] + [f"  {name:<20} {value:.6g}" for name, value in self.metrics.items()]
        problems = self.violations()
        verdict = "met (" + "; ".join(map(str, self.bounds)) + ")" if not problems else "MISSED: " + "; ".join(problems)
        lines.append("  bounds: " + verdict)
        return "\n".join(lines)

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")
        return path


def _session(path: str | Path, threads: int) -> ort.InferenceSession:
    """A CPU session that computes ``path`` as its target runtime would.

    A TensorRT-bound INT8 graph (symmetric INT8 activations) is run with ONNX Runtime's fusions off,
    so each Q/DQ pair is applied in float around a float kernel: what TensorRT's INT8 arithmetic
    approximates, the same on every CPU. Fused, the report would measure the host's integer kernels
    instead: on x86 CPUs without VNNI their S8S8 path saturates and the random-weight detector matched
    no box at all (AMD EPYC), where a VNNI Xeon matched most. A UINT8 (CPU-target) graph runs fused,
    as it will in production.
    """
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    if tensorrt_bound_int8(onnx.load(str(path), load_external_data=False)):
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    return ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])


def tensorrt_bound_int8(graph: onnx.ModelProto) -> bool:
    """Whether ``graph`` quantises activations to signed INT8 (the TensorRT Q/DQ layout), not UINT8."""
    zero_points = {init.name: init.data_type for init in graph.graph.initializer}
    types = {zero_points.get(node.input[2]) for node in graph.graph.node if node.op_type == "QuantizeLinear" and len(node.input) > 2}
    return onnx.TensorProto.INT8 in types and onnx.TensorProto.UINT8 not in types


def box_iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """IoU of one x1,y1,x2,y2 box with each of ``boxes``."""
    x1 = np.maximum(box[0], boxes[:, 0])
    y1 = np.maximum(box[1], boxes[:, 1])
    x2 = np.minimum(box[2], boxes[:, 2])
    y2 = np.minimum(box[3], boxes[:, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area = lambda b: np.clip(b[..., 2] - b[..., 0], 0, None) * np.clip(b[..., 3] - b[..., 1], 0, None)
    union = area(box) + area(boxes) - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def match_detections(
    ref: tuple[np.ndarray, np.ndarray, np.ndarray],
    var: tuple[np.ndarray, np.ndarray, np.ndarray],
    top_k: int,
    iou_match: float,
) -> list[tuple[int, int, float]]:
    """(reference index, variant index, IoU) of the reference's top-``top_k`` detections that match.

    ``ref`` and ``var`` are (labels, boxes, scores) of one frame. Greedy by reference score;
    each variant detection matches once, only with the same label.
    """
    ref_labels, ref_boxes, ref_scores = ref
    var_labels, var_boxes, _ = var
    used = np.zeros(len(var_labels), dtype=bool)
    matches = []
    for i in np.argsort(-ref_scores, kind="stable")[:top_k]:
        candidates = np.flatnonzero((var_labels == ref_labels[i]) & ~used)
        if candidates.size == 0:
            continue
        ious = box_iou(ref_boxes[i].astype(np.float64), var_boxes[candidates].astype(np.float64))
        best = int(np.argmax(ious))
        if ious[best] >= iou_match:
            used[candidates[best]] = True
            matches.append((int(i), int(candidates[best]), float(ious[best])))
    return matches


def detector_report(
    reference: str | Path,
    variant: str | Path,
    frames: Sequence[np.ndarray],
    input_size: int = 640,
    top_k: int = 20,
    iou_match: float = 0.5,
    threads: int = 2,
    batch_size: int = 4,
    min_box_side: float = 0.02,
) -> AccuracyReport:
    """Compare the D-FINE ``variant`` with its FP32 ``reference`` on BGR ``frames``."""
    names = ["labels", "boxes", "scores"]
    sessions = [_session(reference, threads), _session(variant, threads)]
    ious, score_deltas, box_px, box_rel = [], [], [], []
    wanted = 0
    for start in range(0, len(frames), batch_size):
        chunk = frames[start : start + batch_size]
        feeds = detector_feeds(chunk, input_size)
        ref_out, var_out = (session.run(names, feeds) for session in sessions)
        for i, (w, h) in enumerate(feeds["orig_target_sizes"]):
            ref = tuple(out[i] for out in ref_out)
            var = tuple(out[i] for out in var_out)
            sides = np.minimum(ref[1][:, 2] - ref[1][:, 0], ref[1][:, 3] - ref[1][:, 1])
            big = sides >= min_box_side * min(int(w), int(h))
            ref = tuple(out[big] for out in ref)
            wanted += min(top_k, len(ref[0]))
            scale = np.array([w, h, w, h], dtype=np.float64)
            for r, v, iou in match_detections(ref, var, top_k, iou_match):  # type: ignore[arg-type]
                delta = np.abs(ref[1][r].astype(np.float64) - var[1][v].astype(np.float64))
                ious.append(iou)
                score_deltas.append(abs(float(ref[2][r]) - float(var[2][v])))
                box_px.append(float(delta.max()))
                box_rel.append(float((delta / scale).max()))

    def stat(values: list[float], fn, empty: float) -> float:
        return float(fn(values)) if values else empty

    metrics = {
        "matched_fraction": len(ious) / max(wanted, 1),
        "iou_mean": stat(ious, np.mean, 0.0),
        "iou_min": stat(ious, np.min, 0.0),
        "score_delta_mean": stat(score_deltas, np.mean, 1.0),
        "score_delta_max": stat(score_deltas, np.max, 1.0),
        "box_delta_px_mean": stat(box_px, np.mean, float("inf")),
        "box_delta_px_max": stat(box_px, np.max, float("inf")),
        "box_delta_rel_max": stat(box_rel, np.max, 1.0),
    }
    precision = graph_precision(onnx.load(str(variant), load_external_data=False))
    return AccuracyReport(
        "detector", precision, str(reference), str(variant), len(frames), metrics,
        BOUNDS.get(("detector", precision), ()),
    )


def quality_report(
    reference: str | Path,
    variant: str | Path,
    crops: Sequence[np.ndarray],
    input_size: int = 224,
    threads: int = 2,
    batch_size: int = 16,
) -> AccuracyReport:
    """Compare the quality-regressor ``variant`` with its FP32 ``reference`` on BGR ``crops``."""
    if len(crops) < 3:
        raise ValueError("a quality report needs at least 3 crops (Pearson correlation)")
    graph = onnx.load(str(reference), load_external_data=False)
    low, high = read_range(Path(reference), graph_metadata(graph))
    input_name, output_name = graph_inputs(graph)[0].name, graph_outputs(graph)[0].name
    sessions = [_session(reference, threads), _session(variant, threads)]
    raw: list[list[np.ndarray]] = [[], []]
    for start in range(0, len(crops), batch_size):
        feeds = quality_feeds(crops[start : start + batch_size], input_size, input_name)
        for k, session in enumerate(sessions):
            raw[k].append(session.run([output_name], feeds)[0].reshape(-1).astype(np.float64))
    ref, var = np.concatenate(raw[0]), np.concatenate(raw[1])
    ref01, var01 = (np.clip((x - low) / (high - low), 0, 1) for x in (ref, var))
    pearson = float(np.corrcoef(ref, var)[0, 1]) if ref.std() > 0 and var.std() > 0 else 0.0
    metrics = {
        "pearson": pearson,
        "mae": float(np.mean(np.abs(ref01 - var01))),
        "max_abs_error": float(np.max(np.abs(ref01 - var01))),
        "raw_mae": float(np.mean(np.abs(ref - var))),
    }
    precision = graph_precision(onnx.load(str(variant), load_external_data=False))
    return AccuracyReport(
        "quality", precision, str(reference), str(variant), len(crops), metrics,
        BOUNDS.get(("quality", precision), ()),
    )
