"""Fixed-rate frame sampling over a decoded stream's timestamps (paper §3: "fixed frame rate").

Pure logic, no media: the decoder loop asks :class:`FrameSampler` about each decoded frame's
time and converts to pixels only the frames it keeps.
"""

from __future__ import annotations

import math

# Tolerance in units of the sampling period: timestamps that round-trip through a time base
# (e.g. 0.5 s stored as 45000/90000) must still hit their sample time.
_EPS = 1e-6

# A backward timestamp step larger than this (seconds) is a discontinuity (concatenated TS
# segments, a restarted encoder), not decoder jitter.
_BACKWARD_JUMP = 1.0


class FrameSampler:
    """Keeps, for each sample time ``t_k = k / rate``, the first frame with time ``>= t_k``.

    Times are seconds relative to the first video frame. A frame is offered once, so no frame is
    kept twice; when a gap jumps over several ``t_k`` the first frame after the gap stands for all of
    them, and sampling resumes at the first ``t_k`` after that frame. A rate above the native frame
    rate therefore keeps every frame exactly once.
    """

    def __init__(self, rate: float) -> None:
        if not rate > 0 or not math.isfinite(rate):
            raise ValueError(f"sample rate must be a positive number, got {rate!r}")
        self.rate = float(rate)
        self._next_k = 0

    @property
    def next_time(self) -> float:
        """The next sample time the sampler waits for (seconds from the first frame)."""
        return self._next_k / self.rate

    def offer(self, t: float) -> bool:
        """Return True if the frame at time ``t`` is to be kept."""
        x = t * self.rate
        if x < self._next_k - _EPS:
            return False
        self._next_k = math.floor(x + _EPS) + 1
        return True


class Timeline:
    """Maps raw stream times to a monotonic timeline that starts at ``t0``.

    Missing timestamps continue from the previous frame by one frame duration; a large backward
    jump is treated as a discontinuity and spliced on after the previous frame.
    """

    def __init__(self, t0: float, frame_duration: float) -> None:
        self.t0 = t0
        self._step = frame_duration
        self._offset = 0.0
        self._last_raw: float | None = None
        self._last: float | None = None

    def place(self, raw: float | None) -> float:
        """Seconds from ``t0`` for a frame whose stream time is ``raw`` (None when unknown)."""
        if raw is None:
            t = 0.0 if self._last is None else self._last + self._step
        else:
            if self._last_raw is not None and raw < self._last_raw - _BACKWARD_JUMP:
                self._offset += self._last_raw + self._step - raw
            self._last_raw = raw
            t = raw + self._offset - self.t0
        self._last = t
        return t


def expected_sample_count(duration: float, sample_fps: float, native_fps: float | None) -> int:
    """How many frames :class:`FrameSampler` keeps from a constant-rate clip of ``duration`` s.

    With a known native rate the clip holds ``n = round(duration * fps)`` frames at ``i / fps``;
    sampling keeps the first frame and one per ``t_k`` up to the last frame, never more than ``n``.
    Without it, one frame per sample period that starts inside the clip.
    """
    if duration <= 0:
        return 0
    if native_fps:
        n = max(1, round(duration * native_fps))
        last = (n - 1) / native_fps
        return min(n, math.floor(last * sample_fps + _EPS) + 1)
    return max(1, math.ceil(duration * sample_fps - _EPS))
