"""Text as the claim matcher compares it: full-width forms folded (NFKC), lower case, traditional Chinese
characters as simplified (OpenCC ``t2s``), and Chinese without the spaces OCR and ASR put between
characters; Latin words keep single spaces so that terms match as whole words."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from edge.text import CJK_UNIFIED, char_class, has_cjk

_CJK = char_class((CJK_UNIFIED,))
_SPACE_IN_CJK = re.compile(rf"(?<=[{_CJK}])\s+(?=[{_CJK}])")


@lru_cache(maxsize=1)
def _to_simplified():
    import opencc

    return opencc.OpenCC("t2s").convert


@lru_cache(maxsize=4096)  # rule terms are normalised again for every reading
def normalise(text: str) -> str:
    """'國家級 ' -> '国家级', 'ＢＥＳＴ  Seller' -> 'best seller', '最 佳' -> '最佳'."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = _to_simplified()(text)
    text = _SPACE_IN_CJK.sub("", text)
    return " ".join(text.split())



def contains(text: str, word: str) -> bool:
    """``word`` occurs in ``text`` (both normalised): anywhere for Chinese, as whole words for Latin."""
    if has_cjk(word):
        return word in text
    return re.search(rf"(?<![a-z0-9]){re.escape(word)}(?![a-z0-9])", text) is not None
