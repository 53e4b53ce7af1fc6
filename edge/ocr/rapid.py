"""RapidOCR 3.x (PP-OCR detection, angle classifier, recognition on ONNX Runtime) as a TextReader.

Models come only from the ``rapidocr`` wheel: the files its default configuration names are
resolved in the wheel's ``models`` folder, checked against the sha256 rapidocr publishes for them
and passed as explicit paths, so rapidocr's download path is never reached.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlparse

import numpy as np

from edge.config.models import OcrConfig
from edge.errors import ModelError
from edge.files import file_sha256
from edge.ocr.layout import in_product, reading_order
from edge.ocr.spaced import with_spaced_text
from edge.types import Detections, Frame, ModelInfo, OcrLine

TASKS = ("det", "rec", "cls")  # also the order of the files in the combined sha256
_SECTIONS = {"det": "Det", "rec": "Rec", "cls": "Cls"}
PRECISION = "fp32"  # every model the rapidocr 3.x wheel ships is float32


@dataclass(frozen=True)
class BundledModels:
    """The wheel's model files; ``sha256`` is over their bytes in ``TASKS`` order (cat det rec cls)."""

    files: dict[str, Path]
    sha256: str

    @property
    def label(self) -> str:
        return "+".join(self.files[task].stem for task in TASKS)


def bundled_models(models_dir: Path | None = None, cfg: Any = None) -> BundledModels:
    """Resolve the det/rec/cls files that rapidocr config ``cfg`` names inside ``models_dir``.

    ``models_dir`` defaults to the wheel's own folder, ``cfg`` to rapidocr's default config.
    Raises ModelError naming the file when it is missing or its sha256 differs from the one
    rapidocr publishes (a corrupt or foreign file).
    """
    from rapidocr.inference_engine.base import FileInfo, InferSession

    if cfg is None:
        from rapidocr import RapidOCR

        cfg = RapidOCR(params=_engine_params(1)).cfg  # reads the YAML only, loads no model
    folder = Path(models_dir) if models_dir is not None else _wheel_models_dir()
    files: dict[str, Path] = {}
    combined = hashlib.sha256()
    for task in TASKS:
        section = cfg[_SECTIONS[task]]
        info = InferSession.get_model_url(
            FileInfo(
                engine_type=section.engine_type,
                ocr_version=section.ocr_version,
                task_type=section.task_type,
                lang_type=section.lang_type,
                model_type=section.model_type,
            )
        )
        path = folder / PurePosixPath(urlparse(str(info["model_dir"])).path).name
        _check_model_file(path, info.get("SHA256"), combined)
        files[task] = path
    return BundledModels(files, combined.hexdigest())


def _wheel_models_dir() -> Path:
    import rapidocr

    return Path(rapidocr.__file__).resolve().parent / "models"


def _check_model_file(path: Path, expected: str | None, combined: Any) -> None:
    """Hash ``path`` into its own digest and ``combined``; refuse a missing or mismatching file."""
    if not path.is_file():
        raise ModelError(
            str(path), "OCR model file is missing; reinstall the rapidocr wheel (LiveGuard never downloads models)"
        )
    own = file_sha256(path, also=combined)
    if expected and own != str(expected).lower():
        raise ModelError(str(path), f"sha256 {own} differs from rapidocr's published {expected}")


class RapidTextReader:
    """A TextReader on RapidOCR; the engine and its three ONNX sessions load in the constructor."""

    def __init__(self, config: OcrConfig, threads: int, models_dir: Path | None = None) -> None:
        from rapidocr import RapidOCR

        self.min_confidence = float(config.min_confidence)
        self.spaced_text = config.spaced_text
        self._engine = RapidOCR(params=_engine_params(threads))
        models = bundled_models(models_dir, self._engine.cfg)
        for task, path in models.files.items():
            self._engine.cfg[_SECTIONS[task]].model_path = str(path)
        provider = _load_sessions(self._engine, models)
        self.model = ModelInfo(
            name=f"rapidocr-{metadata.version('rapidocr')} {models.label}",
            sha256=models.sha256,
            precision=PRECISION,
            provider=provider,
        )

    def read(self, frame: Frame, products: Detections | None) -> list[OcrLine]:
        """Recognised lines of ``frame`` in reading order; see ``edge.ocr.TextReader``."""
        if frame.image.size == 0:
            return []
        # rapidocr keeps the steps of the last call: name them every time (the spaced-text pass recognises only)
        result = self._engine(frame.image, use_det=True, use_cls=True, use_rec=True)
        lines = []
        for box, text, score in _raw_lines(result):
            text, confidence = text.strip(), min(max(float(score), 0.0), 1.0)
            if not text or confidence < self.min_confidence:
                continue
            points = tuple((float(x), float(y)) for x, y in np.asarray(box, dtype=np.float64).reshape(-1, 2))
            lines.append(OcrLine(text, confidence, points, frame.index, in_product(points, products)))
        if self.spaced_text and products is not None:
            lines = with_spaced_text(lines, frame, products, self._recognise)
        return reading_order(lines)

    def _recognise(self, strip: np.ndarray) -> tuple[str, float]:
        result = self._engine(strip, use_det=False, use_cls=False, use_rec=True)
        texts, scores = getattr(result, "txts", None), getattr(result, "scores", None)
        return (str(texts[0]), float(scores[0])) if texts and scores else ("", 0.0)

    def close(self) -> None:
        self._engine = None  # its ONNX Runtime sessions go with it


def _engine_params(threads: int) -> dict[str, Any]:
    """RapidOCR settings: quiet, no score filter of its own (``read`` applies min_confidence)."""
    return {
        "Global.log_level": "error",  # else every text-free frame logs a warning
        "Global.text_score": 0.0,
        "Global.return_word_box": False,
        # rapidocr ignores thread counts above os.cpu_count() (ORT default then): clamp instead
        "EngineConfig.onnxruntime.intra_op_num_threads": max(1, min(threads, os.cpu_count() or 1)),
        "EngineConfig.onnxruntime.inter_op_num_threads": 1,
    }


def _load_sessions(engine: Any, models: BundledModels) -> str:
    """Load det, cls and rec now (rapidocr loads lazily on first use); return the execution provider."""
    for task, loader in (("det", "_load_det_model"), ("cls", "_load_cls_model"), ("rec", "_load_rec_model")):
        try:
            getattr(engine, loader)()
        except Exception as error:  # onnxruntime raises its own types for unreadable graphs
            raise ModelError(str(models.files[task]), f"cannot load OCR {task} model: {error}") from error
    try:
        return str(engine.text_det.session.session.get_providers()[0])
    except (AttributeError, IndexError):
        return "CPUExecutionProvider"


def _raw_lines(result: Any) -> Iterable[tuple[Any, str, float]]:
    """(box, text, score) triples; rapidocr returns other output types when a step finds nothing."""
    boxes, texts, scores = (getattr(result, name, None) for name in ("boxes", "txts", "scores"))
    if boxes is None or texts is None or scores is None:
        return []
    return zip(boxes, texts, scores)
