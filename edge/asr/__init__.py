"""Speech recognition of a window's audio: one small interface, two backends (Whisper, FunASR).

The pipeline calls ``create_transcriber`` once, ``transcribe`` per audio chunk (at most
``chunk_seconds`` long, with the chunk's offset in the window) and ``merge_transcripts`` on the
chunk results. Backends are imported only when chosen, so ``import edge.asr`` stays light.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from edge.asr.transcript import join_text, merge_transcripts
from edge.config.models import FunAsrConfig, NoAsrConfig, WhisperAsrConfig
from edge.registry import load_backend
from edge.types import ModelInfo, Transcript

AsrConfig = WhisperAsrConfig | FunAsrConfig | NoAsrConfig

__all__ = ["Transcriber", "create_transcriber", "merge_transcripts", "join_text"]


@runtime_checkable
class Transcriber(Protocol):
    """Turns one chunk of mono 16 kHz float32 audio into a Transcript; owns its models until closed."""

    name: str  # "whisper" | "funasr"
    model: ModelInfo  # identity recorded in the evidence

    def transcribe(self, samples: np.ndarray, offset: float = 0.0) -> Transcript:
        """``offset``: seconds from the window start of ``samples[0]``; segment times include it.

        Audio shorter than 0.1 s or silent gives an empty Transcript.
        """
        ...

    def close(self) -> None:
        """Release the models; the transcriber is not used afterwards."""
        ...


# backend literal of the config -> "module:class", imported only when that backend is chosen
BACKENDS = {
    "whisper": "edge.asr.whisper:WhisperTranscriber",
    "funasr": "edge.asr.funasr:FunAsrTranscriber",
}


def create_transcriber(config: AsrConfig, threads: int, vocabulary: Mapping[str, Sequence[str]] | None = None) -> Transcriber | None:
    """Load the configured backend's models once; None for backend ``"none"``. ``vocabulary``: language -> words the
    streams are expected to say (the claim rules' terms), for a backend that takes hotwords (Whisper).

    Raises ModelError naming the folder or file when a model is missing or malformed.
    """
    if config.backend == "none":
        return None
    backend = load_backend(BACKENDS, config.backend, "ASR")
    return backend(config, threads, vocabulary=vocabulary) if config.backend == "whisper" else backend(config, threads)
