"""How often OCR reads the brand off the product crop of each kept keyframe, at other scales and detection thresholds.

    python tools/crop_ocr_probe.py out/eval-logo --dataset out/bench-logo --layout logo --language en

For each clip of the family and language, decodes Strategy A's keyframe (the evaluation's ``evidence.jsonl``,
truth boxes), crops the product box, and counts the clips whose crop OCR reads the truth's brand (letter-spacing
removed as the local rules remove it), with RapidOCR's default detection thresholds and lower ones, at 1x and 2x.
A probe for what a second OCR pass could gain; it changes nothing in the runtime.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

from edge.fusion.typography import unspaced
from edge.sources import VideoFile
from edge.types import Frame

SETTINGS = {"default": {}, "low": {"Det.box_thresh": 0.3, "Det.thresh": 0.2}}
SCALES = (1, 2)
MARGIN = 8  # pixels around the product box


def keyframe(video: Path, pts: float, sample_fps: float) -> np.ndarray:
    """The sampled frame nearest ``pts`` (BGR), sampled as the evaluation sampled it."""
    with VideoFile(video, sample_fps) as source:
        frames = [item for item in source if isinstance(item, Frame)]
    return min(frames, key=lambda frame: abs(frame.pts - pts)).image


def main(argv: list[str] | None = None) -> int:
    from rapidocr import RapidOCR

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("evaluation", type=Path, help="an evaluate.py output folder (holding evidence.jsonl)")
    ap.add_argument("--dataset", type=Path, required=True, help="the benchmark folder it evaluated")
    ap.add_argument("--layout", default="logo", help="packaging layout family (default logo)")
    ap.add_argument("--language", default="en", choices=("en", "zh"))
    args = ap.parse_args(argv)
    engines = {name: RapidOCR(params={"Global.log_level": "error", "Global.text_score": 0.0, **extra})
               for name, extra in SETTINGS.items()}
    hits = dict.fromkeys(((scale, name) for scale in SCALES for name in SETTINGS), 0)
    clips = 0
    for line in (args.evaluation / "evidence.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        truth = json.loads((args.dataset / row["truth"]).read_text(encoding="utf-8"))
        if row["detector"] != "oracle" or truth.get("layout") != args.layout or truth.get("language") != args.language:
            continue
        clips += 1
        shown = row["evidence"]["keyframes"][0]
        image = keyframe(args.dataset / "clips" / f"{row['clip']}.mp4", shown["pts"], row["evidence"]["selection"]["sample_fps"])
        x0, y0, x1, y1 = (int(v) for v in shown["products"][0]["box"])
        crop = image[max(0, y0 - MARGIN):y1 + MARGIN, max(0, x0 - MARGIN):x1 + MARGIN]
        want = truth["brand"].lower().replace(" ", "")
        for scale in SCALES:
            scaled = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC) if scale > 1 else crop
            for name, engine in engines.items():
                read = [unspaced(text).lower().replace(" ", "") for text in (engine(scaled).txts or ())]
                hits[(scale, name)] += any(want in text for text in read) or want in "".join(read)
    print(f"{clips} {args.language} clips of the {args.layout} family; the brand read off the product crop:")
    for (scale, name), count in hits.items():
        print(f"  {scale}x, {name} detection thresholds: {count} of {clips}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
