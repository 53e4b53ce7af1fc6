"""What kind of product it is: the product type ("shampoo", "面霜") and its department in a published taxonomy.

A result names the category twice (paper §4.2.3 calls the field coarse): ``product_type``, a noun phrase in
the pack's language, and ``category``, a department of Google's product taxonomy (its full path, with its
numeric id as ``category_id``). The taxonomy ships with the package (``google-product-taxonomy.txt``, the
``taxonomy-with-ids.en-US.txt`` Google publishes for Merchant Center, version 2021-09-21), so a department
from any engine, a cloud model's among them, is checked against it.
``product_types.yaml`` maps the words that name a type to the type and its department.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import yaml

from edge.fusion.text import tokens
from edge.text import has_cjk

TAXONOMY_FILE = "google-product-taxonomy.txt"
TAXONOMY_VERSION = "2021-09-21"
SEPARATOR = " > "


@dataclass(frozen=True)
class Department:
    """One node of Google's product taxonomy."""

    id: int
    path: str  # "Health & Beauty > Personal Care > Hair Care"

    @property
    def levels(self) -> tuple[str, ...]:
        return tuple(self.path.split(SEPARATOR))


@dataclass(frozen=True)
class ProductType:
    """A kind of product: how results name it in English and Chinese, and its department."""

    en: str
    zh: str
    department: Department

    def named_in(self, chinese: bool) -> str:
        return self.zh if chinese else self.en


@dataclass(frozen=True)
class TypeMention:
    """A word of ``text`` that names a product type; ``chinese`` when the word is Chinese."""

    type: ProductType
    word: str
    chinese: bool

    @property
    def value(self) -> str:
        """The type as a result names it, in the language of the word that named it."""
        return self.type.named_in(self.chinese)


class Taxonomy:
    """Google's product taxonomy: departments by id and by path (case-insensitive)."""

    def __init__(self, lines: list[str], source: str = TAXONOMY_FILE) -> None:
        self.by_id: dict[int, Department] = {}
        self._by_path: dict[str, Department] = {}
        self._by_leaf: dict[str, list[Department]] = {}
        for number, line in enumerate(lines, 1):
            if not line.strip() or line.startswith("#"):
                continue
            ident, sep, path = line.partition(" - ")
            if not sep or not ident.strip().isdigit():
                raise ValueError(f"{source}:{number}: not 'ID - Path': {line[:80]!r}")
            dept = Department(int(ident), path.strip())
            self.by_id[dept.id] = dept
            self._by_path[dept.path.casefold()] = dept
            self._by_leaf.setdefault(dept.levels[-1].casefold(), []).append(dept)

    def find(self, text: str | None) -> Department | None:
        """The department ``text`` names: a full path ("A > B > C", any case or spacing around ">"), or a
        node's own name when only one node has it ("Shampoo"); None otherwise."""
        if not text:
            return None
        path = SEPARATOR.join(part.strip() for part in re.split(r"\s*>\s*", text.strip()))
        found = self._by_path.get(path.casefold())
        if found is not None:
            return found
        leaf = self._by_leaf.get(path.split(SEPARATOR)[-1].casefold(), [])
        return leaf[0] if len(leaf) == 1 else None

    def path(self, path: str) -> Department:
        """The department at exactly ``path``; KeyError names a path the taxonomy lacks."""
        found = self._by_path.get(path.casefold())
        if found is None:
            raise KeyError(f"{TAXONOMY_FILE}: no department {path!r}")
        return found


@lru_cache(maxsize=1)
def taxonomy() -> Taxonomy:
    text = resources.files("edge.fusion").joinpath(TAXONOMY_FILE).read_text(encoding="utf-8")
    return Taxonomy(text.splitlines())


@lru_cache(maxsize=1)
def product_types() -> tuple[tuple[str, bool, ProductType], ...]:
    """(word, is Chinese, type) for every word of ``product_types.yaml``, the longest word first."""
    source = "product_types.yaml"
    table = yaml.safe_load(resources.files("edge.fusion").joinpath(source).read_text(encoding="utf-8"))
    words = []
    for name, entry in table.items():
        try:
            kind = ProductType(str(name), str(entry["zh"][0]), taxonomy().path(entry["department"]))
        except (KeyError, IndexError, TypeError) as exc:
            raise ValueError(f"{source}: type {name!r}: {exc}") from None
        words += [(w, False, kind) for w in entry["en"]] + [(w, True, kind) for w in entry["zh"]]
    return tuple(sorted(words, key=lambda w: -len(" ".join(tokens(w[0])))))


@lru_cache(maxsize=1)
def _matchers() -> tuple[tuple[str, bool, ProductType, str, re.Pattern[str] | None], ...]:
    """:func:`product_types` with each word's token key and (Latin words) its whole-word pattern, made once."""
    out = []
    for word, chinese, kind in product_types():
        key = " ".join(tokens(word))
        out.append((word, chinese, kind, key, None if has_cjk(word) else re.compile(rf"\b{re.escape(key)}\b")))
    return tuple(out)


def types_in(text: str, min_cjk: int = 1) -> list[TypeMention]:
    """Product types that words of ``text`` name, the most specific (longest word) first, each type once;
    Chinese words of fewer than ``min_cjk`` characters are left out."""
    if not text:
        return []
    lowered = " ".join(tokens(text))
    found: list[TypeMention] = []
    for word, chinese, kind, key, pattern in _matchers():
        if chinese and len(word) < min_cjk or any(m.type == kind for m in found):
            continue
        if key in lowered if pattern is None else pattern.search(lowered):
            found.append(TypeMention(kind, word, chinese))
    return found


def type_named(value: str | None) -> ProductType | None:
    """The type a value names ("Face Cream", "面霜", "hydrating face cream"), None if none does."""
    mentions = types_in(value or "")
    return mentions[0].type if mentions else None


def type_words(value: str) -> list[str]:
    """The words that name the type ``value`` names (all its English and Chinese words); [value] if none."""
    kind = type_named(value)
    return [word for word, _, k in product_types() if k == kind] if kind else [value]


def same_department(a: Department | None, b: Department | None, min_levels: int = 3) -> bool:
    """Are two departments the same, or one inside the other below the top levels ("... > Skin Care" and
    "... > Skin Care > Sunscreen"; not "Health & Beauty > Personal Care" and any of its many branches)?"""
    if a is None or b is None:
        return False
    short, long = sorted((a.levels, b.levels), key=len)
    return short == long[: len(short)] and (short == long or len(short) >= min_levels)
