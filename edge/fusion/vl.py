"""Qwen-VL on the product crop (paper §3.2, §3.5.1): the evidence's ``vl`` field.

The crop is the highest-confidence product box of the best keyframe (the whole frame when it has
none), downscaled and sent once per window as a small JPEG data URL. The box sends no other
pixels. A VL call that fails leaves its one-line reason in ``vl.error``; the window goes on.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import cv2
import numpy as np

from edge.config.models import VlConfig
from edge.fusion.answer import blank_to_none, parse_object, shape_problem
from edge.fusion.client import ChatClient, CloudError
from edge.fusion.engine import Closing
from edge.fusion.prompt import VL_SCHEMA, vl_messages
from edge.types import Keyframe

log = logging.getLogger(__name__)

MAX_TOKENS = 300


def best_crop(keyframes: Sequence[Keyframe]) -> tuple[np.ndarray, int, list[float] | None]:
    """(crop, frame index, box) of the best keyframe's most confident product box; box None = whole frame."""
    if not keyframes:
        raise ValueError("no keyframe to crop")
    best = max(keyframes, key=lambda kf: kf.score.total)
    image = best.frame.image
    h, w = image.shape[:2]
    if len(best.detections):
        i = int(np.argmax(best.detections.confidence))
        x1, y1, x2, y2 = (float(v) for v in best.detections.xyxy[i])
        left, top = max(0, int(np.floor(x1))), max(0, int(np.floor(y1)))
        right, bottom = min(w, int(np.ceil(x2))), min(h, int(np.ceil(y2)))
        if right - left >= 8 and bottom - top >= 8:
            return image[top:bottom, left:right], best.frame.index, [round(v, 1) for v in (x1, y1, x2, y2)]
    return image, best.frame.index, None


def jpeg_data_url(image: np.ndarray, max_side: int, quality: int) -> str:
    """``data:image/jpeg;base64,...`` of ``image`` (BGR) downscaled to at most ``max_side`` a side."""
    h, w = image.shape[:2]
    scale = min(1.0, max_side / max(h, w))
    if scale < 1.0:
        image = cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("JPEG encoding of the crop failed")
    return "data:image/jpeg;base64," + base64.b64encode(buffer.tobytes()).decode("ascii")


class VlReader(Closing):
    """Reads the product crop with the VL model; :meth:`submit` runs it beside OCR.

    It owns its client and its worker thread: :meth:`close` (or the end of a ``with`` block) ends both.
    """

    def __init__(self, config: VlConfig, client: ChatClient) -> None:
        self.config = config
        self.client = client
        self._pool: ThreadPoolExecutor | None = None

    def __call__(self, keyframes: Sequence[Keyframe]) -> dict[str, Any]:
        """The evidence ``vl`` field for ``keyframes``; never raises for a cloud or answer failure."""
        crop, frame_index, box = best_crop(keyframes)
        vl: dict[str, Any] = {
            "model": self.config.model, "frame_index": frame_index, "box": box,
            "brand": None, "product_name": None, "category": None, "description": None, "confidence": None,
            "error": None,
        }
        try:
            url = jpeg_data_url(crop, self.config.max_side, self.config.jpeg_quality)
            reply = self.client.complete(vl_messages(url), model=self.config.model, json_mode=False, max_tokens=MAX_TOKENS)
        except CloudError as exc:
            vl["error"] = str(exc)
            return vl
        except Exception as exc:  # VL is one modality of three: the window goes on without it
            log.exception("VL call failed")
            vl["error"] = f"{self.config.model}: unexpected {type(exc).__name__}: {' '.join(str(exc).split())[:200]}"
            return vl
        answer, problem = parse_object(reply.content, embedded=True)
        if answer is not None:  # without JSON mode, keep what was asked for and let the rest go
            answer = {key: blank_to_none(answer.get(key)) for key in VL_SCHEMA["properties"]}
            problem = shape_problem(answer, VL_SCHEMA)
        if problem is not None:
            vl["error"] = f"{self.config.model} at {self.client.url}: {problem}"
            return vl
        assert answer is not None
        vl.update(answer)
        return vl

    def submit(self, keyframes: Sequence[Keyframe]) -> Future[dict[str, Any]]:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="liveguard-vl")
        return self._pool.submit(self, list(keyframes))

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        self.client.close()
