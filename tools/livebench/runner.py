"""The shared per-clip work behind every table: one decode, one ASR pass, one OCR per frame.

For each clip the sampled frames and the audio are decoded once (``edge.sources.VideoFile``) and the
audio transcribed once; each detector variant detects every sampled frame once and each scoring
strategy scores them once; selection runs the runtime's own ``KeyframePool`` for every configuration
(Baseline, A with K = 1, 3, 5, B with K = 1 per quality regressor); OCR runs once per distinct keyframe (a cache keyed by
frame index, the product flags recomputed per detector); evidence and fusion are the runtime's
(``build_evidence``, ``create_fusion``). So a configuration's result equals what ``Pipeline.run`` gives
with that configuration (a test checks it), at a fraction of the cost.

Detector variants: ``none`` (the whole-frame fallback), a D-FINE ONNX path (``bundled:detector.onnx``: the shipped one), or
``oracle``: the truth boxes at confidence 1, an upper bound that isolates selection from detection.

Strategy B runs once per quality regressor given (e.g. regressors trained from different teachers), each
its own scorer and configuration. With one regressor its keys are the plain ``B`` (scorer, score series
``<detector>/B``) and ``B@1`` (configuration); with several they carry the regressor's name:
``B:<name>`` and ``B:<name>@1`` (:func:`livebench.report.variant_key`).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from edge.asr import create_transcriber, merge_transcripts
from edge.claims import asr_vocabulary
from edge.closing import Closing
from edge.config import Config, config_hash, parse_config
from edge.detect import create_detector
from edge.evidence import Provenance
from edge.fusion import create_fusion, create_vl_reader
from edge.ocr import create_reader
from edge.score import FrameScorer, create_quality_regressor
from edge.select import KeyframePool, min_spacing
from edge.sources import VideoFile
from edge.types import AudioChunk, Detections, Frame, FrameScore, Keyframe, OcrLine, Readings, Selection, Transcript
from edge.window import decode_failure, model_identities, read_keyframes, stream_info, window_evidence, window_result, window_span
from livebench.report import variant_key


@dataclass(frozen=True)
class Variant:
    """One frame-selection configuration of the experiments."""

    key: str
    strategy: str  # baseline | A | B
    top_k: int
    quality: str | None = None  # Strategy B: the name of its quality regressor (a key of Evaluator.quality_models)
    label: str | None = None  # that name where the keys carry it (several regressors), None for the plain "B"

    @property
    def scorer(self) -> str:
        """The key of the scorer (and of the score series) that ranks its frames: "A", "B" or "B:<name>"."""
        return self.strategy if self.label is None else f"{self.strategy}:{self.label}"


VARIANTS = (
    Variant("baseline", "baseline", 1), Variant("A@1", "A", 1), Variant("A@3", "A", 3), Variant("A@5", "A", 5), Variant("B@1", "B", 1)
)  # the configurations with one quality regressor; Evaluator.variants has B@1 once per regressor
B_TOP_K = (1,)  # the K of the Strategy B configurations
ORACLE = "oracle"
NO_DETECTOR = "none"
REGRESSOR_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def quality_models(quality: Path | Mapping[str, Path] | None) -> dict[str, Path]:
    """``name -> ONNX`` of the Strategy B regressors: none, one path (named by its stem) or a mapping.

    Names label the tables' columns and the variant keys: letters, digits, ``.``, ``_`` and ``-``.
    """
    if quality is None:
        return {}
    models = {Path(quality).stem: Path(quality)} if isinstance(quality, (str, Path)) else {n: Path(p) for n, p in quality.items()}
    bad = [n for n in models if not REGRESSOR_NAME.fullmatch(n)]
    if bad:
        raise ValueError(f"quality regressor names are letters, digits, '.', '_' and '-', got {bad}")
    return models


@dataclass
class Outcome:
    """What one configuration produced on one clip."""

    clip: str
    detector: str
    variant: str
    keyframes: list[int]  # sampled-frame indices
    pts: list[float]
    scores: list[float]
    result: dict[str, Any]  # every modality configured (OCR + ASR, + VL when enabled)
    result_ocr_only: dict[str, Any]
    ocr_lines: list[Any]  # fused lines
    seconds: float  # decode + detect + score + OCR of its keyframes (sequential sum)
    evidence_bytes: int
    result_ocr_asr: dict[str, Any] | None = None  # only when VL ran: the ablations of Table 12
    result_ocr_vl: dict[str, Any] | None = None
    evidence: dict[str, Any] | None = None  # the window's evidence (evaluate.py keeps Strategy A's, to re-fuse it later)


@dataclass
class ClipRun:
    """Everything evaluated on one clip."""

    clip: str
    truth: dict[str, Any]
    sampled: int
    frame_pts: list[float]
    transcript: Transcript
    timings: dict[str, float]
    outcomes: list[Outcome] = field(default_factory=list)
    score_series: dict[str, list[float]] = field(default_factory=dict)  # "<detector>/<scorer>" -> totals (scorer A, B, B:<name>)
    thumbnails: dict[str, np.ndarray] = field(default_factory=dict)  # "<detector>/<variant>" -> first keyframe image


class OracleDetector:
    """Truth boxes as detections (confidence 1): frames whose product face a person would annotate."""

    def __init__(self, truth: dict[str, Any]) -> None:
        self.fps = truth["video"]["fps"]
        self.frames = truth["frames"]

    def detect_at(self, pts: float) -> Detections:
        i = min(max(int(round(pts * self.fps)), 0), len(self.frames) - 1)
        f = self.frames[i]
        if not f["box"] or f["in_frame"] < 0.6 or f["occluded"] > 0.6:
            return Detections.empty()
        return Detections(np.asarray([f["box"]], np.float32), np.ones(1, np.float32), np.zeros(1, np.int64))


class Evaluator(Closing):
    """Loads every model once; :meth:`run_clip` evaluates one clip under every configuration.

    ``quality`` is the Strategy B regressor ONNX, or ``name -> ONNX`` of several (one Strategy B scorer
    and configuration each, keyed ``B:<name>``); none leaves Strategy B out.
    """

    def __init__(
        self, base: dict[str, Any], detectors: list[str], quality: Path | Mapping[str, Path] | None = None,
        log: Callable[[str], None] = lambda m: None,
    ) -> None:
        self.base = base
        self.config = parse_config(base, "<evaluation>")
        cfg = self.config
        threads = cfg.runtime.threads
        self.detectors: dict[str, Any] = {}
        for name in detectors:
            if name in (NO_DETECTOR, ORACLE):
                self.detectors[name] = None
            else:
                det_cfg = parse_config({**base, "detector": {**base.get("detector", {}), "model": str(name)}}).detector
                self.detectors[name] = create_detector(det_cfg, threads)
        self.quality_models = quality_models(quality)
        named = len(self.quality_models) > 1
        b_variants = [
            Variant(variant_key("B", k, name if named else None), "B", k, name, name if named else None)
            for name in self.quality_models for k in B_TOP_K
        ]
        self.variants = [v for v in VARIANTS if v.strategy != "B"] + b_variants
        self.regressors: dict[str, Any] = {}  # name -> the loaded regressor
        self.scorers = {"A": FrameScorer(self._config("A", 1).scoring)}
        for variant in b_variants:
            if variant.quality not in self.regressors:
                scoring = self._config("B", variant.top_k, quality=variant.quality).scoring
                self.regressors[variant.quality] = create_quality_regressor(scoring.quality, threads)
                self.scorers[variant.scorer] = FrameScorer(scoring, self.regressors[variant.quality])
        self.reader = create_reader(cfg.ocr, threads)
        self.transcriber = create_transcriber(cfg.asr, threads, asr_vocabulary(cfg.claims))
        self.fuse = create_fusion(cfg.fusion)
        self.vl = create_vl_reader(cfg.fusion)  # None unless fusion.vl.enabled (direct mode, an endpoint)
        self.log = log

    def close(self) -> None:
        """Release every model and client the evaluator loaded."""
        for resource in (self.vl, self.fuse, self.transcriber, self.reader, *self.regressors.values(), *self.detectors.values()):
            if resource is not None:
                resource.close()

    def _config(self, strategy: str, top_k: int, detector: str | None = None, quality: str | None = None) -> Config:
        """The runtime configuration of one experiment; ``quality``: the name of Strategy B's regressor."""
        data = json.loads(json.dumps(self.base))
        data.setdefault("scoring", {})["strategy"] = strategy
        data.setdefault("selection", {})["top_k"] = top_k
        if strategy == "B" and quality is not None:
            data["scoring"].setdefault("quality", {})["model"] = str(self.quality_models[quality])
        if detector in (NO_DETECTOR, ORACLE):  # no model runs (the bundled default would)
            data.setdefault("detector", {})["model"] = None
        elif detector is not None:
            data.setdefault("detector", {})["model"] = str(detector)
        return parse_config(data, "<evaluation>")

    def run_clip(self, video: Path, truth: dict[str, Any], keep_thumbnails: bool = False) -> ClipRun:
        cfg = self.config
        timings: dict[str, float] = {}
        started = time.perf_counter()
        frames: list[Frame] = []
        chunks: list[AudioChunk] = []
        with VideoFile(video, cfg.sampling.fps, audio_chunk_seconds=cfg.asr.chunk_seconds) as source:
            for item in source:
                (chunks if isinstance(item, AudioChunk) else frames).append(item)
            info, decode_errors = source.info, source.decode_errors
        timings["decode"] = time.perf_counter() - started
        t0 = time.perf_counter()
        parts = [self.transcriber.transcribe(c.samples, c.start) for c in chunks] if self.transcriber else []
        transcript = merge_transcripts(parts)
        timings["asr"] = time.perf_counter() - t0
        run = ClipRun(truth.get("clip_id", video.stem), truth, len(frames), [f.pts for f in frames], transcript, timings)
        ocr_cache: dict[tuple[int, bytes], tuple[list[OcrLine], float]] = {}  # a frame and its boxes: read once
        vl_cache: dict[tuple[int, ...], dict[str, Any]] = {}

        def cache_key(frame: Frame, boxes: Detections | None) -> tuple[int, bytes]:
            return frame.index, b"" if boxes is None else np.ascontiguousarray(boxes.xyxy, np.float32).tobytes()

        def read(frame: Frame, boxes: Detections | None) -> list[OcrLine]:
            key = cache_key(frame, boxes)
            if key not in ocr_cache:
                t = time.perf_counter()
                lines = self.reader.read(frame, boxes)
                ocr_cache[key] = (lines, time.perf_counter() - t)
            return ocr_cache[key][0]

        window = window_span(frames[-1].pts if frames else 0.0, info.duration)
        for det_name, detector in self.detectors.items():
            t = time.perf_counter()
            if det_name == ORACLE:
                oracle = OracleDetector(truth)
                detections = [oracle.detect_at(f.pts) for f in frames]
            elif detector is None:
                detections = [Detections.empty() for _ in frames]
            else:
                detections = []
                batch = cfg.detector.batch_size
                for s in range(0, len(frames), batch):
                    detections += detector.detect([f.image for f in frames[s : s + batch]])
            detect_s = time.perf_counter() - t
            timings[f"detect[{det_name}]"] = detect_s
            scores: dict[str, list[FrameScore]] = {}
            score_s: dict[str, float] = {}
            for key, scorer in self.scorers.items():  # "A", "B" or "B:<name>"
                t = time.perf_counter()
                scores[key] = [scorer.score(f, d) for f, d in zip(frames, detections)]
                score_s[key] = time.perf_counter() - t
                timings[f"score[{det_name}/{key}]"] = score_s[key]
                run.score_series[f"{det_name}/{key}"] = [s.total for s in scores[key]]
            boxes_known = det_name != NO_DETECTOR
            for variant in self.variants:
                keyframes, select_s = self._select(variant, frames, detections, scores, detect_s, score_s)
                fused, raw_lines = read_keyframes(keyframes, read, boxes_known, cfg.ocr.fuse_similarity)
                ocr_s = sum(ocr_cache[cache_key(kf.frame, kf.detections if boxes_known else None)][1] for kf in keyframes)
                vcfg = self._config(variant.strategy, variant.top_k, det_name, variant.quality)
                selection = Selection(
                    tuple(keyframes), len(frames), min_spacing(len(frames), variant.top_k, cfg.selection.spacing_divisor)
                )
                vl = None
                if self.vl is not None:
                    key = tuple(kf.frame.index for kf in keyframes) + (hash(det_name),)
                    vl = vl_cache[key] if key in vl_cache else vl_cache.setdefault(key, self.vl(keyframes))
                evidence, _ = window_evidence(
                    Provenance(vcfg, config_hash(vcfg), self._models(det_name, variant)),
                    stream_info(video, info, keyframes, decode_errors), window, selection,
                    Readings(tuple(fused), raw_lines, transcript, vl),
                )
                result = window_result(self.fuse, evidence, decode_failure(decode_errors))
                silent = dict(evidence, asr={**evidence["asr"], "text": "", "segments": []}, vl=None)
                ablations = {}
                if vl is not None:
                    ablations = {"result_ocr_asr": self.fuse(dict(evidence, vl=None)), "result_ocr_vl": self.fuse(dict(silent, vl=vl))}
                run.outcomes.append(
                    Outcome(
                        run.clip, det_name, variant.key, [kf.frame.index for kf in keyframes], [kf.frame.pts for kf in keyframes],
                        [kf.score.total for kf in keyframes], result, self.fuse(silent), fused,
                        timings["decode"] + select_s + ocr_s, len(json.dumps(evidence, ensure_ascii=False).encode()), **ablations,
                        evidence=evidence if variant.key == "A@1" else None,
                    )
                )
                if keep_thumbnails and keyframes:
                    run.thumbnails[f"{det_name}/{variant.key}"] = keyframes[0].frame.image
        timings["ocr"] = sum(s for _, s in ocr_cache.values())
        timings["ocr_frames"] = len(ocr_cache)
        timings["total"] = time.perf_counter() - started
        return run

    def _select(self, variant, frames, detections, scores, detect_s, score_s) -> tuple[list[Keyframe], float]:
        """The runtime's streaming selection for ``variant``; returns keyframes and the seconds it cost."""
        if variant.strategy == "baseline":  # the last frame; only it is detected and scored
            pool = KeyframePool("baseline", 1)
            for f in frames:
                pool.offer(f, FrameScore(f.index, f.pts, 0.0, 0.0), Detections.empty())
            kept = pool.select()
            last = frames.index(kept[0].frame) if kept else None
            if last is None:
                return [], 0.0
            kf = Keyframe(frames[last], scores["A"][last], detections[last])
            per_frame = (detect_s + score_s["A"]) / max(len(frames), 1)
            return [kf], per_frame
        pool = KeyframePool("best", variant.top_k, self.config.selection.spacing_divisor)
        for f, d, s in zip(frames, detections, scores[variant.scorer]):
            pool.offer(f, s, d)
        return pool.select(), detect_s + score_s[variant.scorer]

    def _models(self, detector: str, variant: Variant) -> dict[str, Any]:
        return model_identities(
            detector=self.detectors.get(detector), quality=self.regressors.get(variant.quality) if variant.strategy == "B" else None,
            ocr=self.reader, asr=self.transcriber,
        )
