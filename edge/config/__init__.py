"""Typed configuration: the only place that reads YAML."""

from edge.config.loader import LayeredConfig, config_hash, config_schema, load_config, load_layers, parse_config
from edge.config.models import (
    Config,
    DetectorConfig,
    FunAsrConfig,
    ModelConfig,
    NoAsrConfig,
    OcrConfig,
    QualityConfig,
    RuntimeConfig,
    SamplingConfig,
    ScoringConfig,
    SelectionConfig,
    WhisperAsrConfig,
)

__all__ = [
    "Config",
    "DetectorConfig",
    "FunAsrConfig",
    "LayeredConfig",
    "ModelConfig",
    "NoAsrConfig",
    "OcrConfig",
    "QualityConfig",
    "RuntimeConfig",
    "SamplingConfig",
    "ScoringConfig",
    "SelectionConfig",
    "WhisperAsrConfig",
    "config_hash",
    "config_schema",
    "load_config",
    "load_layers",
    "parse_config",
]
