"""Text on the selected keyframes: one small reader interface (RapidOCR) and multi-frame fusion.

The pipeline calls ``create_reader`` once, ``read`` per keyframe (with the frame's product boxes,
or None without a detector) and ``fuse_ocr_lines`` on all lines of a window (paper §3.4.2).
The engine is imported only when a reader is created, so ``import edge.ocr`` stays light.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from edge.config.models import OcrConfig
from edge.ocr.fuse import fuse_ocr_lines, normalise_text
from edge.registry import load_backend
from edge.types import Detections, Frame, FusedText, ModelInfo, OcrLine

__all__ = ["FusedText", "TextReader", "create_reader", "fuse_ocr_lines", "normalise_text"]


@runtime_checkable
class TextReader(Protocol):
    """Reads the text lines of one frame (paper §3.5.1, visual-text modality)."""

    model: ModelInfo  # identity recorded in the evidence

    def read(self, frame: Frame, products: Detections | None) -> list[OcrLine]:
        """Lines at or above ``min_confidence`` in reading order (top-to-bottom, left-to-right).

        ``in_product`` of each line is True/False against ``products``, None when ``products``
        is None or empty (whole-frame fallback). Inside ``products`` a reader may read more than its
        detector boxes (RapidTextReader: letter-spaced print, ``edge.ocr.spaced``).
        """
        ...

    def close(self) -> None:
        """Release the engine's sessions; the reader is not used afterwards."""
        ...


# engine literal of the config -> "module:class", imported only when that engine is chosen
_ENGINES = {"rapidocr": "edge.ocr.rapid:RapidTextReader"}


def create_reader(config: OcrConfig, threads: int) -> TextReader:
    """Load the configured engine once, from model files on disk only (never a download).

    Raises ModelError naming the file or folder when a model is missing or corrupt.
    """
    return load_backend(_ENGINES, config.engine, "OCR")(config, threads)
