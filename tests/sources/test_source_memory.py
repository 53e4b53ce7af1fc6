"""Reading a long clip holds a bounded amount of memory, whatever the clip's length."""

from __future__ import annotations

import tracemalloc

import psutil

from edge.sources import VideoFile
from edge.types import Frame

SECONDS = 60


def thirds(samples: list[tuple[float, int]]) -> tuple[int, int]:
    """Peak of the first and of the last third of (clip time, bytes) samples."""
    first = [b for t, b in samples if t < SECONDS / 3]
    last = [b for t, b in samples if t >= 2 * SECONDS / 3]
    assert first and last
    return max(first), max(last)


def test_a_60s_clip_streams_in_bounded_memory(clips) -> None:
    # 320x240 at 25 fps: 1500 decoded frames of 115 kB as BGR; holding them would show at once.
    path = clips.testsrc("long_60s.mp4", SECONDS)
    process = psutil.Process()
    python_heap: list[tuple[float, int]] = []
    resident: list[tuple[float, int]] = []
    frames = chunks = 0
    tracemalloc.start()
    try:
        with VideoFile(path, sample_fps=5, audio_chunk_seconds=5.0) as video:
            for item in video:
                if isinstance(item, Frame):
                    frames += 1
                    t = item.pts
                else:
                    chunks += 1
                    t = item.start
                python_heap.append((t, tracemalloc.get_traced_memory()[0]))
                resident.append((t, process.memory_info().rss))
                del item
    finally:
        tracemalloc.stop()
    assert frames == SECONDS * 5
    assert SECONDS // 5 <= chunks <= SECONDS // 5 + 1  # the last, a few ms of AAC padding
    heap_first, heap_last = thirds(python_heap)
    rss_first, rss_last = thirds(resident)
    print(f"heap {heap_first} -> {heap_last}, rss {rss_first} -> {rss_last}")
    # 100 kept frames would be 23 MB, 20 s of kept audio 1.3 MB; allow allocator noise only.
    assert heap_last - heap_first < 512 * 1024, (heap_first, heap_last)
    assert rss_last - rss_first < 16 * 1024 * 1024, (rss_first, rss_last)
