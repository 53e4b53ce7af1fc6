"""Broken inputs: a one-line SourceError naming the file, or damage skipped and counted.

Documented outcomes for damaged files (checked below):
- garbage over the header (MP4 ``ftyp``/``moov`` at the front, MKV EBML head): SourceError at open;
- the MP4 ``moov`` box overwritten: opens with no streams, SourceError "no streams found";
- garbage in the middle of an MP4 or MPEG-TS: frames still come, ``decode_errors`` > 0;
- a truncated MP4 (index intact) or TS: the frames before the cut, no error;
- every media byte garbled: SourceError "no video frame could be decoded" when iteration ends.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from edge.errors import SourceError
from edge.sources import VideoFile
from edge.types import Frame


def open_error(path: Path) -> SourceError:
    with pytest.raises(SourceError) as caught:
        VideoFile(path, sample_fps=2)
    return caught.value


def assert_one_line_naming(error: SourceError, path: Path, *words: str) -> None:
    text = str(error)
    assert "\n" not in text
    assert text.startswith(f"{path}: ")
    assert error.culprit == str(path)
    for word in words:
        assert word in text.lower()


def garble(source: Path, target: Path, start: int, length: int, seed: int = 2) -> Path:
    data = bytearray(source.read_bytes())
    rnd = random.Random(seed)
    data[start : start + length] = bytes(rnd.randrange(256) for _ in range(min(length, len(data) - start)))
    target.write_bytes(bytes(data))
    return target


@pytest.fixture(scope="module")
def mp4(clips) -> Path:
    """8 s of H.264/AAC, index at the front, a keyframe every second."""
    return clips.testsrc("damage_8s.mp4", 8, extra=("-g", "25", "-movflags", "+faststart"))


@pytest.fixture(scope="module")
def ts(clips, mp4) -> Path:
    return clips.encode("damage_8s.ts", ["-i", str(mp4), "-c", "copy"])


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.mp4"
    assert_one_line_naming(open_error(path), path, "not found")


def test_directory(tmp_path: Path) -> None:
    assert_one_line_naming(open_error(tmp_path), tmp_path, "directory")


def test_zero_byte_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.mp4"
    path.touch()
    assert_one_line_naming(open_error(path), path, "empty")


def test_text_file_renamed_mp4(tmp_path: Path) -> None:
    path = tmp_path / "notes.mp4"
    path.write_text("shopping list\nmilk, eggs\n" * 50)
    assert_one_line_naming(open_error(path), path, "cannot open", "invalid data")


def test_random_bytes_renamed_mkv(tmp_path: Path) -> None:
    path = tmp_path / "noise.mkv"
    path.write_bytes(random.Random(3).randbytes(200_000))
    assert_one_line_naming(open_error(path), path, "cannot open")


def test_unreadable_file(tmp_path: Path, mp4: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads files whatever their mode")
    path = tmp_path / "locked.mp4"
    path.write_bytes(mp4.read_bytes())
    path.chmod(0)
    assert_one_line_naming(open_error(path), path, "permission")


def test_audio_only_file_has_no_video_stream(clips) -> None:
    path = clips.encode("tone.m4a", ["-f", "lavfi", "-i", "sine=frequency=440:duration=1", "-c:a", "aac"])
    assert_one_line_naming(open_error(path), path, "no video stream", "audio aac")


def test_cover_art_is_not_a_video_stream(clips) -> None:
    cover = clips.encode("cover.png", ["-f", "lavfi", "-i", "color=c=red:s=64x64", "-frames:v", "1"])
    path = clips.encode(
        "song.mp3",
        ["-f", "lavfi", "-i", "sine=duration=1", "-i", str(cover), "-map", "0", "-map", "1",
         "-c:a", "libmp3lame", "-c:v", "png", "-disposition:v", "attached_pic"],
    )  # fmt: skip
    assert_one_line_naming(open_error(path), path, "no video stream", "audio mp3", "video png still image")


def test_mp4_with_a_garbled_header(tmp_path: Path, mp4: Path) -> None:
    path = garble(mp4, tmp_path / "header.mp4", 0, 4096)
    assert_one_line_naming(open_error(path), path, "cannot open")


def test_mp4_with_its_moov_box_overwritten(tmp_path: Path, clips) -> None:
    source = clips.testsrc("moov_at_end.mp4", 2)  # no faststart: moov after the media data
    moov = source.read_bytes().find(b"moov")
    path = garble(source, tmp_path / "moov.mp4", moov + 8, 2000)
    assert_one_line_naming(open_error(path), path, "no streams", "header")


def test_truncated_mp4_without_its_index(tmp_path: Path, clips) -> None:
    source = clips.testsrc("moov_at_end.mp4", 2)
    path = tmp_path / "cut.mp4"
    path.write_bytes(source.read_bytes()[: source.stat().st_size // 2])
    assert_one_line_naming(open_error(path), path, "cannot open")


def test_mkv_with_a_garbled_header(tmp_path: Path, clips) -> None:
    source = clips.counter(ext="mkv", audio="opus")
    path = garble(source, tmp_path / "header.mkv", 0, 4096)
    assert_one_line_naming(open_error(path), path, "cannot open")


@pytest.mark.parametrize("kind", ["mp4", "ts"])
def test_garbage_mid_stream_is_skipped_and_counted(request, clips, kind: str) -> None:
    source = request.getfixturevalue(kind)
    path = clips.damaged(source, f"mid.{kind}", fractions=(0.3, 0.5, 0.7), length=3000)
    with VideoFile(path, sample_fps=2) as video:
        frames = [i for i in video if isinstance(i, Frame)]
    assert video.decode_errors > 0
    assert 14 <= len(frames) <= 16  # 8 s at 2 fps; a damaged stretch may cost a sample time
    assert [f.index for f in frames] == list(range(len(frames)))
    assert all(b.pts > a.pts for a, b in zip(frames, frames[1:], strict=False))


def test_truncated_mp4_with_its_index_yields_what_is_there(tmp_path: Path, mp4: Path) -> None:
    path = tmp_path / "cut.mp4"
    path.write_bytes(mp4.read_bytes()[: mp4.stat().st_size * 2 // 5])
    with VideoFile(path, sample_fps=2) as video:
        frames = [i for i in video if isinstance(i, Frame)]
    assert video.info.expected_samples(2) == 16  # the index still promises 8 s
    assert 3 <= len(frames) < 16


def test_truncated_ts_yields_what_is_there(tmp_path: Path, ts: Path) -> None:
    path = tmp_path / "cut.ts"
    path.write_bytes(ts.read_bytes()[: ts.stat().st_size // 2])
    with VideoFile(path, sample_fps=2) as video:
        frames = [i for i in video if isinstance(i, Frame)]
    assert 6 <= len(frames) <= 9


def test_a_file_whose_media_is_all_garbage_raises_once_iteration_ends(tmp_path: Path, mp4: Path) -> None:
    data = mp4.read_bytes()
    mdat = data.find(b"mdat") + 4
    path = garble(mp4, tmp_path / "mdat.mp4", mdat, len(data) - mdat)
    video = VideoFile(path, sample_fps=2)  # the index is intact: it opens
    with pytest.raises(SourceError) as caught:
        list(video)
    assert_one_line_naming(caught.value, path, "no video frame could be decoded")
    assert video.decode_errors > 0
