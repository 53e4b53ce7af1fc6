"""A window's frame-score curve, bounded: what the centre draws with the chosen keyframes marked.

:class:`ScoreCurve` keeps ``(pts, total)`` of every sampled frame while a window has at most ``limit``
of them (a 30 s live window at 2 fps: 60). A longer window (a file read as one window can last
minutes) is decimated as it streams: consecutive frames are grouped in buckets of ``width`` frames,
each keeping its highest score (the earliest on a tie), and ``width`` doubles whenever more than
``limit`` buckets exist, so memory never exceeds ``limit + 1`` pairs whatever the window's length.
:meth:`ScoreCurve.points` adds the keyframes' own points, so that each marked keyframe lies on the
curve, and stays within ``limit`` points.
"""

from __future__ import annotations

from collections.abc import Iterable

CURVE_LIMIT = 600


class ScoreCurve:
    """``(pts, total)`` of a window's sampled frames in order, at most ``limit`` of them."""

    def __init__(self, limit: int = CURVE_LIMIT) -> None:
        if limit < 2:
            raise ValueError("a curve needs at least two points")
        self.limit = limit
        self.width = 1  # sampled frames per bucket
        self.count = 0  # frames added
        self._buckets: list[list[float]] = []  # [bucket, pts, total], in time order

    def add(self, pts: float, total: float) -> None:
        """One sampled frame's score; frames must come in time order."""
        bucket = self.count // self.width
        self.count += 1
        last = self._buckets[-1] if self._buckets else None
        if last is not None and last[0] == bucket:
            if total > last[2]:
                last[1], last[2] = pts, total
            return
        self._buckets.append([bucket, pts, total])
        if len(self._buckets) > self.limit:
            self._coarsen()

    @property
    def held(self) -> int:
        """Pairs in memory."""
        return len(self._buckets)

    def points(self, keyframes: Iterable[tuple[float, float]] = ()) -> list[tuple[float, float]]:
        """The curve in time order with each keyframe's ``(pts, total)`` on it, at most ``limit`` points.

        Exact (every frame) while the window had at most ``limit`` frames; else each bucket's maximum,
        coarsened once more if the keyframes' points would not fit.
        """
        marks = sorted(set(keyframes))
        while True:
            curve = [(pts, total) for _, pts, total in self._buckets]
            have = {pts for pts, _ in curve}
            merged = sorted(curve + [mark for mark in marks if mark[0] not in have])
            if len(merged) <= self.limit or len(self._buckets) <= 1:
                return merged[-self.limit :] if len(merged) > self.limit else merged
            self._coarsen()

    def _coarsen(self) -> None:
        self.width *= 2
        merged: list[list[float]] = []
        for bucket, pts, total in self._buckets:
            key = bucket // 2
            if merged and merged[-1][0] == key:
                if total > merged[-1][2]:
                    merged[-1][1], merged[-1][2] = pts, total
            else:
                merged.append([key, pts, total])
        self._buckets = merged
