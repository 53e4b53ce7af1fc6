"""AudioChunker on synthetic PyAV frames: resampling, chunk sizes, alignment with t0."""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np
import pytest

from edge.sources.audio import AudioChunker
from edge.types import AudioChunk


def tone_frames(seconds: float, rate: int, layout: str, start: float = 0.0, hz: float = 440.0):
    """Packed s16 frames of 1024 samples holding a sine, with timestamps from ``start``."""
    channels = 2 if layout == "stereo" else 1
    total = round(seconds * rate)
    for first in range(0, total, 1024):
        n = min(1024, total - first)
        t = (first + np.arange(n)) / rate
        wave = (0.25 * 32767 * np.sin(2 * np.pi * hz * t)).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(np.repeat(wave, channels)[None, :], format="s16", layout=layout)
        frame.sample_rate = rate
        frame.time_base = Fraction(1, rate)
        frame.pts = round(start * rate) + first
        yield frame


def run(chunker: AudioChunker, *streams) -> list[AudioChunk]:
    chunks = [c for frames in streams for frame in frames for c in chunker.push(frame)]
    return chunks + list(chunker.flush())


def test_chunks_are_full_length_but_the_last_and_hold_the_tone() -> None:
    chunks = run(AudioChunker(16000, 1.0, lambda: 0.0), tone_frames(3.5, 44100, "stereo"))
    assert [c.samples.size for c in chunks[:-1]] == [16000, 16000, 16000]
    assert chunks[-1].samples.size == pytest.approx(8000, abs=100)
    assert [c.start for c in chunks] == [0.0, 1.0, 2.0, 3.0]
    whole = np.concatenate([c.samples for c in chunks])
    peak = np.fft.rfftfreq(whole.size, 1 / 16000)[np.argmax(np.abs(np.fft.rfft(whole)))]
    assert peak == pytest.approx(440, abs=1)
    assert np.abs(whole).max() == pytest.approx(0.25, abs=0.02)  # stereo averaged, not summed


def test_loud_stereo_stays_within_full_scale() -> None:
    frames = tone_frames(1.0, 44100, "stereo", hz=1000.0)
    loud = []
    for frame in frames:  # a full-scale square wave: the resampler's filter rings past 1.0
        square = np.where(frame.to_ndarray() >= 0, 32767, -32768).astype(np.int16)
        louder = av.AudioFrame.from_ndarray(square, format="s16", layout="stereo")
        louder.sample_rate, louder.time_base, louder.pts = frame.sample_rate, frame.time_base, frame.pts
        loud.append(louder)
    (chunk,) = run(AudioChunker(16000, 30.0, lambda: 0.0), loud)
    assert np.abs(chunk.samples).max() <= 1.0
    assert np.abs(chunk.samples).max() > 0.9


def test_a_change_of_rate_and_layout_mid_stream_is_followed() -> None:
    chunker = AudioChunker(16000, 30.0, lambda: 0.0)
    chunks = run(chunker, tone_frames(1.0, 44100, "stereo"), tone_frames(1.0, 48000, "mono", start=1.0))
    assert sum(c.samples.size for c in chunks) == pytest.approx(32000, abs=200)


def test_audio_before_t0_is_dropped_and_the_rest_starts_at_zero() -> None:
    chunks = run(AudioChunker(16000, 1.0, lambda: 0.25), tone_frames(3.0, 48000, "mono"))
    assert [c.samples.size for c in chunks[:-1]] == [16000, 16000]
    assert [c.start for c in chunks] == [0.0, 1.0, 2.0]
    assert sum(c.samples.size for c in chunks) == pytest.approx((3.0 - 0.25) * 16000, abs=100)


def test_audio_that_starts_after_t0_keeps_its_offset() -> None:
    chunks = run(AudioChunker(16000, 1.0, lambda: 1.0), tone_frames(2.0, 48000, "mono", start=1.5))
    assert [c.start for c in chunks] == pytest.approx([0.5, 1.5])


def test_t0_is_asked_only_when_the_first_chunk_is_due() -> None:
    asked: list[int] = []

    def t0() -> float:
        asked.append(1)
        return 0.0

    chunker = AudioChunker(16000, 1.0, t0)
    frames = tone_frames(2.0, 48000, "mono")
    for frame in list(frames)[:20]:  # 20 * 1024 samples at 48 kHz: under a second
        assert list(chunker.push(frame)) == []
    assert asked == []
