"""Resampling decoded audio to mono float32 and cutting it into fixed-length chunks."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import av
import numpy as np

from edge.types import AudioChunk


def _resampler_takes_options() -> bool:
    try:
        av.AudioResampler(format="flt", layout="mono", rate=16000, options={})
    except TypeError:
        return False
    return True


_RESAMPLER_OPTIONS = _resampler_takes_options()


class AudioChunker:
    """Turns decoded audio frames into :class:`AudioChunk` s of ``chunk_seconds`` (last one shorter).

    Holds at most one chunk of samples. The timeline is the sample count since the first audio
    frame, anchored at that frame's time: chunk starts are seconds from ``t0`` (asked of
    ``get_t0`` when the first chunk fills, so that video can fix it first). Samples before ``t0``
    are dropped before that chunk goes out, snapping the audio to ``t0`` within half a sample.
    Gaps inside the audio stream are not filled.
    """

    def __init__(self, rate: int, chunk_seconds: float, get_t0: Callable[[], float]) -> None:
        if rate <= 0 or not chunk_seconds > 0:
            raise ValueError(f"audio rate and chunk length must be positive, got {rate!r}, {chunk_seconds!r}")
        self.rate = int(rate)
        self._chunk = max(1, round(chunk_seconds * self.rate))
        self._get_t0 = get_t0
        self._resampler: av.AudioResampler | None = None
        self._buf = np.empty(self._chunk, np.float32)
        self._fill = 0
        self._origin: float | None = None  # stream time of the first sample, seconds
        self._start0: float | None = None  # chunk start of the first delivered sample, seconds from t0
        self._skip = 0  # samples still to drop because they precede t0
        self._delivered = 0

    def push(self, frame: av.AudioFrame) -> Iterator[AudioChunk]:
        """Resample one decoded frame; yield every chunk it completes."""
        if self._origin is None and frame.time is not None:
            self._origin = float(frame.time)
        if self._resampler is None:
            self._resampler = self._new_resampler()
        try:
            out = self._resampler.resample(frame)
        except ValueError:  # input layout/rate changed mid-stream: drain and start a new resampler
            out = self._resampler.resample(None)
            self._resampler = self._new_resampler()
            out += self._resampler.resample(frame)
        yield from self._take(out)

    def flush(self) -> Iterator[AudioChunk]:
        """Drain the resampler and yield the final, possibly shorter, chunk."""
        if self._resampler is not None:
            yield from self._take(self._resampler.resample(None))
            self._resampler = None
        self._trim()
        if self._fill:
            yield self._deliver(self._buf[: self._fill].copy())
            self._fill = 0

    def _new_resampler(self) -> av.AudioResampler:
        # rematrix_maxval=1 normalises the downmix (stereo -> (L+R)/2) so that it cannot exceed full
        # scale; FFmpeg's default adds channels at -3 dB each, 1.41x for in-phase stereo. PyAV before 18
        # (the only one for Python 3.10, JetPack 6's) takes no resampler options: there the channels
        # keep their layout and are averaged here, the same normalised downmix.
        if _RESAMPLER_OPTIONS:
            return av.AudioResampler(format="flt", layout="mono", rate=self.rate, options={"rematrix_maxval": "1.0"})
        return av.AudioResampler(format="flt", rate=self.rate)

    def _take(self, frames: list[av.AudioFrame]) -> Iterator[AudioChunk]:
        for out in frames:
            samples = out.to_ndarray().reshape(-1)
            channels = len(out.layout.channels)
            if channels > 1:  # packed (interleaved) samples of a resampler that kept the layout
                samples = samples.reshape(-1, channels).mean(axis=1, dtype=np.float32)
            while samples.size:
                n = min(samples.size, self._chunk - self._fill)
                room = self._buf[self._fill : self._fill + n]
                np.clip(samples[:n], -1.0, 1.0, out=room)  # the resampling filter can overshoot
                self._fill += n
                samples = samples[n:]
                if self._fill == self._chunk and self._trim():
                    full, self._buf, self._fill = self._buf, np.empty(self._chunk, np.float32), 0
                    yield self._deliver(full)

    def _trim(self) -> bool:
        """Drop buffered samples that precede ``t0``; True when the buffer is left untouched."""
        if self._start0 is None:
            self._align()
        drop = min(self._skip, self._fill)
        if drop:
            self._buf[: self._fill - drop] = self._buf[drop : self._fill]
            self._fill -= drop
            self._skip -= drop
        return drop == 0

    def _deliver(self, samples: np.ndarray) -> AudioChunk:
        assert self._start0 is not None
        chunk = AudioChunk(start=self._start0 + self._delivered / self.rate, samples=samples, rate=self.rate)
        self._delivered += samples.size
        return chunk

    def _align(self) -> None:
        """Place the first sample relative to ``t0``; audio before ``t0`` is to be dropped."""
        t0 = self._get_t0()
        lead = (self._origin if self._origin is not None else t0) - t0
        self._skip = max(0, round(-lead * self.rate))
        self._start0 = max(0.0, lead)
