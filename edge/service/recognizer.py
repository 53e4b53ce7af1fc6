"""The daemon's models, loaded once and shared by every stream's worker.

Each model runs under its own lock: a stream's worker scores frames while another stream's finisher
reads a keyframe, but no model is entered by two threads at once (ONNX Runtime sessions would allow
it; RapidOCR and the ASR backends make no such promise). On a small box the models' own threads
use the cores, so serialising each model costs nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from edge.asr import merge_transcripts
from edge.closing import Closing
from edge.config import Config
from edge.evidence import Provenance
from edge.pipeline import Pipeline
from edge.select import KeyframePool, min_spacing
from edge.service.windows import OpenWindow
from edge.timing import StageTimer
from edge.types import Detections, Frame, FrameScore, Readings, Selection, StreamInfo, Transcript
from edge.window import read_keyframes, window_evidence, window_result


@dataclass(frozen=True)
class WindowDocuments:
    """What one finished window hands the transport."""

    evidence: dict[str, Any]
    result: dict[str, Any] | None  # None in fusion mode central
    timings: dict[str, float]
    jpegs: tuple[bytes, ...] = field(default=(), repr=False)  # the keyframes' JPEGs, named in the evidence by their sha256


class Recognizer(Closing):
    """Scores frames and finishes windows with one set of models for all streams."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.pipeline = Pipeline(config)
        self._detect_lock = threading.Lock()
        self._ocr_lock = threading.Lock()
        self._asr_lock = threading.Lock()

    @property
    def config_hash(self) -> str:
        return self.pipeline.config_hash

    @property
    def models(self) -> dict[str, Any]:
        return self.pipeline.models

    def close(self) -> None:
        self.pipeline.close()

    def new_pool(self) -> KeyframePool:
        cfg = self.config
        mode = "baseline" if cfg.scoring.strategy == "baseline" else "best"
        return KeyframePool(mode, cfg.selection.top_k, cfg.selection.spacing_divisor)

    def score(self, frames: Sequence[Frame], timer: StageTimer) -> list[tuple[FrameScore, Detections]]:
        """Each frame's score and product boxes; strategy baseline leaves them for the chosen frame."""
        if self.config.scoring.strategy == "baseline":
            return [(FrameScore(f.index, f.pts, 0.0, 0.0), Detections.empty()) for f in frames]
        with self._detect_lock:
            detections = self.pipeline.detect([f.image for f in frames], timer)
            with timer.stage("score"):
                return [(self.pipeline.scorer.score(f, d), d) for f, d in zip(frames, detections, strict=True)]

    def finish(self, stream: StreamInfo, window: OpenWindow, failures: Sequence[str] = ()) -> WindowDocuments:
        """OCR, ASR (and VL) on what the window kept, its evidence and, unless fusion is central, its result."""
        cfg, pipe = self.config, self.pipeline
        timer = StageTimer()
        with self._detect_lock:
            keyframes = pipe.finish_keyframes(window.pool.select(), timer)
        vl = pipe.vl.submit(keyframes) if pipe.vl else None
        with self._ocr_lock, timer.stage("ocr"):
            ocr_lines, raw_lines = read_keyframes(
                keyframes, pipe.reader.read, pipe.detector is not None, cfg.ocr.fuse_similarity
            )
        transcript, asr_failures = self._transcribe(window, timer)
        height, width = keyframes[0].frame.image.shape[:2]
        stream = StreamInfo(stream.id, stream.source, stream.video_codec, stream.audio_codec, int(width), int(height),
                            stream.decode_errors)
        count = window.pool.count
        selection = Selection(tuple(keyframes), count, min_spacing(count, cfg.selection.top_k, cfg.selection.spacing_divisor))
        readings = Readings(tuple(ocr_lines), raw_lines, transcript, vl.result() if vl else None)
        provenance = Provenance(cfg, pipe.config_hash, pipe.models)
        curve = None if cfg.scoring.strategy == "baseline" else window.curve  # baseline scores no frame while streaming
        evidence, jpegs = window_evidence(provenance, stream, window.span(), selection, readings, curve)
        result = None
        if pipe.fuse is not None:
            with timer.stage("fusion"):
                result = window_result(pipe.fuse, evidence, [*failures, *asr_failures])
        return WindowDocuments(evidence, result, timer.as_dict(), tuple(jpegs))

    @property
    def hears(self) -> bool:
        """Whether windows need their audio (an ASR backend is configured)."""
        return self.pipeline.transcriber is not None

    @property
    def asr_chunk_samples(self) -> int:
        return max(1, int(self.config.asr.chunk_seconds * 16000))

    def transcribe(self, samples: Any, start: float, timer: StageTimer | None = None) -> tuple[Transcript | None, str | None]:
        """One chunk of a window's audio; a failure is named, never raised (speech is one modality of three)."""
        transcriber = self.pipeline.transcriber
        if transcriber is None or not len(samples):
            return None, None
        timer = timer or StageTimer()
        try:
            with self._asr_lock, timer.stage("asr"):
                return transcriber.transcribe(samples, start), None
        except Exception as exc:
            return None, f"asr: chunk at {start:.1f}s failed: {type(exc).__name__}: {exc}"

    def _transcribe(self, window: OpenWindow, timer: StageTimer) -> tuple[Transcript, list[str]]:
        """The window's speech: the chunks transcribed while it was open, then what was left."""
        window.wait_speech()
        parts, failures = list(window.speech), list(window.speech_failures)
        rest = window.take_audio()
        if rest is not None:
            transcript, failure = self.transcribe(rest[1], rest[0], timer)
            parts += [transcript] if transcript is not None else []
            failures += [failure] if failure else []
        return merge_transcripts(parts), failures


def frames_per_second(window: OpenWindow) -> float:
    """Sampled frames per stream second the window saw."""
    if window.first_pts is None or window.last_pts is None or window.last_pts <= window.first_pts:
        return 0.0
    return (window.frames - 1) / (window.last_pts - window.first_pts)
