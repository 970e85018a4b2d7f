"""Bytes of unknown encoding to text: BOMs, strict UTF-8, a declared HTML charset, a
detector's guess and the Chinese legacy encodings, each candidate checked for mojibake. Also
the file reads every format shares, so each failure names its file (ReadError)."""

from __future__ import annotations

import codecs
import logging
import re
from functools import lru_cache
from pathlib import Path

from qa.errors import ReadError

log = logging.getLogger(__name__)

MB = 1_000_000  # file size limits are in decimal megabytes

_BOMS = (  # UTF-32 first: its little-endian BOM starts with the UTF-16 one.
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_FALLBACKS = ("utf-8", "gb18030", "big5")
# Decode with the superset of what the detector names, so rare characters do not fail.
_SUPERSET = {"gb2312": "gb18030", "gbk": "gb18030", "big5": "big5", "cp950": "cp950"}
_HTML_CHARSET_RE = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.I)

# Characters that do not occur in real Chinese prose but do in a wrong decoding of it:
# kana, bopomofo, Hangul, Greek/Cyrillic, box drawing, private use, controls.
_MOJIBAKE_RE = re.compile(
    "[\u0370-\u04ff\u2500-\u257f\u3040-\u30ff\u3100-\u312f\u3130-\u318f"
    "\uac00-\ud7af\ue000-\uf8ff\uff61-\uff9f\ufffd\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]"
)
_HAN_RE = re.compile("[\u3400-\u9fff\uf900-\ufaff]")


@lru_cache(maxsize=8192)
def _is_common_han(ch: str) -> bool:
    """In GB2312 level 1 or Big5 level 1: the ~6000 characters that make up ordinary text.

    A wrong GBK/Big5 decoding yields valid but mostly rare characters, which this exposes.
    """
    try:
        if 0xB0 <= ch.encode("gb2312")[0] <= 0xD7:
            return True
    except UnicodeEncodeError:
        pass
    try:
        return 0xA4 <= ch.encode("big5")[0] <= 0xC6
    except UnicodeEncodeError:
        return False


def _mojibake_score(text: str, sample: int = 20000) -> float:
    """Share of suspicious characters among the non-ASCII ones (0 = looks like real text)."""
    bad = considered = 0
    for ch in text[:sample]:
        if ch < "\x80" and not _MOJIBAKE_RE.match(ch):
            continue
        considered += 1
        if _MOJIBAKE_RE.match(ch) or (_HAN_RE.match(ch) and not _is_common_han(ch)):
            bad += 1
    return bad / considered if considered else 0.0


_MOJIBAKE_LIMIT = 0.15


def _try_decode(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def decode_bytes(data: bytes, *, html: bool = False) -> tuple[str, str]:
    """Decode bytes of unknown encoding to (text, encoding name).

    Order: BOM, strict UTF-8 (valid UTF-8 is almost never anything else), a declared HTML
    charset, charset-normalizer's best guess, then gb18030 and big5. Detectors mis-guess short
    Chinese texts (e.g. as Korean), so each candidate must also look like real text.
    Raises ValueError when nothing decodes.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            text = _try_decode(data, encoding)
            if text is not None:
                return text.lstrip("\ufeff"), encoding
    text = _try_decode(data, "utf-8")
    if text is not None and "\x00" not in text:  # NULs: UTF-16 without a BOM
        return text.lstrip("\ufeff"), "utf-8"

    candidates: list[str] = []
    if html:
        match = _HTML_CHARSET_RE.search(data[:4096])
        if match:
            candidates.append(match.group(1).decode("ascii").lower())
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is not None:
        candidates.append(best.encoding)
    candidates.extend(_FALLBACKS)

    # Rank every candidate rather than trusting the first that decodes: a wrong guess often
    # decodes without error into plausible-looking (e.g. Japanese) characters.
    scored: list[tuple[float, int, str, str]] = []
    tried: set[str] = set()
    for order, name in enumerate(candidates):
        try:
            encoding = codecs.lookup(_SUPERSET.get(name.lower(), name)).name
        except LookupError:
            continue
        if encoding in tried:
            continue
        tried.add(encoding)
        text = _try_decode(data, encoding)
        if text is not None:
            scored.append((_mojibake_score(text), order, text, encoding))
    if not scored:
        raise ValueError("no candidate encoding decodes the bytes")
    score, _, text, encoding = min(scored)
    if score > _MOJIBAKE_LIMIT:
        log.warning("unsure of text encoding; using %s (mojibake score %.2f)", encoding, score)
    return text.lstrip("\ufeff"), encoding


def normalize_newlines(text: str) -> str:
    """One line-ending convention, so offsets and line-based heuristics agree across files."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def file_size(path: Path) -> int:
    """Size in bytes, for the limits checked before a file is read."""
    try:
        return path.stat().st_size
    except OSError as exc:
        raise ReadError(path, f"cannot read file ({exc.strerror or exc})") from exc


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ReadError(path, f"cannot read file ({exc.strerror or exc})") from exc


def read_text(path: Path, *, html: bool = False) -> tuple[str, str]:
    """(text, encoding) of a text file; `html` also tries the page's declared charset."""
    data = _read_bytes(path)
    try:
        text, encoding = decode_bytes(data, html=html)
    except ValueError as exc:
        raise ReadError(path, "cannot decode text (tried charset detection)") from exc
    return normalize_newlines(text), encoding
