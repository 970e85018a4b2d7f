"""Script conversion and width normalisation shared by cleaning, search and answers."""

from __future__ import annotations

import json
import re
import unicodedata
from functools import lru_cache
from importlib import resources

CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_RE = re.compile(f"[{CJK}]")


@lru_cache(maxsize=2)
def _converter(config: str):
    from opencc import OpenCC

    return OpenCC(config)


def to_simplified(text: str) -> str:
    """OpenCC t2s; a text with nothing it would change is returned as it is (the pure-Python
    conversion costs ~1.5 ms per 1,000 characters, and 99% of Simplified news needs none)."""
    triggers = _t2s_triggers()
    if triggers is not None:
        chars, phrases = triggers
        if chars.isdisjoint(text) and not any(
                ch in text and any(p in text for p in keys) for ch, keys in phrases.items()):
            return text
    return _converter("t2s").convert(text)


@lru_cache(maxsize=1)
def _t2s_triggers() -> tuple[frozenset[str], dict[str, tuple[str, ...]]] | None:
    """What can make the t2s conversion of qa.text.normalize change a text: characters, and phrases.

    Read from OpenCC's t2s dictionaries. A mapping that changes a text changes some of its
    characters; when one of those is itself converted (乾, 後) the character is a trigger,
    otherwise (覆 in 答覆 -> 答复, but 覆盖 stays) the whole phrase is, listed under one of its
    changed characters. A text with no trigger converts to itself. None when the dictionaries
    cannot be read: then every text takes the full conversion.
    """
    try:
        root = resources.files("opencc")
        config = json.loads((root / "config" / "t2s.json").read_text("utf-8"))
        files: set[str] = set()

        def collect(node: object) -> None:
            if isinstance(node, dict):
                if node.get("type") == "txt" and isinstance(node.get("file"), str):
                    files.add(node["file"])
                for value in node.values():
                    collect(value)
            elif isinstance(node, list):
                for value in node:
                    collect(value)

        collect(config)
        changes: list[tuple[str, set[str]]] = []  # (key, its characters the mapping changes)
        for name in sorted(files):
            for line in (root / "dictionary" / name).read_text("utf-8").splitlines():
                key, _, values = line.partition("\t")
                value = values.strip().split(" ")[0]
                if key and value != key:
                    changed = ({k for k, v in zip(key, value, strict=True) if k != v}
                               if len(key) == len(value) else set(key))
                    changes.append((key, changed))
    except (ImportError, OSError, ValueError, TypeError):
        return None
    chars = frozenset(key for key, _ in changes if len(key) == 1)
    phrases: dict[str, list[str]] = {}
    for key, changed in changes:
        if len(key) > 1 and not changed & chars:
            phrases.setdefault(min(changed), []).append(key)
    if not chars:
        return None
    return chars, {ch: tuple(keys) for ch, keys in phrases.items()}



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


@lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """The form every comparison uses: NFKC, Simplified script, lower case."""
    return to_simplified(unicodedata.normalize("NFKC", text)).lower()
