"""Product detection (D-FINE, official ONNX export contract), on any runtime of :mod:`edge.runtime`."""

from edge.detect.detector import Detector, create_detector
from edge.detect.onnx_dfine import DFineDetector

__all__ = ["DFineDetector", "Detector", "create_detector"]
