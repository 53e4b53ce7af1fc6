"""Where and how a pack prints its lines, as OCR boxes them: type size, line grouping, letter-spacing.

The local rules (``edge.fusion.local_rules``) read what a line says; this module reads how it is printed:
which lines form one text block (a name over several lines), which boxes OCR split from one line, how
tall the type is without descenders, and letter-spaced logos read as pieces. Every threshold is named.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from edge.fusion.documents import EvidenceLine
from edge.fusion.text import tokens
from edge.text import CJK_UNIFIED, char_class, has_cjk

PRINT_SIZE_RATIO = (0.75, 1.33)  # lines of one block differ in print height by at most a third
LINE_GAP = (-0.4, 0.8)  # gap to the next line of a block, in print heights: an overlap (CJK boxes run tall) to most of a line
COLUMN_OVERLAP = 0.5  # lines of one block overlap horizontally by over half the narrower one
MAX_BLOCK_LINES = 4  # a name is printed over at most four lines
SAME_PRINT = (0.85, 1.18)  # lines of one stacked name share one type size (tighter than a block's PRINT_SIZE_RATIO)
BLOCK_SIZE_STEP = 1.08  # a line this much further off its neighbour's size than the neighbour is off the next is not of their block
CJK_EM = 1.3  # a CJK line's box is this much taller than a Latin line's type (no descenders) at one point size
DESCENDER = 1.25  # a Latin line with descenders (g, j, p, q, y) has a box this much taller than its type size
SPACED_PIECES = 3  # a line of at least this many pieces ...
SPACED_MEAN_LETTERS = 2.0  # ... of at most this many letters on average is letter-spaced text read unevenly
SPACED_WORD_GAP = 1.5  # letter-spaced words boxed apart on one row are at most this many print heights apart ...
SPLIT_LINE_GAP = 0.5  # ... other boxes on one row this many: one line OCR boxed in two ("Nordic" | "Leaf")
_NO_HEIGHT = 1e-6  # print height of a line without a box, to divide by

# A line too short to name anything alone that may end a name printed over lines (the C of Vitamin C, a B12)
TAIL = re.compile(r"^[A-Za-z][A-Za-z0-9]?$|^[A-Za-z][0-9]{1,2}$")
# Letters printed with spaces between them ("V E R D A N T", "锦 鲤": a logo's letter-spacing): one word
_DESCENDERS = re.compile(r"[gjpqy]")
# A box of one to three Latin letters: a piece of a widely letter-spaced word that OCR boxed letter by letter
_PIECE = re.compile(r"^[A-Za-z]{1,3}$")
_SPACED_LETTERS = re.compile(rf"^(?:[A-Za-z] +){{2,}}[A-Za-z]$|^(?:[{char_class((CJK_UNIFIED,))}] +)+[{char_class((CJK_UNIFIED,))}]$")


@dataclass(frozen=True)
class Line:
    """One OCR line (or a block of several) with its box: what the rules weigh."""

    text: str
    confidence: float
    in_product: bool | None
    left: float = 0.0
    top: float = 0.0
    right: float = 0.0
    bottom: float = 0.0
    frames: tuple[int, ...] = ()
    print_height: float = 0.0  # height of one printed line (a block spans several)
    spaced: bool = False  # read as letter-spaced pieces, joined into one word

    @classmethod
    def from_view(cls, line: EvidenceLine, spoken: Collection[str] = ()) -> Line:
        left, top, right, bottom = line.bounds or (0.0, 0.0, 0.0, 0.0)
        text = line.text.strip()
        joined = unspaced(text, spoken)
        spaced = joined != text or _PIECE.match(text) is not None  # letter-spaced, or a piece of a letter-spaced word
        return cls(joined, line.confidence, line.in_product, left, top, right, bottom, line.frames, bottom - top, spaced)

    @property
    def words(self) -> int:
        return len(tokens(self.text))

    @property
    def all_caps(self) -> bool:
        """Latin letters only in capitals ("HALCYON" under "Bluetooth Speaker": a change of case is a change of role)."""
        letters = [ch for ch in self.text if ch.isascii() and ch.isalpha()]
        return len(letters) >= 2 and all(ch.isupper() for ch in letters)

    @property
    def type_height(self) -> float:
        """The print height without descenders (a box holding g, j, p, q or y runs taller than its type)."""
        return self.print_height / (DESCENDER if _DESCENDERS.search(self.text) and not has_cjk(self.text) else 1.0)

    @property
    def em_height(self) -> float:
        """The type height as a size comparable across scripts (a CJK box spans the em, Latin type only its ascenders)."""
        return self.type_height / (CJK_EM if has_cjk(self.text) else 1.0)

    def same_size(self, other: Line, bounds: tuple[float, float]) -> bool:
        """Do the two print sizes differ by no more than ``bounds`` (as box heights, or as type heights)?"""
        smallest, largest = bounds
        return any(smallest <= b / max(a, _NO_HEIGHT) <= largest
                   for a, b in ((self.print_height, other.print_height), (self.type_height, other.type_height)))

    def continues_into(self, below: Line) -> bool:
        """Is ``below`` the next line of the same text block (a name printed over two lines)? A block keeps to
        one script: a line in the other one is a translation."""
        if self.frames and below.frames and not set(self.frames) & set(below.frames):
            return False
        if has_cjk(self.text) != has_cjk(below.text) or self.all_caps != below.all_caps and not TAIL.match(below.text):
            return False
        similar_size = self.same_size(below, PRINT_SIZE_RATIO)
        gap = below.top - self.bottom
        close = LINE_GAP[0] * self.print_height <= gap <= LINE_GAP[1] * self.print_height
        overlap = min(self.right, below.right) - max(self.left, below.left)
        return similar_size and close and overlap > COLUMN_OVERLAP * min(self.right - self.left, below.right - below.left)


def text_blocks(lines: Sequence[Line]) -> list[Line]:
    """Adjacent lines of the same print size joined top to bottom (at most :data:`MAX_BLOCK_LINES`)."""
    ordered = sorted(lines, key=lambda line: (line.top, line.left))
    blocks = []
    for i, first in enumerate(ordered):
        block = [first]
        for below in ordered[i + 1 :]:
            if len(block) == MAX_BLOCK_LINES:
                break
            if block[-1].continues_into(below):
                block.append(below)
                joiner = "" if has_cjk(block[-2].text[-1:] + below.text[:1]) else " "
                blocks.append(
                    Line(
                        joiner.join(part.text for part in block),
                        _mean_confidence(block),
                        first.in_product,
                        min(p.left for p in block), first.top, max(p.right for p in block), below.bottom,
                        first.frames, sum(p.print_height for p in block) / len(block),
                    )
                )
    return blocks


def join_split_boxes(lines: list[Line]) -> list[Line]:
    """Boxes of one line that OCR boxed apart, side by side on one row, as the one line they are (in the place
    of the leftmost): letter-spaced words within :data:`SPACED_WORD_GAP` print heights ("Nordic" | "Le a f" ->
    "Nordic Leaf"), pieces of a word (widely spaced letters boxed one by one: "L" | "u" | "min" | "a" ->
    "Lumina"), other text within :data:`SPLIT_LINE_GAP`."""
    merged: dict[int, Line] = {}
    gone: set[int] = set()
    for j in sorted(range(len(lines)), key=lambda k: lines[k].left):
        line = lines[j]
        partner = next((i for i, p in merged.items() if _side_by_side(p, line)), None)
        if partner is None:
            merged[j] = line
            continue
        p = merged[partner]
        joiner = "" if _PIECE.match(p.text.split()[-1]) or _PIECE.match(line.text) else " "
        merged[partner] = Line(f"{p.text}{joiner}{line.text}", min(p.confidence, line.confidence), p.in_product, p.left,
                                min(p.top, line.top), line.right, max(p.bottom, line.bottom), p.frames,
                                max(p.print_height, line.print_height), True)
        gone.add(j)
    return [merged[i] for i in range(len(lines)) if i not in gone]


def _side_by_side(left: Line, right: Line) -> bool:
    if left.in_product != right.in_product or has_cjk(left.text) or has_cjk(right.text) or not left.same_size(right, PRINT_SIZE_RATIO):
        return False
    rows_overlap = min(left.bottom, right.bottom) - max(left.top, right.top)
    gap = right.left - left.right
    widest = SPACED_WORD_GAP if left.spaced or right.spaced else SPLIT_LINE_GAP
    return rows_overlap > 0.6 * min(left.print_height, right.print_height) and -0.2 * left.print_height <= gap <= widest * left.print_height


def _mean_confidence(block: Sequence[Line]) -> float:
    """A block's reading confidence: its lines' confidences weighted by their characters (one misread character
    of a long name costs less than the whole name)."""
    sizes = [max(len(part.text.replace(" ", "")), 1) for part in block]
    return sum(part.confidence * n for part, n in zip(block, sizes)) / sum(sizes)


def in_stacked_text(line: Line, lines: Sequence[Line]) -> bool:
    """Is ``line`` one of several lines of the same type printed as one block (a stacked name)? A line a size step
    off the block it sits on is a label over it (a brand over a two-line name), not one of its lines."""
    for other in lines:
        if other is line:
            continue
        upper, lower = (other, line) if other.top < line.top else (line, other)
        if not (line.same_size(other, SAME_PRINT) and upper.continues_into(lower)):
            continue
        below = [b for b in lines if b is not upper and b is not lower and lower.continues_into(b)]
        if not any(_size_step(upper, lower) > _size_step(lower, b) * BLOCK_SIZE_STEP for b in below):
            return True
    return False


def _size_step(a: Line, b: Line) -> float:
    """How far apart two print sizes are, as a ratio of at least 1."""
    ratio = max(a.print_height, _NO_HEIGHT) / max(b.print_height, _NO_HEIGHT)
    return max(ratio, 1 / ratio)


def unspaced(text: str, spoken: Collection[str] = ()) -> str:
    """'V e r d a n t' -> 'Verdant', '锦 鲤' -> '锦鲤': letter-spacing is a style, not a word break. OCR reads
    spaced letters unevenly ('Brig h t wa v e', 'Lumin a'): a Latin line of short pieces (at least
    :data:`SPACED_PIECES`, :data:`SPACED_MEAN_LETTERS` letters each on average) is one word, and so is one whose
    pieces run together make a word the host says (agreement with speech)."""
    if _SPACED_LETTERS.match(text):
        return text.replace(" ", "")
    pieces = text.split()
    if len(pieces) < 2 or not all(p.isascii() and p.isalpha() for p in pieces):
        return text
    joined = "".join(pieces)
    uneven = len(pieces) >= SPACED_PIECES and len(joined) / len(pieces) <= SPACED_MEAN_LETTERS
    if uneven or all(len(p) <= 2 for p in pieces) or joined.lower() in spoken:
        return joined
    return text
