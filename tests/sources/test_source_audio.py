"""Audio out of VideoFile: resampled to mono float32, chunked, aligned with the video's t0."""

from __future__ import annotations

import numpy as np
import pytest

from edge.sources import VideoFile
from edge.types import AudioChunk, Frame


def chunks_of(video: VideoFile) -> list[AudioChunk]:
    return [item for item in video if isinstance(item, AudioChunk)]


def peak_hz(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(samples.size)))
    return float(np.fft.rfftfreq(samples.size, 1 / rate)[np.argmax(spectrum)])


@pytest.mark.parametrize("codec", ["aac", "opus", "mp3"])
def test_audio_is_16k_mono_float32_as_long_as_the_clip_with_the_right_tone(clips, codec: str) -> None:
    path = clips.counter(ext="mkv", audio=codec)
    with VideoFile(path, sample_fps=1) as video:
        chunks = chunks_of(video)
    assert len(chunks) == 1  # 4 s fits in one 30 s chunk
    samples = chunks[0].samples
    assert chunks[0].rate == 16000 and samples.dtype == np.float32 and samples.ndim == 1
    assert chunks[0].start == pytest.approx(0.0, abs=0.01)
    assert chunks[0].duration == pytest.approx(4.0, abs=0.1)
    assert peak_hz(samples, 16000) == pytest.approx(clips.tone_hz, abs=2)
    assert 0.05 < float(np.sqrt(np.mean(samples[1600:-1600] ** 2))) < 0.2  # lavfi sine: amplitude 1/8
    assert np.abs(samples).max() <= 1.0


def test_other_rates_are_honoured(clips) -> None:
    path = clips.counter(audio="aac")
    with VideoFile(path, sample_fps=1, audio_rate=8000) as video:
        (chunk,) = chunks_of(video)
    assert chunk.rate == 8000
    assert chunk.samples.size == pytest.approx(32000, abs=800)
    assert peak_hz(chunk.samples, 8000) == pytest.approx(clips.tone_hz, abs=2)


def test_chunks_have_the_asked_length_the_last_shorter_and_no_gaps(clips) -> None:
    path = clips.counter(audio="aac")
    with VideoFile(path, sample_fps=1, audio_chunk_seconds=1.5) as video:
        chunks = chunks_of(video)
    assert [c.duration for c in chunks[:-1]] == [1.5, 1.5]
    assert 0.9 < chunks[-1].duration < 1.1
    for before, after in zip(chunks, chunks[1:], strict=False):
        assert after.start == pytest.approx(before.start + before.duration, abs=1e-6)
    whole = np.concatenate([c.samples for c in chunks])
    assert whole.size / 16000 == pytest.approx(4.0, abs=0.1)
    assert peak_hz(whole, 16000) == pytest.approx(clips.tone_hz, abs=2)


def test_audio_that_starts_before_the_first_video_frame_is_cut_at_t0(clips) -> None:
    # MPEG-TS: the muxer starts audio at 1.400 s and video at about 1.42 s.
    path = clips.testsrc("testsrc_4s.ts", 4)
    with VideoFile(path, sample_fps=1, audio_chunk_seconds=1.0) as video:
        items = list(video)
    chunks = [i for i in items if isinstance(i, AudioChunk)]
    frames = [i for i in items if isinstance(i, Frame)]
    assert frames[0].pts == 0.0
    assert chunks[0].start == 0.0
    assert all(c.start >= 0 for c in chunks)
    assert sum(c.duration for c in chunks) == pytest.approx(4.0, abs=0.1)


def test_a_clip_without_audio_yields_only_frames(clips) -> None:
    path = clips.counter(audio=None)
    with VideoFile(path, sample_fps=2) as video:
        items = list(video)
    assert not video.info.has_audio and video.info.audio_codec is None
    assert len(items) == 8 and all(isinstance(i, Frame) for i in items)


def test_cutting_at_t0_keeps_every_chunk_but_the_last_full(clips) -> None:
    path = clips.testsrc("testsrc_4s.ts", 4)
    with VideoFile(path, sample_fps=1, audio_chunk_seconds=1.0) as video:
        chunks = chunks_of(video)
    assert len(chunks) >= 4
    assert all(c.duration == 1.0 for c in chunks[:-1])
    assert [c.start for c in chunks] == pytest.approx([float(i) for i in range(len(chunks))], abs=1e-9)
