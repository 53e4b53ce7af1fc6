"""The models that ship inside the package: the defaults a fresh install runs with no configuration.

``detector.onnx`` is a D-FINE-N trained from scratch on the synthetic benchmark (320 px, official
export contract); ``quality.onnx`` an EfficientNetV2-B0 Strategy B regressor distilled from a
teacher's pseudo-labels. ``manifest.yaml`` is their model pack (sha256, signature, provenance), and
the README's "Training" section has the commands that reproduce them. Files only: nothing here is
imported at run time beyond these paths.
"""

from pathlib import Path

FOLDER = Path(__file__).resolve().parent
DETECTOR = FOLDER / "detector.onnx"
QUALITY = FOLDER / "quality.onnx"
PACK = FOLDER / "manifest.yaml"
