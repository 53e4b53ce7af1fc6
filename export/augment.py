"""Training augmentation for the detector, on BGR uint8 frames and x1, y1, x2, y2 pixel boxes (numpy + OpenCV).

The paper's recipe (Table 1, after D-FINE's own pipeline): PhotometricDistort, RandomZoomOut,
RandomIoUCrop and a horizontal flip, then a plain resize to the input side as the edge resizes
(:func:`edge.runtime.preprocess_frames`). On top, domain randomisation so that training on
synthetic frames carries over to camera frames: colour casts, blur (defocus or motion), sensor
noise, JPEG artefacts, textured backgrounds where the zoom-out leaves room and textured patches
beside the product. All of it runs at no more than twice the input side, so it stays cheap on CPU.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

MIN_BOX_SIDE = 1.0  # pixels, after the final resize (D-FINE's SanitizeBoundingBoxes)


@dataclass(frozen=True)
class AugmentOptions:
    """Probabilities of each step (0 turns it off)."""

    photometric: float = 0.5  # per distortion, as torchvision's RandomPhotometricDistort(p=0.5)
    zoom_out: float = 0.5
    zoom_max: float = 4.0  # RandomZoomOut side_range (1, 4)
    iou_crop: float = 0.8
    flip: float = 0.5
    texture_fill: bool = True  # zoom-out fills with a random texture instead of black
    colour_cast: float = 0.3
    blur: float = 0.2
    noise: float = 0.2
    jpeg: float = 0.3
    patches: float = 0.3
    gray: float = 0.1  # monochrome cameras and photos (the real-photo check's scene is grey)

    @classmethod
    def none(cls) -> AugmentOptions:
        return cls(0, 0, 1, 0, 0, False, 0, 0, 0, 0, 0, 0)


def augment(
    image: np.ndarray, boxes: np.ndarray, labels: np.ndarray, size: int, rng: np.random.Generator,
    options: AugmentOptions, strong: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A ``size``×``size`` BGR training frame and its boxes/labels (boxes in its pixels).

    ``strong`` False leaves out PhotometricDistort, RandomZoomOut and RandomIoUCrop (D-FINE stops
    them for the last epochs, Table 1's stop epoch); flip and domain randomisation stay.
    """
    boxes = boxes.astype(np.float32).reshape(-1, 4)
    h, w = image.shape[:2]
    image = _shrink(image, 2 * size)
    boxes = boxes * np.array([image.shape[1] / w, image.shape[0] / h] * 2, np.float32)
    if strong:
        image = photometric_distort(image, rng, options.photometric)
        if rng.random() < options.zoom_out:
            image, boxes = zoom_out(image, boxes, rng, options.zoom_max, options.texture_fill, 2 * size)
        if rng.random() < options.iou_crop:
            image, boxes, labels = iou_crop(image, boxes, labels, rng)
    if rng.random() < options.flip:
        image = np.ascontiguousarray(image[:, ::-1])
        boxes = np.stack([image.shape[1] - boxes[:, 2], boxes[:, 1], image.shape[1] - boxes[:, 0], boxes[:, 3]], 1)
    h, w = image.shape[:2]
    image = cv2.resize(image, (size, size), interpolation=cv2.INTER_LINEAR)
    boxes = (boxes * np.array([size / w, size / h, size / w, size / h], np.float32)).clip(0, size)
    keep = ((boxes[:, 2] - boxes[:, 0]) >= MIN_BOX_SIDE) & ((boxes[:, 3] - boxes[:, 1]) >= MIN_BOX_SIDE)
    boxes, labels = boxes[keep].reshape(-1, 4), labels[keep]
    image = domain_randomise(image, boxes, rng, options)
    return image, boxes.astype(np.float32), labels


def _shrink(image: np.ndarray, side: int) -> np.ndarray:
    """Downscale so the longer side is at most ``side``."""
    h, w = image.shape[:2]
    scale = side / max(h, w)
    if scale >= 1:
        return image
    return cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)


