"""Fixtures for the OCR tests: real fonts, rendered frames and one real RapidOCR reader per session."""

from __future__ import annotations

from pathlib import Path

import pytest
from ocr_scenes import DEJAVU, NOTO_CJK, THREADS, Scene, chinese_scene, find_font, product_scene

from edge.config.models import OcrConfig
from edge.ocr import TextReader, create_reader


@pytest.fixture(scope="session")
def dejavu() -> tuple[Path, Path]:
    """(regular, bold) DejaVu Sans from Debian fonts-dejavu-core."""
    regular, bold = (find_font(name) for name in DEJAVU)
    if regular is None or bold is None:
        pytest.skip("DejaVu Sans is not installed (apt-get install -y fonts-dejavu-core); it renders the test text")
    return regular, bold


@pytest.fixture(scope="session")
def noto_cjk() -> Path:
    """Noto Sans CJK from Debian fonts-noto-cjk."""
    path = find_font(NOTO_CJK)
    if path is None:
        pytest.skip("Noto Sans CJK is not installed (apt-get install -y fonts-noto-cjk); it renders the Chinese text")
    return path


@pytest.fixture(scope="session")
def reader() -> TextReader:
    """The real reader with the default config (min_confidence 0.5), loaded once."""
    return create_reader(OcrConfig(), THREADS)


@pytest.fixture(scope="session")
def scene(dejavu) -> Scene:
    return product_scene(*dejavu)


@pytest.fixture(scope="session")
def cjk_scene(noto_cjk) -> Scene:
    return chinese_scene(noto_cjk)
