"""Turn files on disk into `Document`s: decoding, format extraction and catalog metadata.

Readers keep `Document.text` exactly as extracted (only decoding and newline normalisation),
because later stages map cleaned offsets back into it for citations.
"""

from __future__ import annotations

import codecs
import copy
import json
import logging
import re
import tomllib
import zipfile
from collections.abc import Iterable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from qa.errors import ReadError
from qa.ingest.documents import Document
from qa.text.normalize import detect_script

log = logging.getLogger(__name__)

SUPPORTED = (".txt", ".md", ".html", ".htm", ".pdf", ".docx", ".jsonl")
CATALOG_NAME = "catalog.toml"
FORMATS = ("web", "pdf", "docx", "text", "markdown")
TITLE_MAX = 60
# Web pages above this are refused before parsing: extraction holds ~45x the file in memory
# (a 10 MB one-line page: ~13 s and 460 MB to extract, 42 s and 750 MB to ingest), and
# libxml2 drops any text node over 10,000,000 bytes (the page came out "empty").
MAX_HTML_MB = 10
# A .docx is unpacked whole into memory: refuse one whose parts declare more than this, or
# a large part compressed more than any real XML is (a zip bomb), before decompressing.
# zipfile itself stops at the declared size of a part that lies about it (a CRC error).
MAX_DOCX_UNPACKED_MB = 200
MAX_DOCX_RATIO = 100  # real Word XML compresses 5-35x
_MB = 1_000_000

_TEXT_SUFFIXES = (".txt", ".md")
_HTML_SUFFIXES = (".html", ".htm")
# Catalog/record keys that map onto Document fields rather than `meta`.
_FIELD_KEYS = ("title", "source", "date", "format")


# --------------------------------------------------------------------------- file discovery


def _unsupported(suffix: str) -> str:
    shown = f"'{suffix}'" if suffix else "(no extension)"
    return f"unsupported file type {shown}; accepted: {', '.join(SUPPORTED)}"


def _is_hidden(path: Path) -> bool:
    return path.name.startswith(".")


def _walk(folder: Path, seen_dirs: set[Path]) -> Iterator[Path]:
    """Depth-first in sorted order; symlinked folders are followed once to avoid loops."""
    real = folder.resolve()
    if real in seen_dirs:
        return
    seen_dirs.add(real)
    for child in sorted(folder.iterdir(), key=lambda p: p.name):
        if _is_hidden(child) or child.name == CATALOG_NAME:
            continue
        if child.is_dir():
            yield from _walk(child, seen_dirs)
        else:
            yield child


def collect_files(paths: Iterable[str | Path]) -> tuple[list[Path], list[ReadError]]:
    """Expand the user's paths into readable files, reporting every problem instead of dropping it.

    Files named explicitly are taken as given; folders contribute their supported files
    (hidden files and catalog.toml are metadata, not documents). Other files found in a
    folder are reported, so a user is told why e.g. a `.doc` was not indexed.
    """
    files: list[Path] = []
    errors: list[ReadError] = []
    seen: set[Path] = set()

    def add(path: Path) -> None:
        key = path.resolve()
        if key not in seen:
            seen.add(key)
            files.append(path)

    for raw in paths:
        path = Path(raw)
        try:
            path.stat()  # is_dir/is_file raise, rather than say False, for e.g. a too-long name
        except FileNotFoundError:
            pass
        except OSError as exc:
            errors.append(ReadError(path, f"cannot access ({exc.strerror or exc})"))
            continue
        if path.is_dir():
            try:
                for child in _walk(path, set()):
                    if child.suffix.lower() in SUPPORTED:
                        add(child)
                    else:
                        errors.append(ReadError(child, _unsupported(child.suffix.lower())))
            except OSError as exc:
                errors.append(ReadError(path, f"cannot list folder ({exc.strerror or exc})"))
        elif path.is_file():
            if path.suffix.lower() in SUPPORTED:
                add(path)
            else:
                errors.append(ReadError(path, _unsupported(path.suffix.lower())))
        elif path.exists():
            errors.append(ReadError(path, "not a regular file or folder"))
        else:
            errors.append(ReadError(path, "no such file or folder"))
    return files, errors


# --------------------------------------------------------------------------- decoding

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


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError as exc:
        raise ReadError(path, f"cannot read file ({exc.strerror or exc})") from exc


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ReadError(path, f"cannot read file ({exc.strerror or exc})") from exc