def photometric_distort(image: np.ndarray, rng: np.random.Generator, p: float) -> np.ndarray:
    """torchvision's RandomPhotometricDistort defaults: brightness ×[0.875, 1.125], contrast and saturation
    ×[0.5, 1.5], hue ±0.05 turn, channel permutation; each with probability ``p``."""
    if p <= 0:
        return image
    out = image.astype(np.float32)
    if rng.random() < p:
        out *= rng.uniform(0.875, 1.125)
    contrast_first = rng.random() < 0.5
    if contrast_first and rng.random() < p:
        out = _contrast(out, rng.uniform(0.5, 1.5))
    if rng.random() < p:
        gray = cv2.cvtColor(out.clip(0, 255), cv2.COLOR_BGR2GRAY)[..., None]
        out = gray + (out - gray) * rng.uniform(0.5, 1.5)
    if rng.random() < p:
        hsv = cv2.cvtColor(out.clip(0, 255) / 255.0, cv2.COLOR_BGR2HSV)
        hsv[..., 0] = (hsv[..., 0] + rng.uniform(-0.05, 0.05) * 360.0) % 360.0
        out = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR) * 255.0
    if not contrast_first and rng.random() < p:
        out = _contrast(out, rng.uniform(0.5, 1.5))
    if rng.random() < p:
        out = out[..., rng.permutation(3)]
    return np.ascontiguousarray(out.clip(0, 255).astype(np.uint8))


def _contrast(image: np.ndarray, factor: float) -> np.ndarray:
    mean = float(cv2.cvtColor(image.clip(0, 255), cv2.COLOR_BGR2GRAY).mean())
    return (image - mean) * factor + mean


def zoom_out(
    image: np.ndarray, boxes: np.ndarray, rng: np.random.Generator, max_ratio: float, texture: bool, limit: int
) -> tuple[np.ndarray, np.ndarray]:
    """RandomZoomOut: the frame placed at random on a canvas 1 to ``max_ratio`` times its size (no larger
    than ``limit`` pixels a side, scaled down together); the canvas is a random texture, or black."""
    h, w = image.shape[:2]
    ratio = rng.uniform(1.0, max_ratio)
    scale = min(1.0, limit / (ratio * max(h, w)))
    canvas_h, canvas_w = max(1, round(ratio * h * scale)), max(1, round(ratio * w * scale))
    small_h, small_w = min(canvas_h, max(1, round(h * scale))), min(canvas_w, max(1, round(w * scale)))
    small = image if (small_h, small_w) == (h, w) else cv2.resize(image, (small_w, small_h), interpolation=cv2.INTER_AREA)
    canvas = random_texture(canvas_h, canvas_w, rng) if texture else np.zeros((canvas_h, canvas_w, 3), np.uint8)
    top, left = int(rng.integers(0, canvas_h - small_h + 1)), int(rng.integers(0, canvas_w - small_w + 1))
    canvas[top : top + small_h, left : left + small_w] = small
    sx, sy = small_w / w, small_h / h
    boxes = boxes * np.array([sx, sy, sx, sy], np.float32) + np.array([left, top, left, top], np.float32)
    return canvas, boxes


IOU_CROP_OPTIONS = (0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0)  # torchvision RandomIoUCrop sampler_options


