"""Script conversion and width normalisation shared by cleaning, search and answers."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_RE = re.compile(f"[{CJK}]")


@lru_cache(maxsize=2)
def _converter(config: str):
    from opencc import OpenCC

    return OpenCC(config)


def to_simplified(text: str) -> str:
    return _converter("t2s").convert(text)


def to_traditional(text: str) -> str:
    return _converter("s2t").convert(text)


def is_cjk(ch: str) -> bool:
    return bool(_CJK_RE.match(ch))


def detect_script(text: str) -> str:
    """'traditional' when converting to Simplified changes a noticeable share of Han characters.

    A few Traditional forms appear in Simplified text (names, quotes), so one changed character
    must not flip a document; 3% of Han characters does.
    """
    han = _CJK_RE.findall(text)
    if not han:
        return "simplified"
    sample = "".join(han[:5000])
    changed = sum(a != b for a, b in zip(sample, to_simplified(sample), strict=False))
    return "traditional" if changed / len(sample) >= 0.03 else "simplified"


def narrow(ch: str) -> str:
    """NFKC for full-width digits, Latin letters and spaces only; Chinese punctuation stays."""
    o = ord(ch)
    if 0xFF10 <= o <= 0xFF19 or 0xFF21 <= o <= 0xFF3A or 0xFF41 <= o <= 0xFF5A:
        return unicodedata.normalize("NFKC", ch)
    if ch in "\u3000\u00a0":
        return " "
    return ch


def normalize_query(text: str) -> str:
    """What search compares: NFKC, Simplified script, no surrounding space."""
    return to_simplified(unicodedata.normalize("NFKC", text)).strip()
