"""A site's watchlist: brands (or one product of a brand) to flag whenever a window shows them.

The box cannot know the product before fusion, so the evidence carries a candidate for every listed
brand its speech or OCR names; the result keeps the candidates of the brand (and product) it recognised.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from edge.claims.match import Flag, Reading
from edge.claims.normalise import contains, normalise
from edge.config.models import WatchEntry

FAMILY = "watchlist"
RULE_SET = "site-watchlist"


def watch_flags(entries: Sequence[WatchEntry], readings: Sequence[Reading]) -> list[Flag]:
    """A candidate flag for each reading that names a listed brand (or one of its aliases)."""
    flags = []
    for entry in entries:
        for reading in readings:
            text = normalise(reading.text)
            spelling = next((s for s in (entry.brand, *entry.aliases) if contains(text, normalise(s))), None)
            if spelling is None:
                continue
            segment = (reading.start, reading.end) if reading.start is not None and reading.end is not None else None
            values = {"brand": entry.brand, **({"product": entry.product} if entry.product else {})}
            flags.append(Flag("watchlist", RULE_SET, FAMILY, entry.reason, entry.severity, spelling, reading.text, reading.modality,
                              reading.index, reading.in_product if reading.modality == "ocr" else None, segment, values))
    return flags


def holds_for(flag: Mapping[str, Any], brand: str | None, product_name: str | None) -> bool:
    """Is a watchlist candidate about the recognised product: its brand is the flag's spelling or brand, and,
    when the entry names a product, every word of it is in the product name?"""
    if not brand:
        return False
    said = normalise(brand)
    values = flag.get("values") or {}
    if said not in {normalise(flag["matched"]), normalise(values.get("brand", ""))}:
        return False
    product = values.get("product")
    if not product:
        return True
    name = normalise(product_name or "")
    return all(contains(name, word) for word in normalise(product).split())
