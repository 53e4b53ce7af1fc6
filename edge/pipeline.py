"""One window from a video file to a product record: decode → detect → score → select →
OCR/ASR → evidence → fusion (DESIGN.md data flow).

Decoding runs in its own thread ahead of the detector, speech recognition in another as audio
chunks arrive, so the detector, the decoder and ASR overlap; selection holds O(K) frames.
"""

from __future__ import annotations

import hashlib
import queue
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from edge.asr import Transcriber, create_transcriber, merge_transcripts
from edge.config import Config, config_hash
from edge.detect import Detector, create_detector
from edge.errors import LiveGuardError, SourceError
from edge.evidence import EVIDENCE_SCHEMA, RESULT_SCHEMA, StreamInfo, build_evidence, encode_jpeg, schema_problem
from edge.fusion import create_fusion, create_vl_reader
from edge.ocr import create_reader, fuse_ocr_lines
from edge.score import FrameScorer
from edge.score.quality import create_quality_model
from edge.select import KeyframePool, min_spacing
from edge.sources import VideoFile
from edge.timing import StageTimer
from edge.types import AudioChunk, Detections, Frame, FrameScore, Keyframe, Transcript

ProgressCallback = Callable[[int, "int | None"], None]  # (frames done, frames expected)
ScoreCallback = Callable[[FrameScore], None]  # every sampled frame's score, in order (plots, evaluation)

_END = object()


@dataclass(frozen=True)
class WindowOutcome:
    """What one window produced."""

    evidence: dict[str, Any]
    result: dict[str, Any]
    keyframes: list[Keyframe]
    jpegs: list[bytes] = field(repr=False)
    timings: dict[str, float]


class Pipeline:
    """Loads every model once; :meth:`run` processes one file as one window."""

    def __init__(self, config: Config) -> None:
        self.config = config
        threads = config.runtime.threads
        pack = config.models.pack
        self.detector: Detector | None = create_detector(config.detector, threads, pack)
        quality = None
        if config.scoring.strategy == "B":  # the config validator guarantees a model or an engine
            quality = create_quality_model(config.scoring, threads=threads, pack=pack)
        self.quality = quality
        self.scorer = FrameScorer(config.scoring, quality)
        self.reader = create_reader(config.ocr, threads)
        self.transcriber: Transcriber | None = create_transcriber(config.asr, threads)
        self.fuse = create_fusion(config.fusion)
        self.vl = create_vl_reader(config.fusion)  # None unless fusion.vl.enabled (direct mode)
        self.config_hash = config_hash(config)

    @property
    def models(self) -> dict[str, Any]:
        return {
            "detector": self.detector.model if self.detector else None,
            "quality": self.quality.model if self.quality else None,
            "ocr": self.reader.model,
            "asr": self.transcriber.model if self.transcriber else None,
        }

    def run(
        self, path: str | Path, progress: ProgressCallback | None = None, on_score: ScoreCallback | None = None
    ) -> WindowOutcome:
        """Recognise the product shown in the video file ``path``.

        ``on_score`` sees each sampled frame's score as it is computed (not with strategy
        baseline, which scores only the frames it keeps); nothing is retained for it.
        """
        cfg = self.config
        timer = StageTimer()
        started = time.perf_counter()
        chunk_seconds = getattr(cfg.asr, "chunk_seconds", 30.0)
        with VideoFile(path, cfg.sampling.fps, audio_chunk_seconds=chunk_seconds) as video:
            expected = video.info.expected_samples(cfg.sampling.fps)
            with _Workers(video, self.transcriber, cfg.runtime.queue_frames, timer) as workers:
                pool, last_pts = self._select(workers.frames(), timer, progress, expected, on_score)
                keyframes = self._finish_keyframes(pool.select(), timer)
                if not keyframes:
                    raise SourceError(str(path), "no video frame could be sampled")
                vl = self.vl.submit(keyframes) if self.vl else None  # VL hook: Qwen-VL reads the best crop beside OCR
                ocr_lines, raw_lines = self._read_text(keyframes, timer)
                transcript, failures = workers.transcript()
            stream = StreamInfo(
                id=Path(path).stem,
                source=Path(path).name,
                video_codec=video.info.video_codec,
                audio_codec=video.info.audio_codec,
                # the keyframe's, not the container's: it is upright even when the file stores a rotation
                width=keyframes[0].frame.image.shape[1],
                height=keyframes[0].frame.image.shape[0],
                decode_errors=video.decode_errors,
            )
        jpegs = [encode_jpeg(kf.frame.image) for kf in keyframes]
        evidence = build_evidence(
            config=cfg,
            config_hash=self.config_hash,
            stream=stream,
            window=(0.0, max(last_pts, video.info.duration or 0.0)),
            sampled_frames=pool.count,
            d_min=min_spacing(pool.count, cfg.selection.top_k, cfg.selection.spacing_divisor),
            keyframes=keyframes,
            jpeg_sha256=[hashlib.sha256(j).hexdigest() for j in jpegs],
            ocr_lines=ocr_lines,
            raw_ocr_lines=raw_lines,
            transcript=transcript,
            models=self.models,
            vl=vl.result() if vl else None,
        )
        _check(evidence, EVIDENCE_SCHEMA)
        with timer.stage("fusion"):
            result = self.fuse(evidence)
        if video.decode_errors:
            failures.insert(0, f"decode: {video.decode_errors} damaged packet(s) skipped; the result rests on the frames that decoded")
        if failures:
            result["failures"] = failures + result.get("failures", [])  # keep the engine's own failures too
        _check(result, RESULT_SCHEMA)
        timings = timer.as_dict()
        timings["total"] = round(time.perf_counter() - started, 4)
        return WindowOutcome(evidence, result, keyframes, jpegs, timings)

    def _select(
        self,
        frames: Iterator[Frame],
        timer: StageTimer,
        progress: ProgressCallback | None,
        expected: int | None,
        on_score: ScoreCallback | None,
    ) -> tuple[KeyframePool, float]:
        """Score every sampled frame in detector-sized batches; keep the candidates."""
        cfg = self.config
        baseline = cfg.scoring.strategy == "baseline"
        pool = KeyframePool("baseline" if baseline else "best", cfg.selection.top_k, cfg.selection.spacing_divisor)
        batch: list[Frame] = []
        last_pts = 0.0

        def flush() -> None:
            if baseline:  # the choice is the last frame whatever the scores: skip the work
                for frame in batch:
                    pool.offer(frame, _unscored(frame), Detections.empty())
            else:
                for frame, detections in zip(batch, self._detect([f.image for f in batch], timer)):
                    with timer.stage("score"):
                        score = self.scorer.score(frame, detections)
                    pool.offer(frame, score, detections)
                    if on_score:
                        on_score(score)
            if progress:
                progress(pool.count, expected)
            batch.clear()

        for frame in frames:
            batch.append(frame)
            last_pts = frame.pts
            if len(batch) >= cfg.detector.batch_size:
                flush()
        if batch:
            flush()
        return pool, last_pts

    def _detect(self, images: Sequence[Any], timer: StageTimer) -> list[Detections]:
        if self.detector is None:
            return [Detections.empty() for _ in images]
        with timer.stage("detect"):
            return self.detector.detect(images)

    def _finish_keyframes(self, keyframes: list[Keyframe], timer: StageTimer) -> list[Keyframe]:
        """Baseline frames were not scored while streaming; detect and score the chosen ones now."""
        if self.config.scoring.strategy != "baseline":
            return keyframes
        finished = []
        for kf, detections in zip(keyframes, self._detect([kf.frame.image for kf in keyframes], timer)):
            with timer.stage("score"):
                finished.append(Keyframe(kf.frame, self.scorer.score(kf.frame, detections), detections))
        return finished

    def _read_text(self, keyframes: Sequence[Keyframe], timer: StageTimer) -> tuple[list[Any], int]:
        """OCR each keyframe; fuse the lines across keyframes (paper §3.4.2)."""
        lines = []
        with timer.stage("ocr"):
            for kf in keyframes:
                products = kf.detections if self.detector is not None else None
                lines.extend(self.reader.read(kf.frame, products))
            fused = fuse_ocr_lines(lines, self.config.ocr.fuse_similarity)
        return fused, len(lines)


