"""Turn raw extracted text into clean paragraphs, keeping a map back to the raw characters.

Web pages and PDF dumps arrive with site chrome (breadcrumbs, share prompts, related-article
lists, hosting headers) and extraction artifacts (spaces between CJK characters, page numbers
glued into sentences). Cleaning only ever *drops* or *narrows* characters, so every cleaned
character maps to exactly one raw character and a citation can point at the original bytes.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from qa.text import narrow, to_simplified

# Characters that make a neighbouring space meaningless in Chinese text: ideographs, CJK and
# full-width punctuation, curly quotes.
_WIDE = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef\u2018-\u201f\u2026]")
_SENTENCE_END = "。！？!?…；;"


@dataclass(frozen=True)
class Paragraph:
    start: int  # offsets in the cleaned text
    end: int
    kind: str = "text"  # text | caption


@dataclass
class Cleaned:
    text: str
    offsets: list[int]  # offsets[i] = raw index of cleaned character i
    paragraphs: list[Paragraph]
    removed: list[tuple[int, int, str]] = field(default_factory=list)  # raw spans + reason
    repairs: Counter = field(default_factory=Counter)

    def raw_span(self, start: int, end: int) -> tuple[int, int]:
        """Raw [start, end) covering cleaned [start, end)."""
        if end <= start:
            raw = self.offsets[start] if start < len(self.offsets) else 0
            return raw, raw
        return self.offsets[start], self.offsets[end - 1] + 1


# ---------------------------------------------------------------- line classification

def _any(*words: str) -> Callable[[str], bool]:
    pattern = re.compile("|".join(re.escape(w) for w in words))
    return lambda s: bool(pattern.search(s))


_nav = re.compile(r"^(当前位置|當前位置|您的位置|你的位置|您现在的位置|您現在的位置)\s*[:：]"
                  r"|^(首页|首頁|主页|主頁|网站首页|網站首頁)\s*[>›»/]")
_hosting = _any("上传人", "上傳人", "文档编号", "文檔編號", "上传时间", "上傳時間", "展开阅读全文",
                "展開閱讀全文", "相关资源", "相關資源", "相关搜索", "相關搜索", "资源描述",
                "該文檔總共", "该文档总共", "由会员分享", "由會員分享", "可在线阅读", "下载积分",
                "版权所有", "版權所有", "电脑版", "電腦版", "ICP备", "ICP證", "ICP证",
                "公网安备", "公網安備", "经营许可证", "經營許可證")
_page_count = re.compile(r"第\s*\d+\s*页\s*/\s*共\s*\d+\s*页|_第\d+页$|^第\d+页$")
_download = _any("下载", "下載", "客户端", "客戶端")
_related_head = re.compile(
    r"^(猜你喜欢|猜你喜歡|相关阅读|相關閱讀|相关文章|相關文章|相关推荐|相關推薦|相关新闻|相關新聞"
    r"|延伸阅读|延伸閱讀|热门推荐|熱門推薦|推荐阅读|推薦閱讀|你可能(还|也)?喜欢|更多精彩"
    r"|请您继续阅读|請您繼續閱讀|继续阅读|繼續閱讀)")
_share = _any("分享", "转发", "轉發", "点赞", "點讚", "點贊", "扫码", "掃碼", "二维码", "二維碼",
              "关注我们", "關注我們")
_promo = _any("本站", "小编", "小編")
_disclaimer = re.compile(r"^(免责)?(声明|聲明)[:：]|^(版权|版權)(声明|聲明)|^免責聲明")
_reprint = _any("转载", "轉載")
_reprint_tail = _any("侵权", "侵權", "联系", "聯繫", "删除", "刪除", "来源标注", "來源標註")
_tags = re.compile(r"^(TAG|Tag|tag|标签|標籤|关键词|關鍵詞|关键字|關鍵字)\s*[:：]|[|∣｜]\s*$")
_date_only = re.compile(r"^\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?"
                        r"(\s+\d{1,2}:\d{2}(:\d{2})?)?$")
_issue = re.compile(r"\d{4}\s*年\s*第?\s*\d+\s*期$")
_source = re.compile(r"(来源|來源|出处|出處)\s*[:：]")
_byline = _any("记者", "記者", "编辑", "編輯", "作者", "通讯员", "通訊員")
_caption = re.compile(r"[\u4e00-\u9fff]{1,4}\s*(摄|攝)\s*[)）]?$|^(图为|圖為|图片来源|圖片來源)"
                      r"|[(（]\s*(图|圖|摄|攝)[^)）]{0,12}[)）]$")


def _has_sentence_punct(s: str) -> bool:
    return any(c in s for c in "。！？!?；;")


def classify_line(line: str, title: str = "") -> str:
    """Return 'text', 'caption' or a chrome reason ('nav', 'hosting', ...)."""
    s = line.strip()
    n = len(s)
    if not s:
        return "blank"
    if title and _same_title(s, title):
        return "title"
    if _nav.search(s):
        return "nav"
    if _page_count.search(s) or (_hosting(s) and n <= 120):
        return "hosting"
    if _related_head.match(s):
        return "related"
    if _disclaimer.match(s) or (_reprint(s) and _reprint_tail(s) and n <= 200):
        return "disclaimer"
    if _tags.search(s) and n <= 60:
        return "tags"
    if n <= 12 and _download(s):
        return "download"
    if n <= 80 and (_share(s) or _promo(s)) and not _caption.search(s):
        return "share"
    if _date_only.match(s) or (_issue.search(s) and n <= 30):
        return "meta"
    if n <= 60 and _source.search(s) and not _has_sentence_punct(s):
        return "meta"
    if n <= 40 and _byline(s) and not _has_sentence_punct(s):
        return "meta"
    if _menu_like(s):
        return "nav"
    if _caption.search(s) and n <= 200:
        return "caption"
    return "text"


def _same_title(line: str, title: str) -> bool:
    def key(x: str) -> str:
        return re.sub(r"\W", "", to_simplified(x))
    return key(line) == key(title) and len(key(title)) >= 2


def _menu_like(s: str) -> bool:
    """A row of three or more short words and no punctuation: a menu or toolbar."""
    tokens = s.split()
    return (len(tokens) >= 3 and all(len(t) <= 4 for t in tokens)
            and not re.search(r"[，,。：:；;！？!?“”「」0-9]", s))


def _is_list_title(s: str) -> bool:
    """A line in a related-articles list: a short headline, not a sentence."""
    return len(s) <= 45 and not s.endswith(("。", "：", ":"))


# ---------------------------------------------------------------- PDF artifacts

_PAGE_MARK = re.compile(r"(\d{1,4})、\s*")


def looks_pdf_spaced(text: str) -> bool:
    """Many spaces between two wide characters: text extracted from a PDF layout."""
    wide = len(_WIDE.findall(text))
    gaps = len(re.findall(r"[\u4e00-\u9fff][ \t]+[\u4e00-\u9fff]", text))
    return wide > 0 and gaps >= 3 and gaps / wide >= 0.01


def _page_markers(lines: list[tuple[int, str]]) -> dict[int, int]:
    """Line index -> marker length, for lines opening with a page counter 1、 2、 3、 …

    A document's own numbered list restarts or skips; a page counter rises by exactly one at
    the start of consecutive text blocks, so we require at least three steps in sequence.
    """
    found: dict[int, int] = {}
    expected = 1
    for i, (_, line) in enumerate(lines):
        m = _PAGE_MARK.match(line)
        if m and int(m.group(1)) == expected:
            found[i] = m.end()
            expected += 1
    return found if len(found) >= 3 else {}


# ---------------------------------------------------------------- the cleaner

def _lines_with_offsets(raw: str) -> list[tuple[int, str]]:
    out, pos = [], 0
    for line in raw.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        out.append((pos, body))
        pos += len(line)
    return out


def clean(raw: str, title: str = "", fmt: str = "text") -> Cleaned:
    """Drop chrome lines, repair PDF artifacts, narrow full-width digits and Latin letters."""
    lines = _lines_with_offsets(raw)
    pdf = fmt == "pdf" or looks_pdf_spaced(raw)
    markers = _page_markers(lines) if pdf else {}
    kinds = [classify_line(line, title) for _, line in lines]
    _extend_related_lists(lines, kinds)
    # Only the first title-like line is the headline; a later repeat is content.
    seen_title = False
    for i, k in enumerate(kinds):
        if k == "title":
            if seen_title:
                kinds[i] = "text"
            seen_title = True

    chars: list[str] = []
    offsets: list[int] = []
    paragraphs: list[Paragraph] = []
    removed: list[tuple[int, int, str]] = []
    repairs: Counter = Counter()
    para_start: int | None = None
    para_kind = "text"

    def close_paragraph() -> None:
        nonlocal para_start
        while chars and chars[-1] == " ":
            chars.pop()
            offsets.pop()
        if para_start is not None and len(chars) > para_start:
            paragraphs.append(Paragraph(para_start, len(chars), para_kind))
        para_start = None

    for i, (start, line) in enumerate(lines):
        kind = kinds[i]
        if kind not in ("text", "caption"):
            if kind != "blank":
                removed.append((start, start + len(line), kind))
            continue
        body_from = 0
        continuation = False
        if i in markers:
            removed.append((start, start + markers[i], "page-marker"))
            repairs["page markers removed"] += 1
            body_from = markers[i]
            continuation = para_start is not None and kind == "text" and para_kind == "text"
            nxt = line[body_from:body_from + 1]
            if continuation and chars and chars[-1].isascii() and chars[-1].isalnum() \
                    and nxt.isascii() and nxt.isalnum():
                chars.append(" ")  # keep 'word 12' apart across a page break
                offsets.append(start)
        if not continuation:
            close_paragraph()
            if chars:
                chars.append("\n")
                offsets.append(start - 1 if start > 0 else 0)
            para_start = len(chars)
            para_kind = kind
        _emit_line(line, start, body_from, pdf, chars, offsets, repairs)
    close_paragraph()
    if chars and chars[-1] == "\n":
        chars.pop()
        offsets.pop()
    return Cleaned("".join(chars), offsets, paragraphs, removed, repairs)


def _emit_line(line: str, start: int, body_from: int, pdf: bool,
               chars: list[str], offsets: list[int], repairs: Counter) -> None:
    n = len(line)
    j = body_from
    while j < n:
        ch = line[j]
        if ch.isspace():
            k = j
            while k < n and line[k].isspace():
                k += 1
            prev = chars[-1] if chars and chars[-1] != "\n" else ""
            nxt = line[k] if k < n else ""
            if prev and nxt:
                prev2 = chars[-2] if len(chars) > 1 else ""
                if pdf and (_WIDE.match(prev) or _WIDE.match(nxt)
                            or not (prev.isascii() and nxt.isascii())
                            or (not prev.isalnum() and _WIDE.match(prev2))):
                    repairs["spaces removed"] += 1
                else:
                    chars.append(" ")
                    offsets.append(start + j)
            j = k
            continue
        chars.append(narrow(ch))
        offsets.append(start + j)
        j += 1


def _extend_related_lists(lines: list[tuple[int, str]], kinds: list[str]) -> None:
    """After a 'related articles' heading, the following headline-like lines are the list."""
    for i, k in enumerate(kinds):
        if k != "related":
            continue
        for j in range(i + 1, len(lines)):
            s = lines[j][1].strip()
            if kinds[j] == "blank":
                continue
            if kinds[j] == "text" and not _is_list_title(s):
                break
            if kinds[j] in ("text", "caption"):
                kinds[j] = "related"
