"""One PNG per clip: frame score over time with the chosen keyframes marked, and the chosen frame's thumbnail.

Drawn with OpenCV (no plotting library needed). Shaded green: the truth's clean spans (sharp, frontal,
fully visible); grey: the transition card.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np

from livebench.report import parse_key

COLOURS = {"A": (200, 90, 20), "B": (40, 140, 230)}  # BGR
B_COLOURS = ((40, 140, 230), (60, 160, 60), (160, 60, 160), (30, 30, 200), (120, 120, 0))  # one per quality regressor
PLOT_W, PLOT_H, THUMB_H = 640, 300, 300


def clip_plot(run: Any, detector: str, path: Path) -> None:
    """Write ``path``: the scores of ``detector``'s scorers (A, each B), the K = 1 and baseline picks, the A@1 thumbnail."""
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
    prefix = f"{detector}/"
    scorers = [key[len(prefix):] for key in run.score_series if key.startswith(prefix)]  # A, B or B:<name>
    b_scorers = [s for s in scorers if s != "A"]
    colours = {s: COLOURS["A"] if s == "A" else B_COLOURS[b_scorers.index(s) % len(B_COLOURS)] for s in scorers}
    legend_x = left
    for scorer in scorers:
        series = run.score_series[prefix + scorer]
        if not series:
            continue
        pts = np.array([[x_of(t), y_of(v)] for t, v in zip(run.frame_pts, series)], np.int32)
        cv2.polylines(img, [pts], False, colours[scorer], 2, cv2.LINE_AA)
        label = f"strategy {scorer}"
        cv2.putText(img, label, (legend_x, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.45, colours[scorer], 1, cv2.LINE_AA)
        legend_x += max(120, cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, 0.45, 1)[0][0] + 15)
    for outcome in run.outcomes:
        strategy, top_k, regressor = parse_key(outcome.variant)
        if outcome.detector != detector or top_k != 1 or strategy not in ("A", "B", "baseline"):
            continue
        scorer = strategy if regressor is None else f"{strategy}:{regressor}"
        colour = colours.get(scorer, (0, 0, 200))
        row = 1 + b_scorers.index(scorer) if scorer in b_scorers else 0
        for t in outcome.pts:
            cv2.line(img, (x_of(t), top), (x_of(t), bottom), colour, 1, cv2.LINE_AA)
            cv2.putText(img, outcome.variant, (x_of(t) + 3, top + 14 + 14 * row), cv2.FONT_HERSHEY_SIMPLEX, 0.4,
                        colour, 1, cv2.LINE_AA)
    cv2.putText(img, f"{run.clip} ({detector}): score over time", (max(left + 250, legend_x), 20), cv2.FONT_HERSHEY_SIMPLEX, 0.45,
                (0, 0, 0), 1, cv2.LINE_AA)
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
