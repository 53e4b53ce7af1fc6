"""The real RapidOCR reader on rendered livestream-like frames."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest
from ocr_scenes import THREADS, Scene, best_match

from edge.config.models import OcrConfig
from edge.errors import ModelError
from edge.ocr import TextReader, create_reader, normalise_text
from edge.ocr.layout import in_product, reading_order
from edge.ocr.rapid import RapidTextReader, bundled_models
from edge.types import Detections, Frame, OcrLine

MIN_SIMILARITY = 0.85  # a minor OCR slip is fine, a different text is not
LABEL = ("AURORA", "Hydra Glow Face Cream", "50 ml")
OVERLAY = ("@MiaLive  so cute!!", "LIVE 1.2w")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def label_lines(reader: TextReader, scene: Scene) -> list[OcrLine]:
    """The product scene read once with its product box, as sampled frame 7."""
    return reader.read(Frame(7, 3.5, scene.image), scene.detections)


def _matched(lines: list[OcrLine], expected: str) -> OcrLine:
    line, ratio = best_match(lines, expected)
    assert line is not None and ratio >= MIN_SIMILARITY, f"{expected!r} not read; got {[line.text for line in lines]}"
    return line


def test_reader_is_a_text_reader_with_model_identity(reader: TextReader) -> None:
    assert isinstance(reader, TextReader)
    model = reader.model
    assert model.name.startswith("rapidocr-3.") and "PP-OCRv" in model.name
    assert model.provider == "CPUExecutionProvider" and model.precision == "fp32"
    models = bundled_models()
    digest = hashlib.sha256()
    for task in ("det", "rec", "cls"):  # documented order: cat det rec cls | sha256sum
        digest.update(models.files[task].read_bytes())
    assert model.sha256 == digest.hexdigest()


def test_label_inside_and_overlay_outside_the_product_box(label_lines: list[OcrLine]) -> None:
    for text in LABEL:
        assert _matched(label_lines, text).in_product is True, text
    for text in OVERLAY:
        assert _matched(label_lines, text).in_product is False, text
    assert {line.frame_index for line in label_lines} == {7}


def test_boxes_are_four_corners_in_frame_pixels(label_lines: list[OcrLine], scene: Scene) -> None:
    for text, (x1, y1, x2, y2) in {**scene.inside, **scene.outside}.items():
        box = np.asarray(_matched(label_lines, text).box)
        assert box.shape == (4, 2)
        centre = box.mean(axis=0)
        assert abs(centre[0] - (x1 + x2) / 2) < 15 and abs(centre[1] - (y1 + y2) / 2) < 15, text


def test_lines_come_top_to_bottom_then_left_to_right(label_lines: list[OcrLine]) -> None:
    # "LIVE 1.2w" is drawn a few pixels higher than the comment on its left: same row, so second
    order = [label_lines.index(_matched(label_lines, text)) for text in (*LABEL, *OVERLAY)]
    assert order == sorted(order)


def test_in_product_is_unknown_without_product_boxes(reader: TextReader, scene: Scene) -> None:
    for products in (None, Detections.empty()):
        lines = reader.read(Frame(0, 0.0, scene.image), products)
        assert len(lines) >= len(LABEL) + len(OVERLAY)
        assert {line.in_product for line in lines} == {None}


def test_confidences_are_bounded_and_filtered(label_lines: list[OcrLine], scene: Scene) -> None:
    assert all(0.5 <= line.confidence <= 1.0 for line in label_lines)  # default min_confidence 0.5
    everything = create_reader(OcrConfig(min_confidence=0.0), THREADS).read(Frame(7, 3.5, scene.image), None)
    confidences = sorted({line.confidence for line in everything})
    assert len(confidences) >= 3
    threshold = confidences[len(confidences) // 2]
    strict = create_reader(OcrConfig(min_confidence=threshold), THREADS).read(Frame(7, 3.5, scene.image), None)
    assert [line.text for line in strict] == [line.text for line in everything if line.confidence >= threshold]
    assert 0 < len(strict) < len(everything)


def test_a_frame_without_text_gives_no_lines(reader: TextReader) -> None:
    assert reader.read(Frame(0, 0.0, np.full((540, 960, 3), 127, np.uint8)), None) == []


def test_chinese_label_and_banner_at_720p(reader: TextReader, cjk_scene: Scene) -> None:
    lines = reader.read(Frame(3, 1.5, cjk_scene.image), cjk_scene.detections)
    for text, inside in [*((t, True) for t in cjk_scene.inside), *((t, False) for t in cjk_scene.outside)]:
        assert _matched(lines, text).in_product is inside, text
    assert normalise_text(_matched(lines, "50毫升").text) == "50ml"


def test_no_download_is_ever_attempted(monkeypatch) -> None:
    import requests
    from rapidocr.utils.download_file import DownloadFile

    def refuse(*args, **kwargs):
        raise AssertionError("rapidocr tried to download")

    monkeypatch.setattr(DownloadFile, "run", classmethod(refuse))
    monkeypatch.setattr(requests, "get", refuse)
    reader = create_reader(OcrConfig(), 1)
    assert reader.read(Frame(0, 0.0, np.full((64, 64, 3), 255, np.uint8)), None) == []


def test_a_missing_model_file_is_a_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="missing") as caught:
        RapidTextReader(OcrConfig(), 1, models_dir=tmp_path)
    assert str(tmp_path) in str(caught.value)


def test_a_corrupt_model_file_is_a_model_error(tmp_path: Path) -> None:
    for path in bundled_models().files.values():
        shutil.copyfile(path, tmp_path / path.name)
    (tmp_path / bundled_models().files["rec"].name).write_bytes(b"not an onnx model")
    with pytest.raises(ModelError, match="sha256") as caught:
        RapidTextReader(OcrConfig(), 1, models_dir=tmp_path)
    assert caught.value.culprit.endswith(".onnx") and "rec" in caught.value.culprit


def _line(x1: float, y1: float, x2: float, y2: float, text: str = "t") -> OcrLine:
    return OcrLine(text, 0.9, ((x1, y1), (x2, y1), (x2, y2), (x1, y2)), 0)


def test_in_product_uses_the_box_centre_edges_included() -> None:
    boxes = np.array([[0, 0, 100, 100], [200, 0, 300, 50]], np.float32)
    products = Detections(boxes, np.ones(2, np.float32), np.zeros(2, np.int64))
    assert in_product(_line(80, 80, 120, 120).box, products) is True  # centre (100, 100): on the edge
    assert in_product(_line(90, 90, 130, 130).box, products) is False  # centre (110, 110)
    assert in_product(_line(240, 20, 260, 30).box, products) is True  # second box
    assert in_product(_line(0, 0, 10, 10).box, Detections.empty()) is None
    assert in_product(_line(0, 0, 10, 10).box, None) is None


def test_reading_order_groups_rows_by_vertical_overlap() -> None:
    right_higher = _line(300, 96, 400, 126, "right")
    left = _line(10, 100, 100, 130, "left")
    top = _line(200, 10, 260, 40, "top")
    bottom = _line(0, 200, 50, 230, "bottom")
    ordered = reading_order([bottom, right_higher, left, top])
    assert [line.text for line in ordered] == ["top", "left", "right", "bottom"]


@pytest.mark.parametrize("size", [(640, 360), (1920, 1080)])
def test_boxes_follow_the_frame_size(reader: TextReader, scene: Scene, size: tuple[int, int]) -> None:
    scene = scene.resized(size)
    lines = reader.read(Frame(0, 0.0, scene.image), scene.detections)
    line = _matched(lines, "AURORA")
    x1, y1, x2, y2 = scene.inside["AURORA"]
    assert np.allclose(np.asarray(line.box).mean(axis=0), ((x1 + x2) / 2, (y1 + y2) / 2), atol=15)
    assert _matched(lines, "LIVE 1.2w").in_product is False