def _read_text(path: Path, *, html: bool = False) -> tuple[str, str]:
    data = _read_bytes(path)
    try:
        text, encoding = decode_bytes(data, html=html)
    except ValueError as exc:
        raise ReadError(path, "cannot decode text (tried charset detection)") from exc
    return normalize_newlines(text), encoding


# --------------------------------------------------------------------------- titles and ids

_NAV_PREFIX_RE = re.compile(
    r"^(?:(?:app|客户端|客戶端)\s*下[载載]|下[载載]\s*(?:app|客户端|客戶端)"
    r"|(?:当前位置|當前位置|您的位置|你的位置|您现在的位置|您現在的位置|现在位置|現在位置)"
    r"|(?:首页|首頁|主页|主頁|home)\s*[>＞›»/|｜])",
    re.I,
)
_BREADCRUMB_RE = re.compile(r"\s[>＞›»]\s|[>＞›»]{2}")
# fmt: off
_MENU_WORDS = frozenset((
    "返回", "下载", "下載", "相关", "相關", "举报", "舉報", "登录", "登錄", "注册", "註冊",
    "分享", "分享到", "打印", "关闭", "關閉", "收藏", "上一篇", "下一篇", "字号", "字號",
    "大", "中", "小", "网站导航", "網站導航", "首页", "首頁", "English",
))
# fmt: on
_NAV_MAX = 80


def is_navigation(line: str) -> bool:
    """Menu, breadcrumb and app-banner lines that web extraction leaves above headlines."""
    line = line.strip()
    if not line or len(line) > _NAV_MAX:
        return False
    if _NAV_PREFIX_RE.match(line) or len(_BREADCRUMB_RE.findall(line)) >= 2:
        return True
    items = [item for item in re.split(r"[\s|｜]+", line) if item]
    if all(item in _MENU_WORDS for item in items):
        return True
    # "新闻 | 政务 | 服务": three or more short items separated by bars.
    bars = re.split(r"\s*[|｜]\s*", line)
    return len(bars) >= 3 and all(0 < len(item) <= 8 for item in bars)


_DATE_LINE_RE = re.compile(r"^[\d\s:/.\-年月日时分秒時]+$")


# The name of an official document ends with its type: 条例, 实施方案, 统计公报,
# 规划（2021—2025年）. A red-header line (…人民政府办公室文件, …常务委员会公告) names the issuer.
_DOC_TYPE_RE = re.compile(
    r"(?:条例|條例|办法|辦法|规定|規定|细则|細則|方案|规划|規劃|纲要|綱要|意见|意見|决定|決定|通知"
    r"|报告|報告|公报|公報|计划|計劃|白皮书|白皮書)(?:\s*[（(][^）)]{1,20}[)）])?$")
_FORWARDED_RE = re.compile(r"^关于(?:印发|转发|印發|轉發)《(.{4,60}?)》的通知$")
_CJK_SPACE_RE = re.compile(r"(?<=[\u4e00-\u9fff\d])[ \t\u3000]+(?=[\u4e00-\u9fff\d])")


def _named_document(lines: list[str]) -> str | None:
    """The first line among the opening ones that names a document by its type; a notice
    that forwards a document (关于印发《X》的通知) is titled by what it forwards."""
    joined: list[str] = []
    for line in lines:  # a title wrapped inside 《…》 over two lines is one line
        line = _CJK_SPACE_RE.sub("", line)
        if joined and (joined[-1].count("《") > joined[-1].count("》")
                       or joined[-1].endswith("的")):  # …实施方案的 / 通知
            joined[-1] += line
        else:
            joined.append(line)
    for line in joined:
        if not 6 <= len(line) <= TITLE_MAX or re.search(r"[。；;，,]", line) or \
                line.count("《") != line.count("》"):
            continue
        forwarded = _FORWARDED_RE.match(line)
        if forwarded:
            return forwarded.group(1)
        if _DOC_TYPE_RE.search(line):
            return line
    return None


