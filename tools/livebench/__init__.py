"""Evaluation of the pipeline on a generated benchmark: the paper's metrics and tables (§4, Tables 7-12).

``similarity`` (field similarity from a multilingual embedding model), ``metrics`` (thresholds, Perfect
Match Rate, OCR statistics), ``runner`` (the shared per-clip work: decode and ASR once, OCR once per
frame), ``report`` (Markdown and CSV tables) and ``plots`` (the frame score over time per clip).
"""
