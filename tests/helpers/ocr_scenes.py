"""Livestream-like test frames rendered with real fonts: a product label inside a box, overlay outside."""

from __future__ import annotations

import glob
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from edge.types import Detections, OcrLine

DEJAVU = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf")  # Debian fonts-dejavu-core
NOTO_CJK = "NotoSansCJK-Regular.ttc"  # Debian fonts-noto-cjk
FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts")
THREADS = 2  # intra-op threads of the readers under test (CI boxes have 2 cores)


def find_font(name: str) -> Path | None:
    """The first installed file called ``name`` under the system font folders."""
    for root in FONT_DIRS:
        hits = sorted(glob.glob(f"{root}/**/{name}", recursive=True))
        if hits:
            return Path(hits[0])
    return None


def text_similarity(a: str, b: str) -> float:
    """Case- and space-insensitive similarity, to allow a minor OCR slip."""
    a, b = "".join(a.lower().split()), "".join(b.lower().split())
    return SequenceMatcher(None, a, b).ratio()


def best_match(lines: list[OcrLine], expected: str) -> tuple[OcrLine | None, float]:
    """The read line most similar to ``expected`` and its similarity."""
    scored = [(text_similarity(line.text, expected), i) for i, line in enumerate(lines)]
    if not scored:
        return None, 0.0
    ratio, index = max(scored)
    return lines[index], ratio


@dataclass
class Scene:
    """A BGR frame, the product box drawn in it and where each text was drawn (x1, y1, x2, y2)."""

    image: np.ndarray
    product: tuple[int, int, int, int]
    inside: dict[str, tuple[int, int, int, int]] = field(default_factory=dict)
    outside: dict[str, tuple[int, int, int, int]] = field(default_factory=dict)

    @property
    def detections(self) -> Detections:
        return Detections(
            xyxy=np.array([self.product], np.float32),
            confidence=np.array([0.9], np.float32),
            class_id=np.array([0], np.int64),
        )

    def resized(self, size: tuple[int, int]) -> Scene:
        """The same scene resampled to ``size`` (width, height), every box scaled with it."""
        fx, fy = size[0] / self.image.shape[1], size[1] / self.image.shape[0]

        def scale(box: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
            x1, y1, x2, y2 = box
            return round(x1 * fx), round(y1 * fy), round(x2 * fx), round(y2 * fy)

        interpolation = cv2.INTER_AREA if fx < 1 else cv2.INTER_CUBIC
        return Scene(
            cv2.resize(self.image, size, interpolation=interpolation),
            scale(self.product),
            {text: scale(box) for text, box in self.inside.items()},
            {text: scale(box) for text, box in self.outside.items()},
        )


def _draw(draw: ImageDraw.ImageDraw, at: tuple[int, int], text: str, font: ImageFont.FreeTypeFont, fill) -> tuple:
    draw.text(at, text, font=font, fill=fill)
    return tuple(int(v) for v in draw.textbbox(at, text, font=font))


def product_scene(regular: Path, bold: Path) -> Scene:
    """A cream jar label (brand, name, volume) in a box; a live-room comment and badge under it (960x540)."""
    width, height = size = (960, 540)
    image = Image.new("RGB", size, (96, 104, 120))
    draw = ImageDraw.Draw(image)
    product = (300, 100, 700, 430)
    draw.rectangle(product, fill=(248, 242, 230), outline=(60, 50, 40), width=4)
    scene = Scene(np.zeros(0), product)
    scene.inside["AURORA"] = _draw(draw, (340, 130), "AURORA", ImageFont.truetype(str(bold), 56), (30, 30, 80))
    scene.inside["Hydra Glow Face Cream"] = _draw(
        draw, (340, 230), "Hydra Glow Face Cream", ImageFont.truetype(str(regular), 30), (20, 20, 20)
    )
    scene.inside["50 ml"] = _draw(draw, (340, 320), "50 ml", ImageFont.truetype(str(regular), 36), (20, 20, 20))
    draw.rectangle((0, height - 80, width, height), fill=(20, 20, 28))
    overlay = ImageFont.truetype(str(regular), 28)
    comment = "@MiaLive  so cute!!"
    scene.outside[comment] = _draw(draw, (30, height - 62), comment, overlay, (255, 255, 255))
    scene.outside["LIVE 1.2w"] = _draw(draw, (width - 220, height - 68), "LIVE 1.2w", overlay, (255, 220, 90))
    scene.image = np.ascontiguousarray(np.asarray(image)[:, :, ::-1])  # RGB -> BGR, as frames are
    return scene


def chinese_scene(cjk: Path, size: tuple[int, int] = (1280, 720)) -> Scene:
    """A Chinese product label in a box and a Chinese price banner outside it, at 720p."""
    image = Image.new("RGB", size, (230, 232, 236))
    draw = ImageDraw.Draw(image)
    product = (420, 160, 900, 520)
    draw.rectangle(product, fill=(255, 255, 255), outline=(40, 40, 40), width=4)
    font = ImageFont.truetype(str(cjk), 44)
    scene = Scene(np.zeros(0), product)
    scene.inside["保湿面霜"] = _draw(draw, (480, 220), "保湿面霜", font, (10, 10, 10))
    scene.inside["50毫升"] = _draw(draw, (480, 340), "50毫升", font, (10, 10, 10))
    scene.outside["限时特价 ¥129"] = _draw(draw, (40, 620), "限时特价 ¥129", font, (200, 0, 0))
    scene.image = np.ascontiguousarray(np.asarray(image)[:, :, ::-1])
    return scene