def iou_crop(
    image: np.ndarray, boxes: np.ndarray, labels: np.ndarray, rng: np.random.Generator,
    min_scale: float = 0.3, max_scale: float = 1.0, aspect: tuple[float, float] = (0.5, 2.0), trials: int = 40,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """RandomIoUCrop (SSD's sampler, as torchvision): a crop whose IoU with a box whose centre it holds reaches
    a drawn minimum; boxes with their centre outside are dropped. A frame without boxes gets a random crop."""
    h, w = image.shape[:2]
    for _ in range(50):  # torchvision loops until it succeeds; bounded here
        min_iou = IOU_CROP_OPTIONS[int(rng.integers(len(IOU_CROP_OPTIONS)))]
        if min_iou >= 1.0:
            return image, boxes, labels
        for _ in range(trials):
            sw, sh = min_scale + (max_scale - min_scale) * rng.random(2)
            new_w, new_h = int(w * sw), int(h * sh)
            if new_w < 1 or new_h < 1 or not aspect[0] <= new_w / new_h <= aspect[1]:
                continue
            fx, fy = rng.random(2)
            left, top = int((w - new_w) * fx), int((h - new_h) * fy)
            right, bottom = left + new_w, top + new_h
            if len(boxes):
                cx, cy = (boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2
                inside = (left < cx) & (cx < right) & (top < cy) & (cy < bottom)
                if not inside.any() or box_iou(boxes[inside], np.array([left, top, right, bottom], np.float32)).max() < min_iou:
                    continue
            else:
                inside = np.zeros(0, bool)
            crop = np.ascontiguousarray(image[top:bottom, left:right])
            kept = boxes[inside] - np.array([left, top, left, top], np.float32)
            kept = kept.clip(0, np.array([new_w, new_h, new_w, new_h], np.float32))
            return crop, kept, labels[inside]
    return image, boxes, labels


def box_iou(boxes: np.ndarray, box: np.ndarray) -> np.ndarray:
    """IoU of each x1, y1, x2, y2 row of ``boxes`` with ``box``."""
    x1, y1 = np.maximum(boxes[:, 0], box[0]), np.maximum(boxes[:, 1], box[1])
    x2, y2 = np.minimum(boxes[:, 2], box[2]), np.minimum(boxes[:, 3], box[3])
    inter = (x2 - x1).clip(0) * (y2 - y1).clip(0)
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return inter / (area + (box[2] - box[0]) * (box[3] - box[1]) - inter + 1e-9)


def random_texture(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """A cheap random background: smooth colour noise, colour blocks or stripes, with a little grain."""
    kind = int(rng.integers(3))
    if kind == 2:
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        angle, period = rng.uniform(0, np.pi), rng.uniform(6, max(8.0, max(h, w) / 4))
        wave = (np.sin((xx * np.cos(angle) + yy * np.sin(angle)) * 2 * np.pi / period) > 0).astype(np.float32)[..., None]
        a, b = rng.uniform(0, 255, 3).astype(np.float32), rng.uniform(0, 255, 3).astype(np.float32)
        out = a * wave + b * (1 - wave)
    else:
        cells = int(rng.integers(2, 17))
        base = rng.uniform(0, 255, (cells, max(1, round(cells * w / h)), 3)).astype(np.float32)
        out = cv2.resize(base, (w, h), interpolation=cv2.INTER_CUBIC if kind == 0 else cv2.INTER_NEAREST)
    out += rng.normal(0, rng.uniform(0, 8), (h, w, 1)).astype(np.float32)
    return np.ascontiguousarray(out.clip(0, 255).astype(np.uint8))


def domain_randomise(image: np.ndarray, boxes: np.ndarray, rng: np.random.Generator, options: AugmentOptions) -> np.ndarray:
    """Camera-like corruptions of a training frame: textured patches beside the boxes, a colour cast, blur,
    noise, grey scale and JPEG artefacts, each with its probability."""
    if rng.random() < options.patches:
        image = _paste_patches(image, boxes, rng)
    out = image.astype(np.float32)
    if rng.random() < options.colour_cast:
        out *= rng.uniform(0.85, 1.15, 3).astype(np.float32)
        out = 255.0 * (out.clip(0, 255) / 255.0) ** rng.uniform(0.7, 1.4)  # gamma
    if rng.random() < options.blur:
        if rng.random() < 0.5:
            out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.5, 2.0))
        else:
            out = cv2.filter2D(out, -1, _motion_kernel(int(rng.integers(3, 10)), rng.uniform(0, 180)))
    if rng.random() < options.noise:
        out += rng.normal(0, rng.uniform(2, 10), out.shape).astype(np.float32)
    out = out.clip(0, 255).astype(np.uint8)
    if rng.random() < options.gray:
        out = cv2.cvtColor(cv2.cvtColor(out, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    if rng.random() < options.jpeg:
        ok, encoded = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(25, 86))])
        if ok:
            out = cv2.imdecode(encoded, cv2.IMREAD_COLOR)
    return np.ascontiguousarray(out)


def _motion_kernel(length: int, angle: float) -> np.ndarray:
    kernel = np.zeros((length, length), np.float32)
    kernel[length // 2, :] = 1.0
    rotation = cv2.getRotationMatrix2D((length / 2 - 0.5, length / 2 - 0.5), angle, 1.0)
    kernel = cv2.warpAffine(kernel, rotation, (length, length))
    return kernel / max(float(kernel.sum()), 1e-6)


def _paste_patches(image: np.ndarray, boxes: np.ndarray, rng: np.random.Generator, max_cover: float = 0.2) -> np.ndarray:
    """1-3 textured rectangles, each covering at most ``max_cover`` of any box (the boxes stay true)."""
    h, w = image.shape[:2]
    out = image.copy()
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    for _ in range(int(rng.integers(1, 4))):
        ph, pw = int(h * rng.uniform(0.05, 0.3)), int(w * rng.uniform(0.05, 0.3))
        if ph < 2 or pw < 2:
            continue
        top, left = int(rng.integers(0, h - ph + 1)), int(rng.integers(0, w - pw + 1))
        if len(boxes):
            patch = np.array([left, top, left + pw, top + ph], np.float32)
            ix = (np.minimum(boxes[:, 2], patch[2]) - np.maximum(boxes[:, 0], patch[0])).clip(0)
            iy = (np.minimum(boxes[:, 3], patch[3]) - np.maximum(boxes[:, 1], patch[1])).clip(0)
            if (ix * iy > max_cover * areas).any():
                continue
        out[top : top + ph, left : left + pw] = random_texture(ph, pw, rng)
    return out
