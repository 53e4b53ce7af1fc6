"""Joining chunk transcripts: Latin words get a space, CJK text none."""

import pytest

from edge.asr import merge_transcripts
from edge.asr.transcript import join_text, make_transcript
from edge.types import Transcript, TranscriptSegment


def part(text, language="en", start=0.0, backend="whisper"):
    segments = (TranscriptSegment(start, start + 1.0, text),) if text else ()
    return Transcript(text=text, language=language if text else None, segments=segments, backend=backend)


def test_latin_chunks_are_joined_with_one_space():
    merged = merge_transcripts([part(" Today we sell "), part("the Galaxy phone.", start=30.0)])
    assert merged.text == "Today we sell the Galaxy phone."
    assert [s.start for s in merged.segments] == [0.0, 30.0]
    assert merged.language == "en"
    assert merged.backend == "whisper"


def test_cjk_chunks_are_joined_without_space():
    parts = [part("新品上市", "zh"), part("好价格。", "zh", 30.0), part("欢迎", "zh", 60.0)]
    merged = merge_transcripts(parts)
    assert merged.text == "新品上市好价格。欢迎"
    assert len(merged.segments) == 3


@pytest.mark.parametrize(
    ("pieces", "joined"),
    [
        (["价格", "iPhone 15"], "价格 iPhone 15"),  # CJK next to Latin keeps a space
        (["iPhone", "手机"], "iPhone 手机"),
        (["Hello", ", world"], "Hello, world"),  # Latin punctuation sticks to the word before
        (["你好。", "再见"], "你好。再见"),
        (["こんにちは", "世界"], "こんにちは世界"),  # kana too
        (["안녕하세요", "여러분"], "안녕하세요 여러분"),  # Korean separates words with spaces
        (["", "  ", "only"], "only"),
    ],
)
def test_join_text_boundaries(pieces, joined):
    assert join_text(pieces) == joined


def test_language_is_the_most_common_non_none_and_empty_parts_add_nothing():
    merged = merge_transcripts([part("hola", "es"), part(""), part("hello", "en"), part("again", "en")])
    assert merged.language == "en"
    assert merged.text == "hola hello again"
    assert len(merged.segments) == 3


def test_language_tie_goes_to_the_first_seen():
    assert merge_transcripts([part("你好", "zh"), part("hello", "en")]).language == "zh"


def test_merging_nothing_or_empty_parts_gives_an_empty_transcript():
    assert merge_transcripts([]) == Transcript()
    empty = Transcript(backend="funasr")
    assert merge_transcripts([empty, empty]) == empty


def test_make_transcript_drops_empty_segments_and_their_language():
    empty = make_transcript([TranscriptSegment(0.0, 1.0, "  ")], "en", "whisper")
    assert empty == Transcript(backend="whisper")
    kept = make_transcript([TranscriptSegment(0.0, 1.0, "a"), TranscriptSegment(1.0, 2.0, "")], "en", "whisper")
    assert kept.text == "a" and len(kept.segments) == 1 and kept.language == "en"