def _unscored(frame: Frame) -> FrameScore:
    return FrameScore(frame.index, frame.pts, 0.0, 0.0)


def _check(document: dict[str, Any], schema: str) -> None:
    problem = schema_problem(document, schema)
    if problem is not None:  # a bug of ours, not bad input: say exactly where
        raise AssertionError(f"{schema} document does not match its schema: {problem}")


class _Workers:
    """The decode thread (frames and audio) and the ASR thread of one window."""

    def __init__(self, video: VideoFile, transcriber: Transcriber | None, depth: int, timer: StageTimer) -> None:
        self.video = video
        self.transcriber = transcriber
        self.timer = timer
        self._frames: queue.Queue[Any] = queue.Queue(maxsize=depth)
        self._audio: queue.Queue[Any] = queue.Queue(maxsize=2)
        self._stop = threading.Event()
        self._parts: list[Transcript] = []
        self._failures: list[str] = []
        self._decoder = threading.Thread(target=self._decode, name="liveguard-decode", daemon=True)
        self._asr = threading.Thread(target=self._transcribe, name="liveguard-asr", daemon=True)

    def __enter__(self) -> _Workers:
        self._decoder.start()
        self._asr.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._decoder.join()  # it always ends both queues with _END
        self._asr.join()

    def frames(self) -> Iterator[Frame]:
        """Sampled frames in order; re-raises a decoding error in the caller's thread."""
        while True:
            item = self._frames.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    def transcript(self) -> tuple[Transcript, list[str]]:
        """Waits for ASR to finish the window's audio."""
        self._decoder.join()
        self._asr.join()
        return merge_transcripts(self._parts), list(self._failures)

    def _decode(self) -> None:
        items = iter(self.video)
        try:
            while not self._stop.is_set():
                start = time.perf_counter()
                item = next(items, _END)
                self.timer.add("decode", time.perf_counter() - start)
                if item is _END:
                    break
                if isinstance(item, AudioChunk):
                    if self.transcriber is not None:
                        self._put(self._audio, item)
                else:
                    self._put(self._frames, item)
        except BaseException as exc:  # handed to the consumer, raised there
            self._put(self._frames, exc)
        finally:
            self._put(self._frames, _END)
            self._put(self._audio, _END)

    def _transcribe(self) -> None:
        while True:
            chunk = self._audio.get()
            if chunk is _END:
                return
            try:
                with self.timer.stage("asr"):
                    self._parts.append(self.transcriber.transcribe(chunk.samples, chunk.start))  # type: ignore[union-attr]
            except LiveGuardError as exc:
                self._failures.append(f"asr: {exc}")
            except Exception as exc:  # keep the window: speech is one modality of three
                self._failures.append(f"asr: chunk at {chunk.start:.1f}s failed: {type(exc).__name__}: {exc}")

    def _put(self, q: queue.Queue[Any], item: Any) -> None:
        """Put without deadlocking when the consumer has gone away."""
        while True:
            try:
                q.put(item, timeout=0.1)
                return
            except queue.Full:
                if self._stop.is_set() and item is not _END:
                    return
                if self._stop.is_set():
                    try:
                        q.get_nowait()  # make room for the end marker
                    except queue.Empty:
                        pass
