"""Packaging layout families: how a package front arranges brand, name, claim and spec.

Real packs vary far more than one template: the brand above or below the name, a logo-styled brand
(mixed case, spaced letters, small), the name over one to four lines, the brand repeated inside the
name, two languages on one pack, a claim or a spec in the largest type. Each family here draws one
of these arrangements onto a package face; the truth names the family (``layout``) so that results
can be split by it.

The split is fixed here, so that a fusion engine is tuned on :data:`TUNED` and reported separately on
:data:`HELD_OUT`, families it was never tuned on. ``classic`` is the family every benchmark clip had
before families existed (and still the default of ``tools/make_benchmark.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import ImageDraw, ImageFont

from livegen.draw import fit_font

TUNED = ("classic", "name-first", "stacked")
HELD_OUT = ("logo", "claim-first", "bilingual", "brand-in-name")
FAMILIES = TUNED + HELD_OUT

# Font families per script (fonts-dejavu-core, fonts-noto-cjk); a clip draws one for its pack.
LATIN_FONTS = {
    "dejavu-sans": "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "dejavu-serif": "/usr/share/fonts/truetype/dejavu/DejaVuSerif-Bold.ttf",
    "dejavu-condensed": "/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed-Bold.ttf",
    "dejavu-mono": "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf",
}
CJK_FONTS = {
    "noto-sans-cjk": "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "noto-serif-cjk": "/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc",
}

# Claims printed in the largest type on a claim-first pack
EN_CLAIMS = ("24H HYDRATION", "NEW FORMULA", "2X STRONGER", "ALL NATURAL", "EXTRA CARE", "BEST SELLER")
ZH_CLAIMS = ("72小时保湿", "全新配方", "加倍修护", "天然成分", "升级款", "人气爆款")


def expand(names: str) -> tuple[str, ...]:
    """``classic``, ``tuned``, ``held-out``, ``all`` or a comma-separated list of family names."""
    groups = {"tuned": TUNED, "held-out": HELD_OUT, "all": FAMILIES}
    if names in groups:
        return groups[names]
    chosen = tuple(n.strip() for n in names.split(",") if n.strip())
    unknown = [n for n in chosen if n not in FAMILIES]
    if unknown or not chosen:
        raise ValueError(f"unknown layout family {unknown or names!r}: choose from {', '.join(FAMILIES)}, tuned, held-out, all")
    return chosen


@dataclass(frozen=True)
class PackText:
    """What a family prints: the brand as styled, the name's lines, the other lines, by role."""

    brand: str
    name_lines: tuple[str, ...]
    spec: str
    tagline: str = ""
    claim: str = ""  # claim-first: the largest line
    other_name: str = ""  # bilingual: the name in the other language


@dataclass(frozen=True)
class Face:
    """A face to draw on: its drawing context, size, ink and accent colours, and the fonts."""

    draw: ImageDraw.ImageDraw
    width: int
    height: int
    ink: tuple[int, int, int]
    accent: tuple[int, int, int]
    font: Path  # the pack's font family
    small_font: Path  # the second font (the other script, or the same)
    top_band: int  # the last row of the top accent band (render.accent_bands) ...
    bottom_band: int  # ... and the first row of the bottom one

    def k(self, v: float) -> int:
        return int(round(v * self.width / 280))  # sizes are the demo's at its 280 px face width

    def text(self, xy: tuple[float, float], text: str, size: int, width_share: float, anchor: str = "mm", font: Path | None = None,
             letter_spaced: bool = False) -> ImageFont.FreeTypeFont:
        """Draw ``text`` at ``xy`` in the largest font up to ``size`` that fits ``width_share`` of the face, moved up or
        down as far as it takes to keep its ink clear of the accent bands (a squat face has less room)."""
        path = font or self.font
        shown = " ".join(text) if letter_spaced else text  # a logo's spaced letters
        chosen = fit_font(path, shown, int(self.width * width_share), size)
        _, top, _, bottom = chosen.getbbox(shown, anchor=anchor)
        margin = max(2, self.k(3))
        y = min(max(xy[1], self.top_band + margin - top), self.bottom_band - margin - bottom)
        self.draw.text((xy[0], y), shown, font=chosen, fill=(*self.ink, 255), anchor=anchor)
        return chosen

    def rule(self, y: float, share: float = 0.4, width: int = 3) -> None:
        self.draw.line((self.width * (0.5 - share / 2), y, self.width * (0.5 + share / 2), y), fill=(*self.accent, 255), width=width)


