"""Keyframe selection (paper §3.4): argmax, Top-K with spacing, and a bounded streaming pool."""

from edge.select.curve import CURVE_LIMIT, ScoreCurve
from edge.select.keyframes import KeyframePool, min_spacing, select_best, select_top_k

__all__ = ["CURVE_LIMIT", "KeyframePool", "ScoreCurve", "min_spacing", "select_best", "select_top_k"]
