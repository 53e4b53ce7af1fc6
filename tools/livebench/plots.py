"""One PNG per clip: frame score over time with the chosen keyframes marked, and the chosen frame's thumbnail.

Drawn with OpenCV (no plotting library needed). Shaded green: the truth's clean spans (sharp, frontal,
fully visible); grey: the transition card.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np

COLOURS = {"A": (200, 90, 20), "B": (40, 140, 230)}  # BGR
PLOT_W, PLOT_H, THUMB_H = 640, 300, 300


def clip_plot(run: Any, detector: str, path: Path) -> None:
    """Write ``path``: the scores of ``detector``'s strategies, A@1/B@1/baseline picks, the A@1 thumbnail."""
    truth = run.truth
    duration = float(truth["video"]["duration"])
    img = np.full((PLOT_H + 40, PLOT_W, 3), 255, np.uint8)
    left, right, top, bottom = 50, PLOT_W - 15, 30, PLOT_H - 10

    def x_of(t: float) -> int:
        return int(left + (right - left) * min(max(t / duration, 0.0), 1.0))

    def y_of(v: float) -> int:
        return int(bottom - (bottom - top) * min(max(v, 0.0), 1.0))

    for a, b in truth.get("best_frames", []):
        cv2.rectangle(img, (x_of(a), top), (max(x_of(b), x_of(a) + 1), bottom), (200, 240, 200), -1)
    if truth.get("transition_start") is not None:
        cv2.rectangle(img, (x_of(truth["transition_start"]), top), (right, bottom), (225, 225, 225), -1)
    cv2.rectangle(img, (left, top), (right, bottom), (0, 0, 0), 1)
    for v in (0.0, 0.5, 1.0):
        cv2.putText(img, f"{v:.1f}", (8, y_of(v) + 4), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
    for t in range(0, int(duration) + 1):
        cv2.putText(img, f"{t}s", (x_of(t) - 8, bottom + 16), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
    legend_x = left
    for strategy, colour in COLOURS.items():
        series = run.score_series.get(f"{detector}/{strategy}")
        if not series:
            continue
        pts = np.array([[x_of(t), y_of(v)] for t, v in zip(run.frame_pts, series)], np.int32)
        cv2.polylines(img, [pts], False, colour, 2, cv2.LINE_AA)
        cv2.putText(img, f"strategy {strategy}", (legend_x, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.45, colour, 1, cv2.LINE_AA)
        legend_x += 120
    for outcome in run.outcomes:
        if outcome.detector != detector or outcome.variant not in ("A@1", "B@1", "baseline"):
            continue
        colour = COLOURS.get(outcome.variant[0], (0, 0, 200))
        for t in outcome.pts:
            cv2.line(img, (x_of(t), top), (x_of(t), bottom), colour, 1, cv2.LINE_AA)
            cv2.putText(img, outcome.variant, (x_of(t) + 3, top + 14 + 14 * ("B" in outcome.variant)), cv2.FONT_HERSHEY_SIMPLEX, 0.4,
                        colour, 1, cv2.LINE_AA)
    cv2.putText(img, f"{run.clip} ({detector}): score over time", (left + 250, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1,
                cv2.LINE_AA)
    thumb = run.thumbnails.get(f"{detector}/A@1")
    if thumb is not None:
        h, w = thumb.shape[:2]
        small = cv2.resize(thumb, (max(1, w * THUMB_H // h), THUMB_H), interpolation=cv2.INTER_AREA)
        pad = np.full((img.shape[0], small.shape[1] + 10, 3), 255, np.uint8)
        pad[20 : 20 + THUMB_H, 5 : 5 + small.shape[1]] = small
        cv2.putText(pad, "A@1 keyframe", (8, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
        img = np.hstack([img, pad])
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), img)