def guess_title(text: str, fallback: str, *, max_lines: int = 5) -> str:
    """First plausible headline: skip navigation and bare dates, but give up on a long line.

    Among the first dozen lines, a line naming a document by its type (…条例, …实施方案)
    wins over a red-header issuer line. A long first real line is body text (e.g. a photo
    caption), not a headline, so the caller's fallback (the file stem) is more honest than a
    truncated sentence.
    """
    opening = []
    for raw in text.split("\n"):
        line = raw.strip().lstrip("#").strip()
        if line and not is_navigation(line) and not _DATE_LINE_RE.match(line):
            opening.append(line)
        if len(opening) >= 12:
            break
    named = _named_document(opening)
    if named:
        return named
    seen = 0
    for raw in text.split("\n"):
        line = raw.strip().lstrip("#").strip()
        if not line:
            continue
        seen += 1
        if seen > max_lines:
            break
        if is_navigation(line) or _DATE_LINE_RE.match(line):
            continue
        return line if len(line) <= TITLE_MAX else fallback
    return fallback


_UNSAFE_ID_RE = re.compile(r"[^\w.\-]")
CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f]+")


def safe_doc_id(name: str) -> str:
    """File names become ids used in citations and index files, so keep them path-safe
    (no separators, no control characters, and never `.` or `..`)."""
    return _UNSAFE_ID_RE.sub("_", name).lstrip(".") or "doc"


# --------------------------------------------------------------------------- catalog


@lru_cache(maxsize=64)
def _load_catalog_cached(path: str, mtime_ns: int, size: int) -> dict[str, dict[str, Any]]:
    del mtime_ns, size  # only part of the cache key, so an edited catalog is re-read
    catalog_path = Path(path)
    try:
        with catalog_path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ReadError(catalog_path, f"malformed catalog: {exc}") from exc
    except OSError as exc:
        raise ReadError(catalog_path, f"cannot read catalog ({exc.strerror or exc})") from exc
    for name, entry in data.items():
        if not isinstance(entry, dict):
            raise ReadError(
                catalog_path, f"malformed catalog: entry '{name}' must be a table of metadata"
            )
        fmt = entry.get("format")
        if fmt is not None and fmt not in FORMATS:
            raise ReadError(
                catalog_path,
                f"malformed catalog: entry '{name}' has format {fmt!r}; "
                f"expected one of {', '.join(FORMATS)}",
            )
    return data


def catalog_entry(path: Path) -> dict[str, Any]:
    """Metadata for `path` from a catalog.toml beside it (empty if there is none)."""
    catalog_path = path.parent / CATALOG_NAME
    try:
        stat = catalog_path.stat()
    except OSError:
        return {}
    catalog = _load_catalog_cached(str(catalog_path), stat.st_mtime_ns, stat.st_size)
    # Deep copy: documents must not share (and mutate) the cached catalog's lists/tables.
    return copy.deepcopy(catalog.get(path.name, {}))


def _as_text(value: Any) -> str:
    """TOML dates arrive as date objects; Document fields are ISO strings."""
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _apply_metadata(doc: Document, entry: dict[str, Any], *, overwrite: bool) -> None:
    for key, value in entry.items():
        if key in _FIELD_KEYS:
            if overwrite or not getattr(doc, key):
                setattr(doc, key, _as_text(value))
        elif overwrite or key not in doc.meta:
            doc.meta[key] = value


# --------------------------------------------------------------------------- format readers


def _read_plain(path: Path) -> Document:
    text, encoding = _read_text(path)
    stem = path.stem
    return Document(
        doc_id=safe_doc_id(stem),
        title=guess_title(text, stem),
        text=text,
        format="text",
        meta={"encoding": encoding},
    )


def _read_markdown(path: Path) -> Document:
    from qa.ingest.markdown import markdown_to_text

    source, encoding = _read_text(path)
    text, heading = markdown_to_text(source)
    stem = path.stem
    return Document(
        doc_id=safe_doc_id(stem),
        title=heading or guess_title(text, stem),
        text=text,
        format="markdown",
        meta={"encoding": encoding},
    )


def _visible_text(html: str) -> tuple[str, str]:
    """Fallback when trafilatura finds no main text: all visible body text, blocks on lines."""
    import lxml.html

    # lxml refuses str input that carries an XML encoding declaration; the text is decoded.
    html = re.sub(r"^\s*<\?xml[^>]*\?>", "", html)
    try:
        root = lxml.html.document_fromstring(html)
    except Exception:  # lxml raises several types for junk input
        return "", ""
    title = (root.findtext(".//title") or "").strip()
    for bad in root.xpath("//script|//style|//noscript|//template|//head"):
        bad.drop_tree()
    blocks = {
        "p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table",
        "section", "article", "header", "footer", "nav", "aside", "blockquote", "pre", "dd",
        "dt", "main", "form", "hr", "td", "th",
    }  # fmt: skip
    parts: list[str] = []

    def walk(el: Any) -> None:
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag in blocks:
            parts.append("\n")
        if el.text and tag:
            parts.append(el.text)
        for child in el:
            walk(child)
            if child.tail:
                parts.append(child.tail)
        if tag in blocks:
            parts.append("\n")

    body = root.find("body")
    walk(body if body is not None else root)
    lines = (re.sub(r"[ \t\u3000\xa0]+", " ", ln).strip() for ln in "".join(parts).split("\n"))
    return "\n".join(ln for ln in lines if ln), title


