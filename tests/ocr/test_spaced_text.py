"""The spaced-text pass (edge/ocr/spaced.py) of the real RapidOCR reader: a logo's tracked-out letters, small as a
stream shows them, that the text detector misses are read; ordinary print and textures add nothing."""

from __future__ import annotations

from difflib import SequenceMatcher

import cv2
import numpy as np
import pytest
from ocr_scenes import THREADS, find_font
from PIL import Image, ImageDraw, ImageFont

from edge.config.models import OcrConfig
from edge.ocr import create_reader
from edge.types import Detections, Frame

pytestmark = pytest.mark.slow

PRODUCT = (100, 300, 300, 530)
BOX = Detections(np.array([PRODUCT], np.float32), np.ones(1, np.float32), np.zeros(1, np.int64))


@pytest.fixture(scope="module")
def fonts():
    mono, bold = find_font("DejaVuSansMono-Bold.ttf"), find_font("DejaVuSans-Bold.ttf")
    if mono is None or bold is None:
        pytest.skip("DejaVu fonts are not installed (apt-get install -y fonts-dejavu-core)")
    return mono, bold


@pytest.fixture(scope="module")
def readers():
    return create_reader(OcrConfig(), THREADS), create_reader(OcrConfig(spaced_text=False), THREADS)


def pack(fonts, logo: str | None, size: int = 12, texture: bool = False) -> np.ndarray:
    """A dark pack in a 406x720 portrait room: a gold band, the logo letter-spaced under it (``" ".join``, as a
    tracked-out wordmark), a two-line name, a spec; drawn at half resolution's detail, softened as a stream is."""
    mono, bold = fonts
    img = Image.new("RGB", (406, 720), (205, 190, 180))
    draw = ImageDraw.Draw(img)
    draw.rounded_rectangle(PRODUCT, 8, fill=(20, 45, 60))
    draw.rectangle((110, 310, 290, 313), fill=(220, 180, 40))
    if texture:  # woven dots in rows: separate blobs, evenly spaced, no letters
        for y in range(322, 342, 9):
            for x in range(112, 288, 11):
                draw.ellipse((x, y, x + 4, y + 5), fill=(120, 140, 150))
    if logo:
        draw.text((115, 330), " ".join(logo), font=ImageFont.truetype(str(mono), size), fill=(235, 235, 235), anchor="lm")
    name = ImageFont.truetype(str(bold), 24)
    draw.text((200, 400), "Gut Balance", font=name, fill=(235, 235, 235), anchor="mm")
    draw.text((200, 430), "Fish Oil", font=name, fill=(235, 235, 235), anchor="mm")
    draw.text((280, 505), "120 pcs", font=ImageFont.truetype(str(bold), 16), fill=(235, 235, 235), anchor="rm")
    frame = cv2.cvtColor(np.asarray(img), cv2.COLOR_RGB2BGR)
    frame = cv2.resize(cv2.resize(frame, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA), (406, 720))
    return cv2.GaussianBlur(frame, (0, 0), 0.9)


def _letters(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def _reads(lines, word: str) -> bool:
    return any(SequenceMatcher(None, _letters(line.text), _letters(word)).ratio() >= 0.8 for line in lines)


@pytest.mark.parametrize("logo, size", [("Zenith", 12), ("Halcyon", 14), ("Nordic Leaf", 12)])
def test_a_tracked_out_logo_the_detector_misses_is_read(readers, fonts, logo, size):
    spaced, plain = readers
    frame = Frame(3, 1.5, pack(fonts, logo, size))
    without, found = plain.read(frame, BOX), spaced.read(frame, BOX)
    assert not _reads(without, logo), [line.text for line in without]  # the case is one the pass decides
    assert _reads(found, logo), [line.text for line in found]
    line = next(line for line in found if _reads([line], logo))
    assert line.in_product is True and line.frame_index == 3 and 0.7 <= line.confidence <= 1.0
    xs, ys = [p[0] for p in line.box], [p[1] for p in line.box]
    assert PRODUCT[0] <= min(xs) and max(xs) <= PRODUCT[2] and 318 <= min(ys) and max(ys) <= 345  # where it is printed
    assert [line.text for line in found if line.text not in {line.text for line in without}] == [line.text]


def test_ordinary_print_and_texture_add_nothing(readers, fonts):
    spaced, plain = readers
    for image in (pack(fonts, None), pack(fonts, None, texture=True)):
        frame = Frame(0, 0.0, image)
        assert [line.text for line in spaced.read(frame, BOX)] == [line.text for line in plain.read(frame, BOX)]


def test_without_product_boxes_the_pass_does_not_run(readers, fonts):
    spaced, _ = readers
    lines = spaced.read(Frame(0, 0.0, pack(fonts, "Zenith")), None)
    assert not _reads(lines, "Zenith")


@pytest.fixture(scope="module")
def serif_cjk():
    path = find_font("NotoSerifCJK-Bold.ttc")
    if path is None:
        pytest.skip("Noto Serif CJK is not installed (apt-get install -y fonts-noto-cjk)")
    return path


def cjk_pack(font, logo: str) -> np.ndarray:
    """A Chinese pack: a small, thin two-character serif logo under the band, the name, a tagline, a spec."""
    img = Image.new("RGB", (406, 720), (205, 190, 180))
    draw = ImageDraw.Draw(img)
    draw.rounded_rectangle(PRODUCT, 8, fill=(20, 25, 40))
    draw.rectangle((110, 310, 290, 313), fill=(220, 180, 40))
    draw.text((115, 330), " ".join(logo), font=ImageFont.truetype(str(font), 14), fill=(235, 235, 235), anchor="lm")
    draw.text((200, 410), "晚香香水", font=ImageFont.truetype(str(font), 30), fill=(235, 235, 235), anchor="mm")
    draw.text((200, 470), "持久留香", font=ImageFont.truetype(str(font), 14), fill=(235, 235, 235), anchor="mm")
    draw.text((280, 505), "30ml", font=ImageFont.truetype(str(font), 18), fill=(235, 235, 235), anchor="rm")
    frame = cv2.cvtColor(np.asarray(img), cv2.COLOR_RGB2BGR)
    frame = cv2.resize(cv2.resize(frame, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA), (406, 720))
    return cv2.GaussianBlur(frame, (0, 0), 0.9)


@pytest.mark.parametrize("logo", ["云朵", "星河", "悦颜"])
def test_a_small_chinese_logo_the_detector_misses_is_read(readers, serif_cjk, logo):
    spaced, plain = readers
    frame = Frame(0, 0.0, cjk_pack(serif_cjk, logo))
    without, found = plain.read(frame, BOX), spaced.read(frame, BOX)
    assert logo not in [line.text for line in without]  # the case is one the pass decides
    assert logo in [line.text for line in found], [line.text for line in found]
    assert len(found) == len(without) + 1
