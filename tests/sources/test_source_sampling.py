"""The sampling rule on its own, on timestamp lists (no media)."""

from __future__ import annotations

import pytest

from edge.sources.sampling import FrameSampler, Timeline, expected_sample_count


def kept(times: list[float], rate: float) -> list[float]:
    sampler = FrameSampler(rate)
    return [t for t in times if sampler.offer(t)]


def literal_rule(times: list[float], rate: float) -> list[float]:
    """For each t_k = k/rate, the first time >= t_k; the same frame never twice."""
    out: list[float] = []
    k = 0
    while k / rate <= times[-1] + 1e-9:
        first = next(t for t in times if t >= k / rate - 1e-9)
        if not out or first != out[-1]:
            out.append(first)
        k += 1
    return out


def test_constant_rate_25_to_2_keeps_the_first_frame_at_or_after_each_half_second() -> None:
    times = [i / 25 for i in range(100)]
    assert kept(times, 2) == pytest.approx([0.0, 0.52, 1.0, 1.52, 2.0, 2.52, 3.0, 3.52])


def test_sample_times_that_fall_exactly_on_a_frame_survive_time_base_rounding() -> None:
    # 0.5 s stored as 1/90000 ticks and read back is not exactly 0.5 in binary floating point.
    times = [round(i / 10 * 90000) / 90000 - 1e-12 for i in range(40)]
    assert len(kept(times, 2)) == 8


@pytest.mark.parametrize("rate", [0.3, 1, 2, 3, 7, 12.5, 24, 25, 30, 60])
def test_matches_the_literal_rule_on_constant_rate(rate: float) -> None:
    times = [i / 25 for i in range(100)]
    assert kept(times, rate) == pytest.approx(literal_rule(times, rate))


@pytest.mark.parametrize("rate", [1, 2, 4, 10, 50])
def test_matches_the_literal_rule_on_variable_rate_with_a_gap(rate: float) -> None:
    times = (
        [i / 25 for i in range(25)]
        + [2.04 + 0.01 * i for i in range(50)]
        + [2.6 + 0.1 * i for i in range(10)]
    )
    assert kept(times, rate) == pytest.approx(literal_rule(times, rate))


def test_a_gap_over_several_sample_times_yields_one_frame_and_resumes_after_it() -> None:
    times = [0.0, 0.5, 3.1, 3.5, 4.0]
    assert kept(times, 2) == [0.0, 0.5, 3.1, 3.5, 4.0]
    assert kept(times, 1) == [0.0, 3.1, 4.0]


def test_a_rate_above_native_keeps_every_frame_once() -> None:
    times = [i / 25 for i in range(100)]
    assert kept(times, 60) == times


@pytest.mark.parametrize("rate", [0, -1, float("nan"), float("inf")])
def test_rejects_a_rate_that_is_not_positive_and_finite(rate: float) -> None:
    with pytest.raises(ValueError):
        FrameSampler(rate)


def test_timeline_starts_at_t0_and_fills_missing_timestamps() -> None:
    line = Timeline(t0=1.4, frame_duration=0.04)
    assert [line.place(t) for t in (1.4, 1.44, None, 1.52)] == pytest.approx([0.0, 0.04, 0.08, 0.12])


def test_timeline_splices_a_backward_jump_after_the_previous_frame() -> None:
    line = Timeline(t0=1.4, frame_duration=0.04)
    placed = [line.place(t) for t in (1.4, 5.36, 1.4, 1.44)]  # a second TS segment starts over
    assert placed == pytest.approx([0.0, 3.96, 4.0, 4.04])


@pytest.mark.parametrize(
    ("duration", "rate", "fps", "expected"),
    [
        (4.0, 2, 25, 8),
        (4.0, 25, 25, 100),
        (4.0, 60, 25, 100),
        (4.0, 3, 10, 12),
        (4.001, 2, 25, 8),
        (4.0, 2, None, 8),
        (0.0, 2, 25, 0),
    ],
)
def test_expected_sample_count(duration: float, rate: float, fps: float | None, expected: int) -> None:
    assert expected_sample_count(duration, rate, fps) == expected


@pytest.mark.parametrize("rate", [0.3, 1, 2, 3, 7, 25, 60])
def test_expected_sample_count_agrees_with_the_sampler(rate: float) -> None:
    times = [i / 25 for i in range(100)]
    assert expected_sample_count(4.0, rate, 25) == len(kept(times, rate))