def _flattened_layout_table(text: str) -> bool:
    """Most of the extracted text sits in one markdown table row holding several sentences."""
    rows = [ln for ln in text.split("\n") if ln.lstrip().startswith("|")]
    if not rows:
        return False
    big = max(rows, key=len)
    sentences = len(re.findall(r"[。！？!?]", big))
    return len(big) >= 0.5 * len(text.strip()) and sentences >= 3


def _read_html(path: Path) -> Document:
    size = _file_size(path)
    if size > MAX_HTML_MB * _MB:
        raise ReadError(path, f"web page too large to extract ({size / _MB:.1f} MB; the limit "
                              f"for {'/'.join(_HTML_SUFFIXES)} is {MAX_HTML_MB} MB): split it "
                              "into smaller pages")
    html, encoding = _read_text(path, html=True)
    import trafilatura

    meta: dict[str, Any] = {"encoding": encoding}
    title = date = source = text = ""
    try:
        result = trafilatura.bare_extraction(
            html,
            favor_recall=True,
            include_comments=False,
            include_tables=True,
            include_images=False,
            include_links=False,
            include_formatting=False,
            with_metadata=True,
        )
    except Exception as exc:  # trafilatura has no documented error type; fall back below
        log.warning("%s: trafilatura failed (%s); using visible text", path, exc)
        result = None
    if result is not None:
        text = normalize_newlines(result.text or "")
        title = (result.title or "").strip()
        date = result.date or ""
        source = (result.sitename or "").strip()
        if result.author:
            meta["author"] = result.author
    fallback_text, html_title = _visible_text(html)
    if not text.strip():
        text = fallback_text
        meta["extraction"] = "visible-text"
    elif _flattened_layout_table(text) and fallback_text.strip():
        # The page is laid out with tables: trafilatura returns it as one table row with the
        # article, the menus and the footer glued into a line. Block-per-line visible text
        # keeps paragraphs apart, so the cleaner can drop the chrome line by line.
        text = fallback_text
        meta["extraction"] = "visible-text (layout table)"
    else:
        meta["extraction"] = "trafilatura"
    stem = path.stem
    return Document(
        doc_id=safe_doc_id(stem),
        title=title or html_title or guess_title(text, stem),
        text=text,
        source=source,
        date=date,
        format="web",
        meta=meta,
    )


def _read_pdf(path: Path) -> Document:
    import pypdf

    try:
        reader = pypdf.PdfReader(path)
        if reader.is_encrypted:
            # Many PDFs are "encrypted" only to set permissions, with an empty user password.
            try:
                ok = reader.decrypt("")
            except Exception as exc:  # DependencyError when AES support is missing
                raise ReadError(path, f"encrypted PDF cannot be opened ({exc})") from exc
            if not ok:
                raise ReadError(path, "encrypted PDF needs a password")
        pages = list(reader.pages)
    except ReadError:
        raise
    except Exception as exc:  # pypdf raises many types (PdfReadError, ValueError, ...)
        raise ReadError(path, f"not a valid PDF: {exc}") from exc

    texts: list[str] = []
    failed: list[int] = []
    for number, page in enumerate(pages, start=1):
        try:
            texts.append(normalize_newlines(page.extract_text() or ""))
        except Exception as exc:  # one bad page should not lose the rest of the document
            log.warning("%s: page %d unreadable (%s)", path, number, exc)
            failed.append(number)
            texts.append("")
    # Scanned pages (no text layer, or only a stamped page number): OCR their images.
    from qa.ingest.ocr import OCRUnavailable, engine_version, ocr_pages

    try:
        ocr_done = ocr_pages(pages, texts, label=path.name)
    except OCRUnavailable as exc:
        raise ReadError(path, f"no text layer, and {exc}") from exc
    failed = [n for n in failed if n not in ocr_done]
    page_starts: list[int] = []
    offset = 0
    for page_text in texts:
        page_starts.append(offset)
        offset += len(page_text) + 2
    text = "\n\n".join(texts)
    meta: dict[str, Any] = {"pages": len(pages), "page_starts": page_starts}
    if failed:
        meta["unreadable_pages"] = failed
    if ocr_done:
        meta["ocr_pages"] = ocr_done
        meta["ocr_engine"] = engine_version()
    if not text.strip():
        if failed and len(failed) == len(pages):
            raise ReadError(path, "not a valid PDF: no page could be read")
        raise ReadError(path, "no extractable text (no text layer, and OCR found no text in "
                              "the page images)")
    title = ""
    try:
        info = reader.metadata
        title = (info.title or "").strip() if info else ""
        created = info.creation_date if info else None
        if created:
            meta["created"] = created.date().isoformat()
    except Exception:  # broken info dictionaries are common and not worth failing for
        pass
    stem = path.stem
    # Producer junk ("Microsoft Word - x.doc", "untitled") is worse than a guessed headline.
    if re.match(r"(?i)^(microsoft \w+ - |untitled$)|.*\.(docx?|pdf|txt)$", title):
        title = ""
    return Document(
        doc_id=safe_doc_id(stem),
        title=title if title and len(title) <= TITLE_MAX * 2 else guess_title(text, stem),
        text=text,
        format="pdf",
        meta=meta,
    )


