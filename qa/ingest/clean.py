"""Turn raw extracted text into clean paragraphs, keeping a map back to the raw characters.

Web pages and PDF dumps arrive with site chrome (toolbars, breadcrumbs, related-article
lists, footers, credits glued to the last sentence) and extraction artifacts (spaces between
CJK characters, page numbers and running headers, lines wrapped mid-sentence). Chrome is
recognised by its shape (`qa.ingest.boilerplate`) and, within a batch, by repetition across
documents; PDF artifacts are recognised statistically, whatever the layout. Cleaning only
ever *drops* or *narrows* characters, so every cleaned character maps to exactly one raw
character and a citation can point at the original bytes.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from qa.ingest.boilerplate import (
    FOOTER_ANCHOR,
    Boilerplate,
    has_sentence_punct,
    is_content_line,
    is_dated_item,
    is_headline_like,
    is_nav_item,
    line_key,
    line_shape,
    peel_head,
    peel_tail,
)
from qa.text.normalize import narrow, to_simplified

# Characters that make a neighbouring space meaningless in Chinese text: ideographs, CJK and
# full-width punctuation, curly quotes.
_WIDE = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef\u2018-\u201f\u2026]")
_SENTENCE_END = "。！？!?…；;"
# What counts as evidence that a text was extracted from a PDF; only these raise the
# pdf-extraction flag (removing web chrome never does).
PDF_REPAIRS = ("spaces removed", "page markers removed", "page footers removed",
               "running headers removed", "wrapped lines joined")
_CHROME_KEEP = ("text", "caption")


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
    repairs: Counter = field(default_factory=Counter)  # PDF repairs only (see PDF_REPAIRS)

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


_nav = re.compile(r"^(当前位置|當前位置|您的位置|你的位置|您现在的位置|您現在的位置|您当前的位置"
                  r"|您當前的位置|现在位置|現在位置)\s*[:：]"
                  r"|^(首页|首頁|主页|主頁|网站首页|網站首頁)\s*[>›»/]")
_breadcrumb = re.compile(r"^(\S{1,15}\s*[>›»]\s*){2,}\S{1,15}$")
# Document-hosting and site-registration furniture: never words of an article.
_hosting = _any("上传人", "上傳人", "文档编号", "文檔編號", "上传时间", "上傳時間", "展开阅读全文",
                "展開閱讀全文", "相关资源", "相關資源", "相关搜索", "相關搜索", "资源描述",
                "該文檔總共", "该文档总共", "由会员分享", "由會員分享", "可在线阅读", "下载积分",
                "ICP备", "ICP證", "ICP证", "公网安备", "公網安備", "经营许可证", "經營許可證")
# Footer words an article may use in a sentence: chrome only on a line without a statement.
_footer = _any("版权所有", "版權所有", "电脑版", "電腦版")
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
_to_reader = _any("请", "請", "如有", "若有", "如需", "您")
_tags = re.compile(r"^(TAG|Tag|tag|标签|標籤|关键词|關鍵詞|关键字|關鍵字)\s*[:：]|[|∣｜]\s*$")
_date_only = re.compile(r"^\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?"
                        r"(\s+\d{1,2}:\d{2}(:\d{2})?)?\s*([(（](星期|周|週)[一二三四五六日天][)）])?$")
_issue = re.compile(r"\d{4}\s*年\s*第?\s*\d+\s*期$")
# the date an official document is signed with (2024年3月8日 on its own line) is content: it
# answers 哪天印发的; a site's time stamp (2024-03-15 10:23, …(星期五)) is page chrome
_signed_date = re.compile(r"\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日")
_source = re.compile(r"(来源|來源|出处|出處)\s*[:：]")
_byline = _any("记者", "記者", "编辑", "編輯", "作者", "通讯员", "通訊員")
_caption = re.compile(r"[\u4e00-\u9fff]{1,4}\s*(摄|攝)\s*[)）]?$|^(图为|圖為|图片来源|圖片來源)"
                      r"|[(（]\s*(图|圖|摄|攝)[^)）]{0,12}[)）]$")


def _has_sentence_punct(s: str) -> bool:
    return has_sentence_punct(s)


def _prompt(s: str) -> bool:
    """A call to the reader (喜欢这篇文章吗?分享给朋友吧!), not a statement ending in 。."""
    return "。" not in s and s.rstrip().endswith(("!", "！", "?", "？", "吧"))


def classify_line(line: str, title: str = "") -> str:
    """Return 'text', 'caption' or a chrome reason ('nav', 'toolbar', 'page-footer', ...)."""
    s = line.strip()
    n = len(s)
    if not s:
        return "blank"
    if title and _same_title(s, title):
        return "title"
    if _nav.search(s) or (n <= 80 and _breadcrumb.match(s) and not _has_sentence_punct(s)):
        return "nav"
    shape = line_shape(s)
    if shape:
        return shape
    statement = "。" in s
    if n <= 120 and (_page_count.search(s) or _hosting(s) or (_footer(s) and not statement)):
        return "hosting"
    if n <= 60 and _related_head.match(s) and not _has_sentence_punct(s):
        return "related"
    if (n <= 300 and _disclaimer.match(s)) \
            or (n <= 200 and _reprint(s) and _reprint_tail(s) and _to_reader(s)):
        return "disclaimer"
    if _tags.search(s) and n <= 60:
        return "tags"
    if n <= 12 and _download(s) and not _has_sentence_punct(s):
        return "download"
    if n <= 80 and (_share(s) or _promo(s)) and _prompt(s) and not _caption.search(s):
        return "share"
    if _date_only.match(s) and not _signed_date.fullmatch(s):
        return "meta"
    if _issue.search(s) and n <= 30:
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
    return len(line) <= 3 * len(title) + 10 and key(line) == key(title) and len(key(title)) >= 2


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
_CJK = "\u4e00-\u9fff"
_SP = "[ \t\u3000\xa0]+"
_CC_SPACED = re.compile(f"(?<=[{_CJK}]){_SP}(?=[{_CJK}])")
_CC_TIGHT = re.compile(f"(?<=[{_CJK}])(?=[{_CJK}])")
_P_SPACED = re.compile(f"(?<=[{_CJK}])[，。、；：！？,.;:!?]{_SP}(?=\\S)")
_P_TIGHT = re.compile(f"(?<=[{_CJK}])[，。、；：！？,.;:!?](?=\\S)")


def spacing_evidence(text: str) -> dict[str, float]:
    """How a text is spaced: shares of CJK–space–CJK and punctuation–space pairs.

    Chinese prose has no spaces inside sentences. A PDF text layer has them after every
    character, or after every punctuation mark, depending on the producer; either share far
    above zero says the text came out of a page layout.
    """
    cc_s, cc_t = len(_CC_SPACED.findall(text)), len(_CC_TIGHT.findall(text))
    p_s, p_t = len(_P_SPACED.findall(text)), len(_P_TIGHT.findall(text))
    return {"cjk_gaps": cc_s, "cjk_gap_share": cc_s / max(1, cc_s + cc_t),
            "punct_gaps": p_s, "punct_gap_share": p_s / max(1, p_s + p_t)}


def looks_pdf_spaced(text: str) -> bool:
    """Spaces between CJK characters or after punctuation throughout: a PDF text layer."""
    e = spacing_evidence(text)
    return ((e["cjk_gaps"] >= 5 and e["cjk_gap_share"] >= 0.2)
            or (e["punct_gaps"] >= 5 and e["punct_gap_share"] >= 0.5))


def _despace(line: str) -> str:
    """The line without spaces next to wide characters (what a PDF line says)."""
    return re.sub(f"{_SP}(?={_WIDE.pattern})|(?<={_WIDE.pattern}){_SP}", "", line)


def _page_markers(lines: list[tuple[int, str]], strict: bool = False) -> dict[int, int]:
    """Line index -> marker length, for lines opening with a page counter 1、 2、 3、 …

    A document's own numbered list restarts or skips; a page counter rises by exactly one at
    the start of consecutive text blocks, so we require at least three steps in sequence.
    Without other PDF evidence (`strict`) the blocks must also be page-sized and the
    counters must cut sentences in half, which list items never do.
    """
    found: dict[int, int] = {}
    expected = 1
    for i, (_, line) in enumerate(lines):
        m = _PAGE_MARK.match(line)
        if m and int(m.group(1)) == expected:
            found[i] = m.end()
            expected += 1
    if len(found) < 3:
        return {}
    if strict:
        idx = sorted(found)
        sizes = sorted(len(lines[i][1]) for i in idx)
        cut = sum(1 for a in idx[:-1]
                  if not lines[a][1].rstrip().endswith(tuple(_SENTENCE_END)))
        if sizes[len(sizes) // 2] < 150 or cut < (len(idx) - 1) / 2:
            return {}
    return found


def _running_headers(probes: list[str], kinds: list[str], pages: int, fmt: str) -> set[int]:
    """Lines repeated at page tops: the same short line on every page of the document."""
    seen: dict[str, list[int]] = {}
    for i, (p, k) in enumerate(zip(probes, kinds, strict=True)):
        key = re.sub(r"\s", "", p)
        if k in ("text", "title") and 4 <= len(key) <= 60 and not is_content_line(key) \
                and len(re.findall(f"[{_CJK}]", key)) >= 2:
            seen.setdefault(key, []).append(i)
    out: set[int] = set()
    for idx in seen.values():
        if len(idx) >= 3 or (len(idx) >= 2 and (pages >= 2 or fmt == "pdf")):
            if fmt == "docx" and pages < 2:
                continue
            out.update(idx)
    return out


# ---------------------------------------------------------------- the cleaner

def _lines_with_offsets(raw: str) -> list[tuple[int, str]]:
    out, pos = [], 0
    for line in raw.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        out.append((pos, body))
        pos += len(line)
    return out


def _edge_zones(probes: list[str], kinds: list[str], fmt: str) -> None:
    """Chrome around the main text: menus before the first sentence, link lists and footer
    blocks after the last. Only the edges are judged, so a table or a list of short headings
    inside the article is never touched."""
    if fmt not in ("web", "text"):
        return
    content = [i for i, k in enumerate(kinds) if k == "text" and is_content_line(probes[i])]
    if not content:
        return
    first, last = content[0], content[-1]

    # A vertical menu: four or more one-word lines before the first sentence.
    run: list[int] = []
    for i in [*range(first), first]:
        k = kinds[i]
        if i < first and k == "text" and is_nav_item(probes[i]):
            run.append(i)
            continue
        if i < first and k not in ("text", "caption", "title"):
            continue  # blank or chrome lines do not end a menu
        if len(run) >= 4:
            for j in run:
                kinds[j] = "nav"
        run = []

    # A link list: headlines (with dates) after the last sentence.
    run = []
    for i in [*range(last + 1, len(kinds)), len(kinds)]:
        k = kinds[i] if i < len(kinds) else "end"
        if k == "text" and (is_headline_like(probes[i]) or is_dated_item(probes[i])):
            run.append(i)
            continue
        if k not in ("text", "caption", "end"):
            continue
        dated = sum(is_dated_item(probes[j]) for j in run)
        if len(run) >= 4 or (dated >= 2 and dated == len(run)):
            for j in run:
                kinds[j] = "related"
        run = []

    # A footer block: lines next to 主办单位 / ICP备 / 版权所有 at the end of the page.
    anchors = [i for i in range(last + 1, len(kinds))
               if FOOTER_ANCHOR.search(probes[i]) and not has_sentence_punct(probes[i])]
    for a in anchors:
        if kinds[a] == "text":
            kinds[a] = "footer"
        for step in (-1, 1):
            j = a + step
            while last < j < len(kinds) and kinds[j] in ("text", "blank") \
                    and not is_content_line(probes[j]):
                if kinds[j] == "text":
                    kinds[j] = "footer"
                j += step


def clean(raw: str, title: str = "", fmt: str = "text",
          boilerplate: Boilerplate | None = None) -> Cleaned:
    """Drop chrome, repair PDF artifacts, narrow full-width digits and Latin letters.

    `boilerplate` carries what the document's batch repeats (`qa.ingest.boilerplate.learn`);
    without it the document is cleaned by shape alone.
    """
    lines = _lines_with_offsets(raw)
    kinds = [classify_line(line, title) for _, line in lines]
    body = "\n".join(line for (_, line), k in zip(lines, kinds, strict=True) if k in _CHROME_KEEP)
    spaced = looks_pdf_spaced(body)
    despace = spaced or fmt == "pdf"
    probes = [_despace(line) if despace else line for _, line in lines]
    if despace:
        kinds = [classify_line(p, title) for p in probes]

    footers = [i for i, k in enumerate(kinds) if k == "page-footer"]
    markers = _page_markers(lines, strict=not despace)
    pdf = fmt == "pdf" or spaced or bool(markers) or len(footers) >= 2
    despace = despace or pdf
    if despace:
        probes = [_despace(line) for _, line in lines]
    for i in _running_headers(probes, kinds, len(footers) + len(markers), fmt):
        kinds[i] = "running-header"

    repeated_line = boilerplate.lines if boilerplate else frozenset()
    if repeated_line:
        own = [i for i, k in enumerate(kinds) if k == "text" and is_content_line(probes[i])
               and line_key(lines[i][1]) not in repeated_line]
        for i, (_, line) in enumerate(lines):
            # A line the batch repeats is the site's template when it sits outside the
            # document's own text (header, footer); inside it, it may be a shared heading.
            if own and kinds[i] in _CHROME_KEEP and line_key(line) in repeated_line \
                    and not own[0] < i < own[-1]:
                kinds[i] = "repeated"

    _extend_related_lists(lines, kinds)
    _edge_zones(probes, kinds, fmt)
    # A prompt (…分享给朋友吧!) between two sentences of the article is the article's own.
    own = [i for i, k in enumerate(kinds) if k == "text" and is_content_line(probes[i])]
    for i, k in enumerate(kinds):
        if k == "share" and own and own[0] < i < own[-1]:
            kinds[i] = "text"
    # Only the first title-like line is the headline; a later repeat is content.
    seen_title = False
    for i, k in enumerate(kinds):
        if k == "title":
            if seen_title:
                kinds[i] = "text"
            seen_title = True
    # A document that is only its headline (a one-sentence note whose title was guessed from
    # it) is still a document: the line is its text.
    if seen_title and not any(k in ("text", "caption") for k in kinds):
        kinds = ["text" if k == "title" else k for k in kinds]

    # Chrome glued to the first and last line of text (credits, share prompts, timestamps).
    head_cut: dict[int, int] = {}
    tail_cut: dict[int, int] = {}
    text_lines = [i for i, k in enumerate(kinds) if k == "text"]
    if text_lines and not pdf:
        heads = boilerplate.heads if boilerplate else frozenset()
        tails = boilerplate.tails if boilerplate else frozenset()
        first, last = text_lines[0], text_lines[-1]
        cut = peel_tail(lines[last][1], tails)
        if cut < len(lines[last][1]):
            tail_cut[last] = cut
        head = peel_head(lines[first][1], heads)
        if head and (first != last or head < tail_cut.get(last, len(lines[first][1]))):
            head_cut[first] = head

    joinable = _wrapped_lines(probes, kinds) if pdf else set()

    chars: list[str] = []
    offsets: list[int] = []
    paragraphs: list[Paragraph] = []
    removed: list[tuple[int, int, str]] = []
    repairs: Counter = Counter()
    para_start: int | None = None
    para_kind = "text"
    prev_text: int | None = None

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
        if kind not in _CHROME_KEEP:
            if kind != "blank":
                removed.append((start, start + len(line), kind))
                if pdf and kind in ("page-footer", "running-header"):
                    repairs[f"{kind.replace('-', ' ')}s removed"] += 1
            continue
        body_from = head_cut.get(i, 0)
        body_to = tail_cut.get(i, len(line))
        if body_from:
            removed.append((start, start + body_from, "leading-chrome"))
        if body_to < len(line):
            removed.append((start + body_to, start + len(line), "trailing-chrome"))
        continuation = False
        if i in markers:
            removed.append((start, start + markers[i], "page-marker"))
            repairs["page markers removed"] += 1
            body_from = markers[i]
            continuation = para_start is not None and kind == "text" and para_kind == "text"
        elif (prev_text in joinable and kind == "text" and para_start is not None
              and para_kind == "text" and _starts_continuation(probes[i])):
            continuation = True
            repairs["wrapped lines joined"] += 1
        if continuation:
            nxt = line[body_from:body_from + 1]
            prev = chars[-1] if chars else ""
            if prev.isascii() and prev.isalnum() and nxt.isascii() and nxt.isalnum() \
                    and not (prev.isdigit() and nxt.isdigit()):
                chars.append(" ")  # keep 'word 12' apart across a line or page break
                offsets.append(start)
        else:
            close_paragraph()
            if chars:
                chars.append("\n")
                offsets.append(start - 1 if start > 0 else 0)
            para_start = len(chars)
            para_kind = kind
        _emit_line(line[:body_to], start, body_from, despace, chars, offsets, repairs)
        prev_text = i if kind == "text" else None
    close_paragraph()
    if chars and chars[-1] == "\n":
        chars.pop()
        offsets.pop()
    return Cleaned("".join(chars), offsets, paragraphs, removed, repairs)


_ENUM = re.compile(r"^\s*([一二三四五六七八九十]+[、.．]|[(（][一二三四五六七八九十\d]+[)）]"
                   r"|\d+[、.．](?!\d)|第[一二三四五六七八九十\d]+[章节条]|[◎●■▲◆•·○□☆★])")


def _starts_continuation(probe: str) -> bool:
    return not _ENUM.match(probe)


def _wrapped_lines(probes: list[str], kinds: list[str]) -> set[int]:
    """Text lines a PDF layout cut at the right margin: as wide as the page's full lines and
    not ending a sentence, so the next text line continues them."""
    widths = sorted(len(probes[i].strip()) for i, k in enumerate(kinds)
                    if k == "text" and len(probes[i].strip()) >= 8)
    if len(widths) < 3:
        return set()
    full = widths[int(0.8 * (len(widths) - 1))]
    if full < 12:
        return set()
    ends = (*_SENTENCE_END, "：", ":", "”", "」", "』")
    return {i for i, k in enumerate(kinds)
            if k == "text" and len(probes[i].strip()) >= 0.8 * full
            and not probes[i].rstrip().endswith(ends)}


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
