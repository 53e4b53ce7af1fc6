"""One window from a video file to a product record: decode → detect → score → select →
OCR/ASR → evidence → fusion (DESIGN.md data flow).

Decoding runs in its own thread ahead of the detector, speech recognition in another as audio
chunks arrive, so the detector, the decoder and ASR overlap; selection holds O(K) frames.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge.asr import Transcriber, create_transcriber, merge_transcripts
from edge.claims import asr_vocabulary
from edge.closing import Closing
from edge.config import Config, config_hash
from edge.detect import Detector, create_detector
from edge.errors import LiveGuardError, SourceError
from edge.evidence import Provenance
from edge.fusion import create_fusion, create_vl_reader
from edge.ocr import create_reader
from edge.score import FrameScorer
from edge.score.quality import create_quality_regressor
from edge.select import KeyframePool, ScoreCurve, min_spacing
from edge.sources import VideoFile
from edge.timing import StageTimer
from edge.types import AudioChunk, Detections, Frame, FrameScore, Keyframe, Readings, Selection, Transcript
from edge.window import decode_failure, model_identities, read_keyframes, stream_info, window_evidence, window_result, window_span

ProgressCallback = Callable[[int, "int | None"], None]  # (frames done, frames expected)
ScoreCallback = Callable[[FrameScore], None]  # every sampled frame's score, in order (plots, evaluation)

_END = object()


@dataclass(frozen=True)
class WindowOutcome:
    """What one window produced."""

    evidence: dict[str, Any]
    result: dict[str, Any] | None  # None in fusion mode central: a central worker fuses the evidence
    keyframes: list[Keyframe]
    jpegs: list[bytes] = field(repr=False)
    timings: dict[str, float]


class Pipeline(Closing):
    """Loads every model once; :meth:`run` processes one file as one window.

    It owns its models, their sessions and the fusion's HTTP clients: use it as a context manager,
    or call :meth:`close` when done.
    """

    def __init__(self, config: Config) -> None:
        self.config = config
        threads = config.runtime.threads
        pack = config.models.pack
        self._owned: list[Any] = []  # closed in reverse order of creation
        try:
            self.detector: Detector | None = self._own(create_detector(config.detector, threads, pack))
            quality = None
            if config.scoring.strategy == "B":  # the config validator guarantees a model or an engine
                quality = self._own(create_quality_regressor(config.scoring.quality, threads, pack))
            self.quality = quality
            self.scorer = FrameScorer(config.scoring, quality)
            self.reader = self._own(create_reader(config.ocr, threads))
            # the rules are read (and cached) now: a faulty rules file stops the start, not a window
            self.transcriber: Transcriber | None = self._own(create_transcriber(config.asr, threads, asr_vocabulary(config.claims)))
            self.fuse = self._own(create_fusion(config.fusion))
            self.vl = self._own(create_vl_reader(config.fusion))  # None unless fusion.vl.enabled (direct mode)
        except BaseException:
            self.close()
            raise
        self.config_hash = config_hash(config)

    def _own(self, resource: Any) -> Any:
        if resource is not None:
            self._owned.append(resource)
        return resource

    def close(self) -> None:
        """Release every model and client; the pipeline is not used afterwards."""
        while self._owned:
            self._owned.pop().close()

    @property
    def models(self) -> dict[str, Any]:
        return model_identities(detector=self.detector, quality=self.quality, ocr=self.reader, asr=self.transcriber)

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
        with VideoFile(path, cfg.sampling.fps, audio_chunk_seconds=cfg.asr.chunk_seconds) as video:
            expected = video.info.expected_samples(cfg.sampling.fps)
            with _Workers(video, self.transcriber, cfg.runtime.queue_frames, timer) as workers:
                pool, curve, last_pts = self._select(workers.frames(), timer, progress, expected, on_score)
                keyframes = self.finish_keyframes(pool.select(), timer)
                if not keyframes:
                    raise SourceError(str(path), "no video frame could be sampled")
                vl = self.vl.submit(keyframes) if self.vl else None  # VL hook: Qwen-VL reads the best crop beside OCR
                with timer.stage("ocr"):
                    ocr_lines, raw_lines = read_keyframes(
                        keyframes, self.reader.read, self.detector is not None,
                        cfg.ocr.fuse_similarity,
                    )
                transcript, asr_failures = workers.transcript()
            stream = stream_info(path, video.info, keyframes, video.decode_errors)
        selection = Selection(
            tuple(keyframes), pool.count, min_spacing(pool.count, cfg.selection.top_k, cfg.selection.spacing_divisor)
        )
        readings = Readings(tuple(ocr_lines), raw_lines, transcript, vl.result() if vl else None)
        provenance = Provenance(cfg, self.config_hash, self.models)
        evidence, jpegs = window_evidence(provenance, stream, window_span(last_pts, video.info.duration), selection, readings, curve)
        result = None
        if self.fuse is not None:
            with timer.stage("fusion"):
                result = window_result(self.fuse, evidence, decode_failure(video.decode_errors) + asr_failures)
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
    ) -> tuple[KeyframePool, ScoreCurve | None, float]:
        """Score every sampled frame in detector-sized batches; keep the candidates and the (bounded) score curve.

        Strategy baseline scores no frame while streaming: it has no curve (None).
        """
        cfg = self.config
        baseline = cfg.scoring.strategy == "baseline"
        pool = KeyframePool("baseline" if baseline else "best", cfg.selection.top_k, cfg.selection.spacing_divisor)
        curve = None if baseline else ScoreCurve()
        batch: list[Frame] = []
        last_pts = 0.0

        def flush() -> None:
            if baseline:  # the choice is the last frame whatever the scores: skip the work
                for frame in batch:
                    pool.offer(frame, _unscored(frame), Detections.empty())
            else:
                for frame, detections in zip(batch, self.detect([f.image for f in batch], timer)):
                    with timer.stage("score"):
                        score = self.scorer.score(frame, detections)
                    pool.offer(frame, score, detections)
                    curve.add(frame.pts, score.total)  # type: ignore[union-attr]
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
        return pool, curve, last_pts

    def detect(self, images: Sequence[Any], timer: StageTimer) -> list[Detections]:
        """Product boxes of each image (none without a detector: the whole-frame fallback)."""
        if self.detector is None:
            return [Detections.empty() for _ in images]
        with timer.stage("detect"):
            return self.detector.detect(images)

    def finish_keyframes(self, keyframes: list[Keyframe], timer: StageTimer) -> list[Keyframe]:
        """Baseline frames were not scored while streaming; detect and score the chosen ones now."""
        if self.config.scoring.strategy != "baseline":
            return keyframes
        finished = []
        for kf, detections in zip(keyframes, self.detect([kf.frame.image for kf in keyframes], timer)):
            with timer.stage("score"):
                finished.append(Keyframe(kf.frame, self.scorer.score(kf.frame, detections), detections))
        return finished


def _unscored(frame: Frame) -> FrameScore:
    return FrameScore(frame.index, frame.pts, 0.0, 0.0)


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