def _check_docx_archive(path: Path) -> None:
    """Refuse what is not a zip, or would unpack to far more than it holds, from the zip's
    directory alone (nothing is decompressed here)."""
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise ReadError(path, "not a valid DOCX: not a zip archive (a .docx is a zip of XML "
                              "parts; save an old Word .doc as .docx)") from exc
    except OSError as exc:
        raise ReadError(path, f"cannot read file ({exc.strerror or exc})") from exc
    total = sum(part.file_size for part in parts)
    if total > MAX_DOCX_UNPACKED_MB * _MB:
        raise ReadError(path, f"not a valid DOCX: it would unpack to {total / _MB:.0f} MB "
                              f"(limit {MAX_DOCX_UNPACKED_MB} MB); refused as a possible zip "
                              "bomb")
    for part in parts:
        ratio = part.file_size / max(part.compress_size, 1)
        if part.file_size > _MB and ratio > MAX_DOCX_RATIO:
            raise ReadError(path, f"not a valid DOCX: part {part.filename} would expand "
                                  f"{ratio:.0f}x to {part.file_size / _MB:.0f} MB (limit "
                                  f"{MAX_DOCX_RATIO}x); refused as a possible zip bomb")


def _docx_table_lines(table: Any) -> list[str]:
    """A table's rows as lines, each cell next to its column's header
    (qa.ingest.markdown.table_row): a figure stays with the indicator and the year it belongs
    to."""
    from qa.ingest.markdown import is_header_row, table_row

    rows = []
    for row in table.rows:
        cells, previous = [], None
        for cell in row.cells:
            if cell._tc is previous:  # merged cells repeat; keep one copy
                continue
            previous = cell._tc
            cells.append(cell.text.strip())
        rows.append(cells)
    if not rows:
        return []
    header = rows[0] if len(rows) > 1 and is_header_row(rows[0]) else []
    body = rows[1:] if header else rows
    return ([" ".join(header)] if header else []) + [table_row(header, r) for r in body]


def _read_docx(path: Path) -> Document:
    import docx
    from docx.table import Table

    _check_docx_archive(path)
    try:
        document = docx.Document(str(path))
    except Exception as exc:  # zip, XML and package errors all mean the same to a user
        raise ReadError(path, f"not a valid DOCX: {exc}") from exc
    lines: list[str] = []
    first_paragraph = ""
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            lines.extend(_docx_table_lines(block))
        else:
            lines.append(block.text)
            if not first_paragraph and block.text.strip():
                first_paragraph = block.text.strip()
    text = normalize_newlines("\n".join(lines))
    props = document.core_properties
    meta: dict[str, Any] = {}
    if props.created:
        meta["created"] = props.created.date().isoformat()
    if props.author:
        meta["author"] = props.author
    stem = path.stem
    if props.title and props.title.strip():
        title = props.title.strip()
    elif first_paragraph and len(first_paragraph) <= TITLE_MAX:
        title = first_paragraph
    else:
        title = stem
    return Document(doc_id=safe_doc_id(stem), title=title, text=text, format="docx", meta=meta)


