"""The models that ship inside the package: the defaults a fresh install runs with no configuration.

``detector.onnx`` is a D-FINE-N trained from scratch on the synthetic benchmark (320 px, official
export contract); ``quality.onnx`` an EfficientNetV2-B0 Strategy B regressor distilled from a
teacher's pseudo-labels. ``manifest.yaml`` is their model pack (sha256, signature, provenance), and
``tools/train_bundled.sh`` reproduces them (README, "Training the shipped models").

A configuration names them ``bundled:detector.onnx`` and ``bundled:quality.onnx`` (the defaults), so
that a config file, its hash and the evidence do not depend on where the package is installed; the
runtime resolves the name when it opens the file (:func:`resolve`).
"""

from pathlib import Path

FOLDER = Path(__file__).resolve().parent
SCHEME = "bundled:"
DETECTOR = Path(SCHEME + "detector.onnx")
QUALITY = Path(SCHEME + "quality.onnx")
PACK = FOLDER / "manifest.yaml"


def is_bundled(path: str | Path) -> bool:
    """True for a ``bundled:NAME`` reference."""
    return str(path).startswith(SCHEME)


def resolve(path: str | Path) -> Path:
    """The file a ``bundled:NAME`` reference names (in :data:`FOLDER`); any other path unchanged."""
    text = str(path)
    return FOLDER / text[len(SCHEME):] if text.startswith(SCHEME) else Path(path)
