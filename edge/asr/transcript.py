"""Building and joining transcripts: the text rules shared by every ASR backend."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from edge.text import NO_SPACE_SCRIPTS, in_ranges
from edge.types import Transcript, TranscriptSegment

# Latin punctuation that attaches to the word before it.
_CLOSING = set(",.;:!?)]}%'\"")


def is_cjk(char: str) -> bool:
    """True for a character of a script written without spaces between words (CJK, kana, full-width forms)."""
    return in_ranges(char, NO_SPACE_SCRIPTS)


def join_text(pieces: Iterable[str]) -> str:
    """Join recognised pieces: no space between CJK text, one space between Latin words."""
    out = ""
    for piece in (p.strip() for p in pieces):
        if not piece:
            continue
        if out and _needs_space(out[-1], piece[0]):
            out += " "
        out += piece
    return out


def _needs_space(before: str, after: str) -> bool:
    if after in _CLOSING:
        return False
    return not (is_cjk(before) and is_cjk(after))


def make_transcript(
    segments: Sequence[TranscriptSegment], language: str | None, backend: str,
    claim_segments: Sequence[TranscriptSegment] = (),
) -> Transcript:
    """A transcript whose text is its segments' texts joined; empty segments are dropped. ``claim_segments``: a
    second decoding's, kept only when its text differs from the first's (it would flag nothing new)."""
    kept = tuple(s for s in segments if s.text.strip())
    text = join_text(s.text for s in kept)
    claims = tuple(s for s in claim_segments if s.text.strip())
    if join_text(s.text for s in claims) == text:
        claims = ()
    if not kept and not claims:
        return Transcript(backend=backend)
    return Transcript(text=text, language=language, segments=kept, backend=backend, claim_segments=claims)


def merge_transcripts(parts: Sequence[Transcript]) -> Transcript:
    """Concatenate chunk transcripts in order (text joined, segments and claim segments concatenated).

    The language is the most common non-None one (the first seen wins a tie); the backend is
    the first one that is not ``"none"``.
    """
    languages = Counter(p.language for p in parts if p.language is not None)
    backends = [p.backend for p in parts if p.backend != "none"]
    return Transcript(
        text=join_text(p.text for p in parts),
        language=languages.most_common(1)[0][0] if languages else None,
        segments=tuple(s for p in parts for s in p.segments),
        backend=backends[0] if backends else "none",
        claim_segments=tuple(s for p in parts for s in p.claim_segments),
    )