def _read_jsonl(path: Path) -> list[Document]:
    """One document per line. Bad lines fail the whole file (all of them listed): silently
    indexing part of a collection would give answers that quietly miss documents."""
    text, encoding = _read_text(path)
    docs: list[Document] = []
    problems: list[str] = []
    first_line_of: dict[str, int] = {}
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"line {number}: not valid JSON ({exc.msg})")
            continue
        if not isinstance(record, dict):
            problems.append(f"line {number}: expected a JSON object")
            continue
        try:
            doc = _record_document(record, number)
        except ValueError as exc:
            problems.append(str(exc))
            continue
        if doc.doc_id in first_line_of:
            problems.append(
                f"line {number}: duplicate id '{doc.doc_id}' (first on line "
                f"{first_line_of[doc.doc_id]})"
            )
            continue
        first_line_of[doc.doc_id] = number
        doc.meta.setdefault("encoding", encoding)
        doc.meta["line"] = number
        docs.append(doc)
    if problems:
        more = f" (and {len(problems) - 1} more bad lines)" if len(problems) > 1 else ""
        raise ReadError(path, problems[0] + more)
    if not docs:
        raise ReadError(path, "empty document: no records")
    return docs


def _record_document(record: dict[str, Any], number: int) -> Document:
    for key in ("id", "title", "text"):
        if key not in record:
            raise ValueError(f"line {number}: missing field '{key}'")
    doc_id = record["id"]
    if isinstance(doc_id, bool) or not isinstance(doc_id, str | int) or not str(doc_id).strip():
        raise ValueError(f"line {number}: field 'id' must be a non-empty string or integer")
    if CONTROL_CHARS.search(str(doc_id)):
        raise ValueError(f"line {number}: field 'id' must not contain control characters")
    for key in ("title", "text"):
        if not isinstance(record[key], str):
            raise ValueError(f"line {number}: field '{key}' must be a string")
    text = normalize_newlines(record["text"])
    if not text.strip():
        raise ValueError(f"line {number}: empty text")
    fmt = record.get("format", "text")
    if fmt not in FORMATS:
        raise ValueError(f"line {number}: format must be one of {', '.join(FORMATS)}")
    extra = record.get("meta")
    meta = dict(extra) if isinstance(extra, dict) else {}
    for key, value in record.items():
        if key in ("id", "text", *_FIELD_KEYS) or (key == "meta" and isinstance(value, dict)):
            continue
        meta[key] = value
    return Document(
        doc_id=str(doc_id),
        title=record["title"].strip() or str(doc_id),
        text=text,
        source=_as_text(record.get("source") or ""),
        date=_as_text(record.get("date") or ""),
        format=fmt,
        meta=meta,
    )


# --------------------------------------------------------------------------- entry point


def read_file(path: Path) -> list[Document]:
    """Read one file into documents (one per file; one per line for .jsonl).

    Every failure is a ReadError naming the file, so a caller can report it and go on.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise ReadError(path, _unsupported(suffix))
    if not path.exists():
        raise ReadError(path, "no such file or folder")
    if not path.is_file():
        raise ReadError(path, "not a regular file")
    entry = catalog_entry(path)

    if suffix == ".jsonl":
        docs = _read_jsonl(path)
        # A catalog entry for a .jsonl gives defaults; each record's own values win, and a
        # single catalog title cannot name many records.
        defaults = {k: v for k, v in entry.items() if k != "title"}
        for doc in docs:
            _apply_metadata(doc, defaults, overwrite=False)
    else:
        if suffix == ".md":
            doc = _read_markdown(path)
        elif suffix in _TEXT_SUFFIXES:
            doc = _read_plain(path)
        elif suffix in _HTML_SUFFIXES:
            doc = _read_html(path)
        elif suffix == ".pdf":
            doc = _read_pdf(path)
        else:
            doc = _read_docx(path)
        if not doc.text.strip():
            raise ReadError(path, "empty document")
        _apply_metadata(doc, entry, overwrite=True)
        docs = [doc]

    for doc in docs:
        doc.path = str(path)
        # A title is one line of text: a file name or record may carry newlines, tabs, escapes.
        doc.title = CONTROL_CHARS.sub(" ", doc.title).strip() or doc.doc_id
        doc.meta.setdefault("script", detect_script(doc.text))
    return docs
