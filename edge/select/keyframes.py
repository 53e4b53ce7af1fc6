"""Choosing keyframes from scored frames (paper §3.4.1–3.4.2).

The pure functions work on a whole score sequence. :class:`KeyframePool` applies them to a
stream while holding O(K) frames, whatever the stream's length.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

from edge.types import Detections, Frame, FrameScore, Keyframe


def select_best(totals: Sequence[float]) -> int:
    """``argmax_i S_i``; ties go to the earliest frame."""
    if not totals:
        raise ValueError("no frames to select from")
    return max(range(len(totals)), key=lambda i: (totals[i], -i))


def min_spacing(n: int, k: int, divisor: float = 2.0) -> float:
    """The paper's minimum distance between Top-K frames, ``d_min = n / (2K)`` sampled frames."""
    return n / (divisor * k)


def select_top_k(
    totals: Sequence[float], k: int, d_min: float, positions: Sequence[int] | None = None
) -> list[int]:
    """Greedy Top-K: visit frames by descending score (ties: earlier first) and skip any frame
    closer than ``d_min`` to one already chosen. Returns indices into ``totals`` in time order.

    ``positions`` are the frames' sampled-frame indices when ``totals`` is a subset of the stream
    (default: ``range(len(totals))``).
    """
    pos = list(positions) if positions is not None else list(range(len(totals)))
    order = sorted(range(len(totals)), key=lambda i: (-totals[i], pos[i]))
    chosen: list[int] = []
    for i in order:
        if len(chosen) == k:
            break
        if all(abs(pos[i] - pos[j]) >= d_min for j in chosen):
            chosen.append(i)
    return sorted(chosen, key=lambda i: pos[i])


class KeyframePool:
    """Streaming keyframe selection that keeps O(K) frames in memory.

    - ``baseline``: keeps only the latest frame (paper §3.3.1: the last frame).
    - K = 1: keeps only the running argmax (exact).
    - K > 1: the timeline is cut into buckets of ``width`` sampled frames, each keeping its best
      frame. The width doubles (merging neighbours) whenever more than ``2·divisor·K`` buckets
      exist, which keeps it below the final ``d_min``; a bucket narrower than ``d_min`` can hold at
      most one chosen frame, so greedy selection over the bucket winners matches greedy selection
      over all frames except where a bucket's winner is blocked while a weaker frame of the same
      bucket is not. While the stream has at most ``2·divisor·K`` frames the width is 1 and the
      result is exact.
    """

    def __init__(self, mode: Literal["baseline", "best"], k: int = 1, divisor: float = 2.0) -> None:
        self.mode = mode
        self.k = k
        self.divisor = divisor
        self.capacity = max(1, math.ceil(2 * divisor * k))
        self.width = 1
        self.count = 0
        self._buckets: dict[int, Keyframe] = {}

    def offer(self, frame: Frame, score: FrameScore, detections: Detections) -> None:
        """Consider one scored frame; frames must arrive in time order."""
        self.count += 1
        candidate = Keyframe(frame, score, detections)
        if self.mode == "baseline" or self.k == 1:
            current = self._buckets.get(0)
            if self.mode == "baseline" or current is None or score.total > current.score.total:
                self._buckets[0] = candidate
            return
        self._keep(frame.index // self.width, candidate)
        while len(self._buckets) > self.capacity:
            self._coarsen()

    def select(self) -> list[Keyframe]:
        """The chosen keyframes in time order (empty if no frame was offered)."""
        kept = sorted(self._buckets.values(), key=lambda kf: kf.frame.index)
        if self.mode == "baseline" or self.k == 1:
            return kept
        chosen = select_top_k(
            [kf.score.total for kf in kept],
            self.k,
            min_spacing(self.count, self.k, self.divisor),
            positions=[kf.frame.index for kf in kept],
        )
        return [kept[i] for i in chosen]

    @property
    def held(self) -> int:
        """Frames currently held in memory."""
        return len(self._buckets)

    def _keep(self, bucket: int, candidate: Keyframe) -> None:
        current = self._buckets.get(bucket)
        if current is None or _better(candidate, current):
            self._buckets[bucket] = candidate

    def _coarsen(self) -> None:
        self.width *= 2
        old, self._buckets = self._buckets, {}
        for keyframe in old.values():
            self._keep(keyframe.frame.index // self.width, keyframe)


def _better(a: Keyframe, b: Keyframe) -> bool:
    """Higher score wins; on a tie the earlier frame."""
    return (a.score.total, -a.frame.index) > (b.score.total, -b.frame.index)
