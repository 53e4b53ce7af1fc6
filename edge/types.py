"""Plain values that flow between the pipeline's stages (one way, left to right).

Images are OpenCV-style BGR ``uint8`` arrays of shape (H, W, 3) everywhere; a stage that
needs RGB (the detector) converts at its own boundary.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Frame:
    """One sampled frame: ``index`` counts sampled frames from 0, ``pts`` is seconds."""

    index: int
    pts: float
    image: np.ndarray = field(repr=False)

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        h, w = self.image.shape[:2]
        return w, h


@dataclass(frozen=True)
class Detections:
    """Aligned arrays of product boxes in original-frame pixels (x1, y1, x2, y2)."""

    xyxy: np.ndarray  # (M, 4) float32
    confidence: np.ndarray  # (M,) float32, already in [0, 1]
    class_id: np.ndarray  # (M,) int64

    @classmethod
    def empty(cls) -> Detections:
        return cls(
            xyxy=np.zeros((0, 4), np.float32),
            confidence=np.zeros((0,), np.float32),
            class_id=np.zeros((0,), np.int64),
        )

    def __len__(self) -> int:
        return int(self.confidence.shape[0])

    def filter(self, mask: np.ndarray) -> Detections:
        return Detections(self.xyxy[mask], self.confidence[mask], self.class_id[mask])


@dataclass(frozen=True)
class FrameScore:
    """A frame's composite score and its parts (paper §3.3).

    ``detection`` is C_d; ``sharpness`` is C_s (Strategy A) and ``quality`` is Q (Strategy B),
    the other one is None. ``whole_frame`` is True when no ROI existed and the fallback scored
    the whole frame.
    """

    index: int
    pts: float
    total: float
    detection: float
    sharpness: float | None = None
    quality: float | None = None
    roi_count: int = 0
    whole_frame: bool = False


@dataclass(frozen=True)
class Keyframe:
    """A selected frame with what selection knew about it."""

    frame: Frame
    score: FrameScore
    detections: Detections


@dataclass(frozen=True)
class OcrLine:
    """One recognised text line.

    ``box`` is four (x, y) corner points in frame pixels. ``in_product`` is True when the
    line's centre lies inside a product box, False when outside (live-room overlay text),
    None when no product box was available (whole-frame fallback).
    """

    text: str
    confidence: float
    box: tuple[tuple[float, float], ...]
    frame_index: int
    in_product: bool | None = None


@dataclass(frozen=True)
class FusedText:
    """One text item of a window after multi-frame fusion (paper §3.4.2).

    ``text`` and ``box`` are those of the most confident variant; ``key`` is the normalised form
    used for matching; ``confidence`` the max over the merged lines; ``frames`` the sorted frame
    indices it was read in; ``in_product`` True if any merged line lies inside a product box,
    False if all lie outside, else None.
    """

    text: str
    key: str
    confidence: float
    frames: tuple[int, ...]
    in_product: bool | None
    box: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class TranscriptSegment:
    start: float  # seconds from the window start
    end: float
    text: str


@dataclass(frozen=True)
class Transcript:
    """Speech evidence for a window; empty when the window has no audio."""

    text: str = ""
    language: str | None = None
    segments: tuple[TranscriptSegment, ...] = ()
    backend: str = "none"
    # a second decoding told the claim terms to expect, screened for claims only (the fusion reads the text above);
    # empty when it did not run or heard nothing the first did not
    claim_segments: tuple[TranscriptSegment, ...] = ()


@dataclass(frozen=True)
class ModelInfo:
    """Identity of a model as recorded in evidence (traceability)."""

    name: str
    sha256: str | None = None
    precision: str | None = None  # fp32, fp16, int8
    provider: str | None = None  # e.g. CPUExecutionProvider, TensorRT, ctranslate2-cpu


@dataclass(frozen=True)
class StreamInfo:
    """Where a window came from; ``width``/``height`` are those of the upright keyframe."""

    id: str
    source: str
    video_codec: str | None = None
    audio_codec: str | None = None
    width: int = 0
    height: int = 0
    decode_errors: int = 0


@dataclass(frozen=True)
class Selection:
    """What keyframe selection kept of one window: the keyframes, out of ``sampled_frames``."""

    keyframes: tuple[Keyframe, ...]
    sampled_frames: int
    d_min: float  # the Top-K spacing in sampled frames (paper §3.4.2)


@dataclass(frozen=True)
class Readings:
    """What the readers made of one window: fused OCR text, the speech, the VL reading if any."""

    ocr_lines: tuple[FusedText, ...]
    raw_ocr_lines: int  # lines read before multi-frame fusion
    transcript: Transcript
    vl: dict[str, Any] | None = None


@dataclass(frozen=True)
class AudioChunk:
    """Mono float32 samples in [-1, 1] at ``rate`` Hz starting ``start`` seconds into the window."""

    start: float
    samples: np.ndarray = field(repr=False)
    rate: int = 16000

    @property
    def duration(self) -> float:
        return self.samples.shape[0] / self.rate
