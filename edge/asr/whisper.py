"""ASR with faster-whisper (CTranslate2): the bundled offline default, Whisper-base."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np

from edge.asr.audio import SAMPLE_RATE, as_mono_float32, has_speech_candidate
from edge.asr.modelfiles import HASH_LIMIT_BYTES, require_files
from edge.asr.transcript import make_transcript
from edge.asr.whisper_cache import bundled_whisper_model
from edge.config.models import WhisperAsrConfig
from edge.errors import ModelError
from edge.files import file_sha256
from edge.types import ModelInfo, Transcript, TranscriptSegment

REQUIRED_FILES = ("model.bin", "config.json", "tokenizer.json")
VOCABULARY_FILES = ("vocabulary.txt", "vocabulary.json")
LOOP_RATIO = 2.4  # Whisper's compression_ratio_threshold: a segment that compresses more is a repetition loop
HOTWORD_TOKENS = 120  # of the 223 a Whisper prompt may take: all the English claim terms, a part of the Chinese ones
_PRECISION = {"float32": "fp32", "float16": "fp16", "bfloat16": "bf16"}


class WhisperTranscriber:
    """Deterministic Whisper decoding (temperature 0, no conditioning on earlier text) behind Silero VAD."""

    name = "whisper"

    def __init__(self, config: WhisperAsrConfig, threads: int, cache_root: Path | None = None,
                 vocabulary: Mapping[str, Sequence[str]] | None = None) -> None:
        if config.model_dir is None:
            cached = bundled_whisper_model(cache_root)
            self.model_dir, sha256, label = cached.path, cached.sha256, "whisper-base"
        else:
            self.model_dir = Path(config.model_dir)
            check_model_dir(self.model_dir)
            sha256, label = file_sha256(self.model_dir / "model.bin", HASH_LIMIT_BYTES), f"whisper:{self.model_dir.name}"
        self._model = _load(self.model_dir, config.compute_type, threads)
        engine = self._model.model
        self.model = ModelInfo(
            name=label,
            sha256=sha256,
            precision=_precision(engine.compute_type),
            provider=f"ctranslate2-{engine.device}",
        )
        self._options = {
            "language": config.language,
            "beam_size": config.beam_size,
            "temperature": 0.0,
            "condition_on_previous_text": False,
            "vad_filter": True,
            "without_timestamps": False,
            "initial_prompt": config.prompt,
        }
        self._languages = config.languages
        tokenizer = self._model.hf_tokenizer
        count = lambda text: len(tokenizer.encode(" " + text).ids)  # noqa: E731
        self._hotwords = {lang: hotwords(terms, count) for lang, terms in (vocabulary or {}).items()} if config.claim_hotwords else {}
        self._claim_prompts = dict(config.claim_prompts) if self._hotwords else {}

    def transcribe(self, samples: np.ndarray, offset: float = 0.0) -> Transcript:
        """Recognise one chunk; segment times are seconds from the window start (``offset`` added). With claim
        hotwords, the chunk is decoded a second time told the claim terms, for the claims screening alone."""
        audio = as_mono_float32(samples)
        if not has_speech_candidate(audio):
            return Transcript(backend=self.name)
        duration = audio.shape[0] / SAMPLE_RATE
        try:
            options = self._decoding(audio)
            found, info = self._model.transcribe(audio, **options)
            segments = [_segment(s.start, s.end, s.text, duration, offset) for s in found]
            claims = [_segment(s.start, s.end, s.text, duration, offset) for s in self._claims_decoding(audio, options)]
        except (RuntimeError, ValueError) as exc:
            raise ModelError(str(self.model_dir), f"Whisper transcription failed: {exc}") from exc
        return make_transcript(segments, info.language, self.name, claim_segments=claims)

    def _decoding(self, audio: np.ndarray) -> dict:
        """The options for this chunk: its language, given or detected among ``languages``."""
        options = dict(self._options)
        if options["language"] is None and (self._languages or self._hotwords):
            _, _, probabilities = self._model.detect_language(audio=audio, vad_filter=True)
            ranked = dict(probabilities)
            allowed = self._languages or tuple(ranked)
            options["language"] = max(allowed, key=lambda code: ranked.get(code, 0.0))
        return options

    def _claims_decoding(self, audio: np.ndarray, options: dict) -> list:
        """The chunk decoded again with the claim terms of its language as hotwords, and that language's claim
        prompt: a spoken claim comes out spelt as the rules write it. Told which words to expect, Whisper may
        also hear them in names or echo them into speech it cannot make out, so this text is screened for
        claims only and never fused; a decoding that loops (echoed hotwords) is dropped."""
        language = options["language"]
        words, prompt = self._hotwords.get(language), self._claim_prompts.get(language)
        if not words and not prompt:
            return []
        told = " ".join(p for p in (options["initial_prompt"], prompt) if p) or None
        found, _ = self._model.transcribe(audio, **{**options, "hotwords": words or None, "initial_prompt": told})
        decoded = list(found)
        return [] if _loops(decoded) else decoded

    def close(self) -> None:
        self._model = None  # CTranslate2 frees the weights with the last reference


def _worst_ratio(segments: Sequence) -> float:
    return max((s.compression_ratio for s in segments), default=0.0)


def _loops(segments: Sequence) -> bool:
    """Is a segment a repetition loop, as Whisper judges one (its text compresses more than ``LOOP_RATIO``)?"""
    return _worst_ratio(segments) > LOOP_RATIO


def hotwords(terms: Sequence[str], count: Callable[[str], int]) -> str:
    """Whisper's hotwords text: the terms in order, as many as fit ``HOTWORD_TOKENS`` by ``count`` (Whisper reads
    them as earlier speech, in the half of its context a prompt may take)."""
    kept: list[str] = []
    for term in terms:
        if count(", ".join([*kept, term])) > HOTWORD_TOKENS:
            break
        kept.append(term)
    return ", ".join(kept)


def check_model_dir(folder: Path) -> None:
    """Raise ModelError naming the folder and what a CTranslate2 Whisper model dir lacks."""
    require_files(folder, REQUIRED_FILES, "Whisper (CTranslate2)")
    if not any((folder / name).is_file() for name in VOCABULARY_FILES):
        raise ModelError(str(folder), f"Whisper (CTranslate2) model dir lacks {' or '.join(VOCABULARY_FILES)}")


def _load(folder: Path, compute_type: str, threads: int):
    from faster_whisper import WhisperModel  # heavy import, only when this backend is chosen

    try:
        return WhisperModel(
            str(folder), device="auto", compute_type=compute_type, cpu_threads=threads, num_workers=1
        )
    except (RuntimeError, ValueError, OSError) as exc:
        raise ModelError(str(folder), f"CTranslate2 cannot load the Whisper model: {exc}") from exc


def _segment(start: float, end: float, text: str, duration: float, offset: float) -> TranscriptSegment:
    start = min(max(start, 0.0), duration)
    end = min(max(end, start), duration)
    return TranscriptSegment(start=round(offset + start, 3), end=round(offset + end, 3), text=text.strip())


def _precision(compute_type: str) -> str:
    """CTranslate2's compute type in the evidence's vocabulary (fp32, fp16, int8, ...)."""
    if compute_type.startswith("int8"):
        return "int8"
    return _PRECISION.get(compute_type, compute_type)
