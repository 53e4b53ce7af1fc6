"""VideoFile on real encoded clips: which frames are sampled, what they show, how they are delivered."""

from __future__ import annotations

import numpy as np
import pytest

from edge.sources import MediaInfo, VideoFile
from edge.types import AudioChunk, Frame


def frames_of(video: VideoFile) -> list[Frame]:
    return [item for item in video if isinstance(item, Frame)]


def literal_rule(times: list[float], rate: float) -> list[float]:
    """For each t_k = k/rate, the first frame time >= t_k; the same frame never twice."""
    out: list[float] = []
    k = 0
    while k / rate <= times[-1] + 1e-9:
        first = next(t for t in times if t >= k / rate - 1e-9)
        if not out or first != out[-1]:
            out.append(first)
        k += 1
    return out


@pytest.fixture(scope="module")
def clip_25fps(clips):
    return clips.testsrc("testsrc_25fps_4s.mp4", 4)


def test_probe_describes_the_clip(clip_25fps) -> None:
    with VideoFile(clip_25fps, sample_fps=2) as video:
        info = video.info
    assert info == MediaInfo(str(clip_25fps), pytest.approx(4.0, abs=0.05), 25.0, 320, 240, "h264", "aac")
    assert info.has_audio
    assert info.expected_samples(2) == 8


def test_25fps_sampled_at_2fps_over_4s_gives_8_frames_half_a_second_apart(clip_25fps) -> None:
    with VideoFile(clip_25fps, sample_fps=2) as video:
        frames = frames_of(video)
    assert [f.index for f in frames] == list(range(8))
    # The first frame at or after each k/2 s: 0.5 s falls between frames 12 (0.48) and 13 (0.52).
    assert [f.pts for f in frames] == pytest.approx([0.0, 0.52, 1.0, 1.52, 2.0, 2.52, 3.0, 3.52])
    assert video.decode_errors == 0


@pytest.mark.parametrize("rate", [0.5, 1, 3, 7, 25, 60])
def test_sampled_times_follow_the_rule_at_several_rates(clip_25fps, rate: float) -> None:
    with VideoFile(clip_25fps, sample_fps=rate) as video:
        frames = frames_of(video)
        expected = video.info.expected_samples(rate)
    assert [f.pts for f in frames] == pytest.approx(
        literal_rule([i / 25 for i in range(100)], rate), abs=1e-6
    )
    assert len(frames) == expected
    assert [f.index for f in frames] == list(range(len(frames)))


def test_a_rate_above_native_emits_every_decoded_frame_once(clips) -> None:
    path = clips.counter(audio=None)
    with VideoFile(path, sample_fps=60) as video:
        frames = frames_of(video)
    shown = [round(clips.counter_at(f.image)) for f in frames]
    assert shown == list(range(40))
    assert np.all(np.diff([f.pts for f in frames]) > 0)


@pytest.mark.parametrize("rate", [2, 3, 10])
def test_each_sampled_frame_shows_the_picture_of_its_time(clips, rate: float) -> None:
    path = clips.counter(audio=None)
    with VideoFile(path, sample_fps=rate) as video:
        frames = frames_of(video)
    assert len(frames) == video.info.expected_samples(rate)
    for frame in frames:
        assert clips.counter_at(frame.image) == pytest.approx(frame.pts * 10, abs=0.5), frame


def test_images_are_contiguous_bgr_uint8_even_when_rows_are_padded(clips) -> None:
    path = clips.counter(audio=None, width=318)  # 318 * 3 bytes per row: the decoder pads the stride
    with VideoFile(path, sample_fps=2) as video:
        frames = frames_of(video)
    assert video.info.width == 318
    for frame in frames:
        assert frame.image.shape == (240, 318, 3)
        assert frame.image.dtype == np.uint8
        assert frame.image.flags["C_CONTIGUOUS"]
        assert frame.size == (318, 240)


def test_channels_are_in_bgr_order(clips) -> None:
    path = clips.encode(
        "red.mp4",
        ["-f", "lavfi", "-i", "color=c=red:s=64x64:r=10:d=1", "-c:v", "libx264", "-pix_fmt", "yuv420p"],
    )
    with VideoFile(path, sample_fps=1) as video:
        blue, green, red = frames_of(video)[0].image.reshape(-1, 3).mean(axis=0)
    assert red > 200 and green < 40 and blue < 40


def test_variable_frame_rate_gap_is_jumped_not_filled(clips) -> None:
    path = clips.counter(ext="mkv", audio=None, drop=(10, 19))  # no frames from 1.0 s to 1.9 s
    times = [n / 10 for n in range(40) if not 10 <= n <= 19]
    with VideoFile(path, sample_fps=4) as video:
        frames = frames_of(video)
    assert [f.pts for f in frames] == pytest.approx(literal_rule(times, 4), abs=1e-6)
    assert 2.0 in [pytest.approx(f.pts) for f in frames]  # t_k = 1.0 .. 1.75 all land on the frame at 2.0
    for frame in frames:
        assert clips.counter_at(frame.image) == pytest.approx(frame.pts * 10, abs=0.5)


def test_audio_and_frames_come_interleaved_in_stream_order(clips) -> None:
    path = clips.counter(audio="aac")
    with VideoFile(path, sample_fps=5, audio_chunk_seconds=1.0) as video:
        items = list(video)
    kinds = ["a" if isinstance(i, AudioChunk) else "v" for i in items]
    assert kinds.index("a") < len(kinds) - 1 - kinds[::-1].index("v")  # a chunk before the last frame
    last_pts = 0.0
    for item in items:
        if isinstance(item, Frame):
            last_pts = item.pts
        else:  # a chunk arrives about when the video has reached its end, not at the end of the file
            assert abs(last_pts - (item.start + item.duration)) < 1.0


def test_iterating_again_reads_the_file_again(clip_25fps) -> None:
    with VideoFile(clip_25fps, sample_fps=1) as video:
        first = [f.pts for f in frames_of(video)]
        second = [f.pts for f in frames_of(video)]
    assert first == second == pytest.approx([0.0, 1.0, 2.0, 3.0])


def test_close_ends_an_iteration_in_progress_and_forbids_new_ones(clip_25fps) -> None:
    video = VideoFile(clip_25fps, sample_fps=5)
    items = iter(video)
    next(items)
    video.close()
    assert list(items) == []
    with pytest.raises(ValueError):
        iter(video)


def test_stopping_early_releases_the_file(clip_25fps) -> None:
    with VideoFile(clip_25fps, sample_fps=5) as video:
        first = next(iter(video))  # the generator is dropped at once: its pass ends here
        assert video._open == set()
    assert isinstance(first, Frame | AudioChunk)


def test_invalid_arguments_are_value_errors(clip_25fps) -> None:
    with pytest.raises(ValueError):
        VideoFile(clip_25fps, sample_fps=0)
    with pytest.raises(ValueError):
        VideoFile(clip_25fps, sample_fps=2, audio_chunk_seconds=0)


def test_concatenated_ts_segments_continue_the_timeline(clips, tmp_path) -> None:
    segment = clips.testsrc("testsrc_4s.ts", 4)
    joined = tmp_path / "joined.ts"
    joined.write_bytes(segment.read_bytes() * 2)  # the second segment's clock starts over
    with VideoFile(joined, sample_fps=1, audio_chunk_seconds=2.0) as video:
        items = list(video)
    frames = [i for i in items if isinstance(i, Frame)]
    assert [f.pts for f in frames] == pytest.approx([float(k) for k in range(8)])
    assert sum(i.duration for i in items if isinstance(i, AudioChunk)) == pytest.approx(8.0, abs=0.2)
