"""Cutting a stream into windows by stream time: coverage, overlap, bounded state."""

from __future__ import annotations

import numpy as np
import pytest

from edge.select import KeyframePool
from edge.service.windows import WindowCutter
from edge.types import AudioChunk, Detections, Frame, FrameScore


def _pool() -> KeyframePool:
    return KeyframePool("best", 1, 2.0)


def _feed(cutter: WindowCutter, times: list[float]) -> list:
    done = []
    for i, t in enumerate(times):
        frame = Frame(i, t, np.zeros((4, 4, 3), np.uint8))
        for window in cutter.windows_at(t):
            window.offer(frame, FrameScore(i, t, float(i % 7), 0.0), Detections.empty())
        done += cutter.complete(t)
    return done


def test_windows_tile_the_stream_without_overlap() -> None:
    cutter = WindowCutter(10.0, 0.0, _pool)
    done = _feed(cutter, [i * 0.5 for i in range(61)])  # 0 .. 30 s at 2 fps
    assert [w.span() for w in done] == [(0.0, 10.0), (10.0, 20.0), (20.0, 30.0)]
    assert [w.frames for w in done] == [20, 20, 20]
    assert [w.index for w in cutter.open_windows] == [3]


def test_overlapping_windows_share_frames_and_stay_bounded() -> None:
    cutter = WindowCutter(10.0, 5.0, _pool)
    done = _feed(cutter, [i * 0.5 for i in range(2 * 3600)])  # an hour
    assert [(w.start, w.end) for w in done[:3]] == [(0.0, 10.0), (5.0, 15.0), (10.0, 20.0)]
    assert all(w.frames == 20 for w in done)
    assert len(cutter.open_windows) <= 2  # ceil(window / hop) windows at most, whatever the length
    assert max(w.pool.held for w in done) <= 2


def test_a_gap_skips_empty_windows_and_resumes_on_the_grid() -> None:
    cutter = WindowCutter(10.0, 0.0, _pool)
    done = _feed(cutter, [1.0, 2.0, 45.0, 46.0, 61.0])
    assert [(w.start, w.frames) for w in done] == [(0.0, 2), (40.0, 2)]
    assert cutter.close_all()[0].start == 60.0


def test_close_all_returns_partial_windows_with_their_span() -> None:
    cutter = WindowCutter(30.0, 0.0, _pool)
    _feed(cutter, [0.0, 1.0, 12.5])
    (window,) = cutter.close_all()
    assert window.span() == (0.0, 12.5)
    assert cutter.close_all() == []


def test_whole_source_window_ends_only_when_closed() -> None:
    cutter = WindowCutter(None, 0.0, _pool)
    assert _feed(cutter, [i * 0.5 for i in range(200)]) == []
    (window,) = cutter.close_all()
    assert window.frames == 200 and window.span() == (0.0, 99.5)


def test_audio_is_cut_at_window_bounds() -> None:
    cutter = WindowCutter(2.0, 1.0, _pool)
    _feed(cutter, [0.0, 1.5])  # opens windows 0 [0, 2) and 1 [1, 3)
    for second in range(3):
        cutter.add_audio(AudioChunk(float(second), np.full(16000, second, np.float32)))
    first, second = cutter.open_windows
    (start0, audio0), (start1, audio1) = first.take_audio(), second.take_audio()
    assert (start0, len(audio0), set(np.unique(audio0))) == (0.0, 32000, {0.0, 1.0})
    assert (start1, len(audio1), set(np.unique(audio1))) == (1.0, 32000, {1.0, 2.0})
    assert first.take_audio() is None  # taken once


def test_audio_is_handed_out_chunk_by_chunk_so_a_long_window_holds_one_chunk() -> None:
    cutter = WindowCutter(None, 0.0, _pool)  # a whole file as one window
    _feed(cutter, [0.0])
    (window,) = cutter.open_windows
    taken = []
    for second in range(95):
        cutter.add_audio(AudioChunk(float(second), np.full(16000, second, np.float32)))
        assert window._buffered <= 30 * 16000
        piece = window.take_audio(30 * 16000)
        if piece is not None:
            taken.append((piece[0], len(piece[1])))
    assert taken == [(0.0, 480000), (30.0, 480000), (60.0, 480000)]
    rest = window.take_audio()
    assert rest is not None and rest[0] == 90.0 and len(rest[1]) == 5 * 16000


def test_overlap_must_be_below_the_window() -> None:
    with pytest.raises(ValueError, match="overlap"):
        WindowCutter(10.0, 10.0, _pool)