def _name_block(face: Face, lines: tuple[str, ...], top: float, size: int, share: float = 0.84, gap: float = 1.22) -> float:
    """The name's lines centred from ``top``, one font for all; returns the y below the block."""
    longest = max(lines, key=len)
    font = fit_font(face.font, longest, int(face.width * share), size)
    y = top
    for line in lines:
        face.draw.text((face.width / 2, y), line, font=font, fill=(*face.ink, 255), anchor="mm")
        y += font.size * gap
    return y


def name_first(face: Face, text: PackText) -> None:
    """The name in the largest type at the top, the brand below it in smaller type."""
    w, h = face.width, face.height
    below = _name_block(face, text.name_lines, h * 0.20, face.k(44))
    face.rule(below + face.k(4))
    face.text((w / 2, below + face.k(30)), text.brand, face.k(26), 0.6)
    if text.tagline:
        face.text((w / 2, h * 0.76), text.tagline, face.k(15), 0.8)
    face.text((w / 2, h * 0.885), text.spec, face.k(28), 0.6)


def stacked(face: Face, text: PackText) -> None:
    """A small brand on top; the name stacked over up to four lines, the head noun last."""
    w, h = face.width, face.height
    face.text((w / 2, h * 0.12), text.brand, face.k(28), 0.7)
    face.rule(h * 0.19, 0.3, 2)
    _name_block(face, text.name_lines, h * 0.30, face.k(40), gap=1.12)
    face.text((w / 2, h * 0.90), text.spec, face.k(24), 0.5)


def logo(face: Face, text: PackText) -> None:
    """The brand as a small letter-spaced logo in the top-left corner; the name big in the middle."""
    w, h = face.width, face.height
    face.text((w * 0.08, h * 0.10), text.brand, face.k(22), 0.55, anchor="lm", letter_spaced=True)
    _name_block(face, text.name_lines, h * 0.40, face.k(40))
    if text.tagline:
        face.text((w / 2, h * 0.74), text.tagline, face.k(15), 0.8)
    face.text((w * 0.92, h * 0.885), text.spec, face.k(26), 0.45, anchor="rm")


def claim_first(face: Face, text: PackText) -> None:
    """A claim in the largest type on top; the brand small under it; the name; the spec."""
    w, h = face.width, face.height
    face.text((w / 2, h * 0.15), text.claim, face.k(46), 0.9)
    face.text((w / 2, h * 0.30), text.brand, face.k(24), 0.5)
    face.rule(h * 0.36, 0.3, 2)
    _name_block(face, text.name_lines, h * 0.50, face.k(30))
    face.text((w / 2, h * 0.885), text.spec, face.k(26), 0.5)


def bilingual(face: Face, text: PackText) -> None:
    """Brand, the name, and the name again in the other language under it."""
    w, h = face.width, face.height
    face.text((w / 2, h * 0.17), text.brand, face.k(50), 0.8)
    below = _name_block(face, text.name_lines, h * 0.40, face.k(32))
    face.text((w / 2, below + face.k(6)), text.other_name, face.k(24), 0.8, font=face.small_font)
    face.text((w / 2, h * 0.885), text.spec, face.k(26), 0.5)


def brand_in_name(face: Face, text: PackText) -> None:
    """The brand on top, and again at the head of the name ("AQUAVERA" / "Aquavera Hydrating Serum")."""
    w, h = face.width, face.height
    face.text((w / 2, h * 0.16), text.brand, face.k(52), 0.84)
    face.rule(h * 0.27)
    _name_block(face, text.name_lines, h * 0.42, face.k(32))
    if text.tagline:
        face.text((w / 2, h * 0.76), text.tagline, face.k(15), 0.8)
    face.text((w / 2, h * 0.885), text.spec, face.k(26), 0.5)


DRAW: dict[str, Callable[[Face, PackText], None]] = {
    "name-first": name_first, "stacked": stacked, "logo": logo, "claim-first": claim_first, "bilingual": bilingual,
    "brand-in-name": brand_in_name,
}


def stack_lines(name: str, cjk: bool, most: int = 4) -> tuple[str, ...]:
    """The name broken as a stacked pack prints it: one or two words (two or three characters) a line, up to ``most``."""
    if cjk:
        size = max(2, -(-len(name) // most))
        return tuple(name[i:i + size] for i in range(0, len(name), size))
    words = name.split()
    per = max(1, -(-len(words) // most))
    return tuple(" ".join(words[i:i + per]) for i in range(0, len(words), per))


def logo_brand(brand: str) -> str:
    """A Latin brand as a logo writes it (``AURORA`` -> ``Aurora``); Chinese brands stay as they are."""
    return brand.title() if brand.isascii() else brand
