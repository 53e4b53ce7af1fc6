"""What a detector finds on real photographs: the cookie box of OpenCV's ``box_in_scene.png``.

The true outline of the box follows from matching ``box.png`` (the box alone) into the scene: SIFT
features, Lowe's ratio test, a RANSAC homography, the box's four corners projected. The detector runs
on the scene as the edge runs it (:func:`edge.detect.create_detector`, the configured threshold) and
also with no threshold, so that a box it ranked low still shows. Both images ship in Debian's
``opencv-doc`` (about 96 MB, only two files are needed)::

    apt-get download opencv-doc && dpkg-deb --fsys-tarfile opencv-doc_*.deb | \\
        tar -x ./usr/share/doc/opencv-doc/examples/data/box.png ./usr/share/doc/opencv-doc/examples/data/box_in_scene.png
    python tools/real_photo.py --detector edge/bundled/detector.onnx \\
        --images usr/share/doc/opencv-doc/examples/data --out out/real-photo

Prints one JSON object (also written to OUT/report.json) and draws the truth (green) and the
detections (red, the one over the threshold thick) into OUT/box_in_scene.png.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from edge.config.models import DetectorConfig
from edge.detect import create_detector


def truth_outline(template: np.ndarray, scene: np.ndarray, ratio: float = 0.75) -> tuple[np.ndarray, int]:
    """The template's corners in the scene (4×2, float) and the number of RANSAC inliers behind them."""
    sift = cv2.SIFT_create()
    kt, dt = sift.detectAndCompute(template, None)
    ks, ds = sift.detectAndCompute(scene, None)
    pairs = cv2.BFMatcher(cv2.NORM_L2).knnMatch(dt, ds, k=2)
    good = [m for m, n in (p for p in pairs if len(p) == 2) if m.distance < ratio * n.distance]
    if len(good) < 10:
        raise SystemExit(f"only {len(good)} SIFT matches of the template in the scene: no truth outline")
    src = np.float32([kt[m.queryIdx].pt for m in good]).reshape(-1, 1, 2)
    dst = np.float32([ks[m.trainIdx].pt for m in good]).reshape(-1, 1, 2)
    homography, mask = cv2.findHomography(src, dst, cv2.RANSAC, 5.0)
    h, w = template.shape[:2]
    corners = np.float32([[0, 0], [w, 0], [w, h], [0, h]]).reshape(-1, 1, 2)
    return cv2.perspectiveTransform(corners, homography).reshape(4, 2), int(mask.sum())


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two (x1, y1, x2, y2) boxes."""
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def measure(detector_path: Path, input_size: int | None, images: Path, out: Path, threshold: float) -> dict[str, Any]:
    """Detect on the scene, compare with the matched outline, draw both; the report as a dict."""
    template = cv2.imread(str(images / "box.png"), cv2.IMREAD_GRAYSCALE)
    scene_gray = cv2.imread(str(images / "box_in_scene.png"), cv2.IMREAD_GRAYSCALE)
    if template is None or scene_gray is None:
        raise SystemExit(f"{images}: box.png and box_in_scene.png are needed (Debian opencv-doc, examples/data)")
    corners, inliers = truth_outline(template, scene_gray)
    truth = np.array([*corners.min(axis=0), *corners.max(axis=0)], np.float32)
    scene = cv2.cvtColor(scene_gray, cv2.COLOR_GRAY2BGR)  # the edge sees 3-channel frames

    found = {}
    for name, cut in (("configured", threshold), ("all", 0.0)):
        detector = create_detector(DetectorConfig(model=detector_path, input_size=input_size, threshold=cut), threads=2)
        try:
            found[name] = detector.detect([scene])[0]
        finally:
            detector.close()
    every = found["all"]
    order = np.argsort(-every.confidence)
    ranked = [{"xyxy": [round(float(v), 1) for v in every.xyxy[i]], "confidence": round(float(every.confidence[i]), 3),
               "iou_with_truth": round(iou(every.xyxy[i], truth), 3)} for i in order[:10]]
    kept = found["configured"]
    best_kept = max((iou(box, truth) for box in kept.xyxy), default=0.0)
    hit = next((rank for rank, d in enumerate(ranked, 1) if d["iou_with_truth"] >= 0.5), None)

    drawn = scene.copy()
    cv2.polylines(drawn, [corners.astype(np.int32)], True, (0, 200, 0), 2)
    for rank, d in enumerate(ranked[:5]):
        x1, y1, x2, y2 = (int(v) for v in d["xyxy"])
        thick = 3 if d["confidence"] >= threshold else 1
        cv2.rectangle(drawn, (x1, y1), (x2, y2), (0, 0, 255), thick)
        cv2.putText(drawn, f"{rank + 1}:{d['confidence']:.2f}", (x1 + 2, y1 + 14), cv2.FONT_HERSHEY_SIMPLEX, 0.45,
                    (0, 0, 255), 1, cv2.LINE_AA)
    out.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out / "box_in_scene.png"), drawn)
    report = {
        "detector": str(detector_path), "input_size": input_size, "threshold": threshold,
        "truth_xyxy": [round(float(v), 1) for v in truth], "truth_inliers": inliers,
        "kept_over_threshold": len(kept), "best_iou_over_threshold": round(best_kept, 3),
        "found_at_iou_0.5": best_kept >= 0.5, "first_rank_with_iou_0.5": hit, "top10": ranked,
        "drawing": str(out / "box_in_scene.png"),
    }
    (out / "report.json").write_text(json.dumps(report, indent=1) + "\n")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--detector", type=Path, required=True, help="D-FINE ONNX (official contract)")
    parser.add_argument("--input-size", type=int, help="its square input side (default: the side the graph fixes)")
    parser.add_argument("--threshold", type=float, default=0.5, help="the edge's detector.threshold (default 0.5)")
    parser.add_argument("--images", type=Path, required=True, help="folder holding box.png and box_in_scene.png")
    parser.add_argument("--out", type=Path, required=True, help="folder for report.json and the drawing")
    args = parser.parse_args(argv)
    report = measure(args.detector, args.input_size, args.images, args.out, args.threshold)
    print(json.dumps({k: v for k, v in report.items() if k != "top10"} | {"top3": report["top10"][:3]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
