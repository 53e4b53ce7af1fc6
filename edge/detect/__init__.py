"""Product detection (D-FINE, official ONNX export contract)."""

from edge.detect.detector import Detector, create_detector
from edge.detect.onnx_dfine import OnnxDFineDetector
from edge.detect.providers import select_providers

__all__ = ["Detector", "OnnxDFineDetector", "create_detector", "select_providers"]
