"""What each line of a raw text is: content ('text', 'caption') or a kind of chrome ('nav',
'toolbar', 'hosting', 'related', 'meta', ...), first line by line (`classify_line`), then
in context: menus before the first sentence, link lists and footer blocks after the last,
the list under a 'related articles' heading. qa.ingest.clean drops what is not content.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from qa.ingest.shapes import (
    FOOTER_ANCHOR,
    has_sentence_punct,
    is_content_line,
    is_dated_item,
    is_headline_like,
    is_nav_item,
    line_shape,
)
from qa.text.normalize import to_simplified


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


def mark_edge_zones(probes: list[str], kinds: list[str], fmt: str) -> None:
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


def extend_related_lists(lines: list[tuple[int, str]], kinds: list[str]) -> None:
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
