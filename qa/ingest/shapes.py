"""Site chrome by its shape alone: a toolbar is a short line with no sentence punctuation made
of UI controls (打印, 关闭, 字体 …) that exist on every Chinese site; a footer is a page number
between dashes; a menu is a row of short items between bars. The vocabularies are in
Simplified Chinese (lines are converted before matching). Every test refuses text that reads
as a sentence, so content that merely mentions 打印 or 分享 is kept. qa.ingest.peel finds
chrome glued to a sentence, qa.ingest.boilerplate what a batch of documents repeats.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from functools import lru_cache

from qa.text.normalize import to_simplified

SENTENCE_PUNCT = "。！？!?；;"
# A sentence end with the closing quotes/brackets that belong to it.
_OPEN, _CLOSE = "（([【〔「『《<", "）)]】〕」』》>"
_PAIRS = dict(zip(_CLOSE, _OPEN, strict=True))


def has_sentence_punct(s: str) -> bool:
    return any(c in s for c in SENTENCE_PUNCT)


def is_content_line(s: str) -> bool:
    """Prose: a sentence end and a reasonable length, or a long run of text."""
    s = s.strip()
    return (len(s) >= 12 and has_sentence_punct(s)) or len(s) >= 60


def balanced(s: str) -> bool:
    """No bracket closes what it did not open, none stays open."""
    stack: list[str] = []
    for c in s:
        if c in _OPEN:
            stack.append(c)
        elif c in _CLOSE and (not stack or stack.pop() != _PAIRS[c]):
            return False
    return not stack


def alternation(words: Collection[str]) -> str:
    """A regex alternative of `words`, longest first (so 打印本页 wins over 打印)."""
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


# ---------------------------------------------------------------- vocabularies of UI shapes
# Controls present on every Chinese site (in Simplified; lines are converted before matching).
# A line is chrome only when it is made of these *and nothing else*.
CONTROLS = frozenset((
    "打印本页", "打印此页", "打印文章", "打印正文", "打印", "列印本页", "列印", "关闭窗口",
    "关闭本页", "关闭", "字体", "字号", "字级", "大中小", "小中大", "大", "中", "小", "默认",
    "放大", "缩小", "分享到", "分享至", "分享", "转发", "转寄", "收藏本页", "加入收藏", "收藏",
    "点赞", "评论", "举报", "我要纠错", "纠错", "复制链接", "复制网址", "返回顶部", "回到顶部",
    "回顶端", "回页首", "返回页首", "返回首页", "网站首页", "回首页", "返回列表", "回上页",
    "返回", "顶部", "首页", "上一篇", "下一篇", "上一条", "下一条", "上一则", "下一则", "上一页",
    "下一页", "扫一扫在手机打开当前页", "扫一扫在手机上打开当前页", "在手机打开当前页",
    "扫一扫", "扫码阅读", "手机扫码", "扫码", "二维码", "手机版", "电脑版", "微信", "微博",
    "朋友圈", "QQ空间", "QQ", "豆瓣", "查看更多", "点击查看", "点击", "阅读全文", "展开全文",
    "更多", "设为首页", "网站地图", "网站导航", "网站导览", "网页指南", "联系我们", "联络我们",
    "无障碍", "关怀版", "长者模式", "简体版", "繁体版", "简体", "繁体", "简", "繁", "English",
    "登录", "注册", "搜索", "下载文档", "下载", "视力保护色", "语音播报",
))
# Labels of page metadata fields (发布时间：…, 浏览次数：…), never of content.
META_LABELS = frozenset((
    "发布时间", "发布日期", "更新时间", "时间", "日期", "来源", "信息来源", "文章来源", "稿件来源",
    "资料来源", "作者", "编辑", "责任编辑", "责编", "审核", "校对", "浏览次数", "浏览量",
    "阅读次数", "阅读量", "点击数", "点击量", "点击率", "访问量", "访问次数", "浏览人次",
    "字体", "字号", "字级", "发布机构", "发布者", "分享到",
))
# Credit labels of Chinese journalism: what follows the last sentence of an article.
CREDIT_LABELS = frozenset((
    "责任编辑", "责编", "编辑", "值班编辑", "流程编辑", "来源", "稿源", "出处", "校对", "审核",
    "审校", "监制", "统筹", "策划", "出品", "制作", "记者", "通讯员", "作者", "撰文", "编译",
    "摄影", "摄像", "视频", "配音", "原标题", "原题", "资料", "资料来源", "实习编辑", "实习生",
    "主编", "终审", "一审", "二审", "三审", "审读", "签发", "图编", "剪辑", "图源", "图片来源",
    "本文来源", "设计",
))
WEAK_CREDIT = ("文", "图", "摄", "文图", "图文")  # need a boundary before them
# Anchors of a site footer; lines around one in the tail of a page are the footer.
FOOTER_ANCHOR = re.compile(r"主办单位|承办单位|协办单位|技术支持|网站标识码|网站识别码|ICP备|ICP证"
                           r"|公网安备|版权所有|Copyright|copyright|©|\(C\)")

_CONTROL_RE = re.compile(f"^(?:{alternation(CONTROLS)})+$")
_META_ITEM = re.compile(f"^(?:{alternation(META_LABELS)})\\s*[:：]\\s*(.{{0,30}})$")
_DATETIME_ITEM = re.compile(r"^[\d\-/.:年月日时分秒]+$|^[(（]?(星期|周)[一二三四五六日天][)）]?$")
_ITEM_SPLIT = re.compile(r"[\s|｜丨【】\[\]〔〕·•/>»›<«‹]+")
_END_MARK = re.compile(r"^[\s(（\[【\-—–－]*完[\s)）\]】\-—–－]*$")
_PREV_NEXT = re.compile(r"^(上一篇|下一篇|上一条|下一条|上一则|下一则|上篇|下篇|前一篇|后一篇)"
                        r"\s*[:：]?")
_PAGE_FOOTER = re.compile(
    r"^[\-—–－~]+\s*\d{1,4}\s*[\-—–－~]+$"
    r"|^第\s*\d{1,4}\s*页\s*[,，/、]?\s*共\s*\d{1,4}\s*页$"
    r"|^共\s*\d{1,4}\s*页\s*[,，/、]?\s*第\s*\d{1,4}\s*页$"
    r"|^第\s*\d{1,4}\s*页$"
    r"|^(\d{1,4})\s*/\s*(\d{1,4})$"
    r"|^[Pp]age\s*\d{1,4}(\s*(of|/)\s*\d{1,4})?$")
_DATED_ITEM = re.compile(r"^[\-·•▪►>\s]*(\S.{3,60}?)\s*[\[(（]?\d{4}[\-/.年]\d{1,2}[\-/.月]\d{1,2}"
                         r"日?[\])）]?$")
_ENUM_START = re.compile(r"^([一二三四五六七八九十]+[、.．]|[(（][一二三四五六七八九十\d]+[)）]"
                         r"|\d+[、.．](?!\d)|第[一二三四五六七八九十\d]+[章节条部分])")


@lru_cache(maxsize=4096)
def _simp(s: str) -> str:
    return to_simplified(s)


def _items(s: str) -> list[str]:
    return [x for x in _ITEM_SPLIT.split(s) if x]


def _is_control(item: str) -> bool:
    return bool(_CONTROL_RE.match(item.rstrip(":：")))


def is_ui_bar(line: str) -> bool:
    """A toolbar, share bar or page-metadata bar: short, no sentence, only controls and fields.

    【字体：大 中 小】【打印】【关闭】, 扫一扫在手机打开当前页, 打印本页 关闭窗口,
    发布时间：2023-06-05　点击数：2345, 分享到：微信 微博.
    """
    s = line.strip()
    if not s or len(s) > 120 or has_sentence_punct(s):
        return False
    items = _items(_simp(s))
    if not items:
        return False
    controls = metas = 0
    for item in items:
        if _is_control(item):
            controls += 1
        elif (m := _META_ITEM.match(item)) and not has_sentence_punct(m.group(1)):
            metas += 1
        elif not _DATETIME_ITEM.match(item):
            return False
    return controls >= 1 or metas >= 2 or (metas == 1 and len(items) >= 2)


def is_link_bar(line: str) -> bool:
    """Menu or link row: three or more short items between bars (首页 | 新闻 | 政务)."""
    s = line.strip()
    if has_sentence_punct(s) or not re.search(r"[|｜丨]", s):
        return False
    items = [x.strip() for x in re.split(r"[|｜丨]", s)]
    items = [x for x in items if x]
    return len(items) >= 3 and all(len(x) <= 12 for x in items)


def is_bracket_run(line: str) -> bool:
    """Several short bracketed buttons side by side: 【打印】【关闭】, [收藏] [分享]."""
    s = line.strip()
    if has_sentence_punct(s):
        return False
    groups = re.findall(r"[【\[]([^【】\[\]]{1,14})[】\]]", s)
    inside = sum(len(g) + 2 for g in groups)
    solid = len(re.sub(r"\s", "", s))
    return len(groups) >= 2 and solid > 0 and inside / solid >= 0.6


def is_prev_next(line: str) -> bool:
    """上一篇：<headline> / 下一篇：<headline>: a label and a title, not a sentence."""
    s = _simp(line.strip()) if len(line) <= 160 else line
    m = _PREV_NEXT.match(s)
    return bool(m) and len(s) <= 160 and not any(c in s for c in "。；;")


def is_page_footer(line: str) -> bool:
    """A page number line: - 1 -, — 2 —, 第1页 共5页, 1/5, Page 3 of 9."""
    s = line.strip()
    m = _PAGE_FOOTER.match(s)
    if not m:
        return False
    if m.group(1):  # n/m: a page counter only if n <= m
        return 0 < int(m.group(1)) <= int(m.group(2))
    return True


def is_end_mark(line: str) -> bool:
    """（完）, -完-: the end-of-article mark of news wires."""
    return bool(_END_MARK.match(line))


def is_dated_item(line: str) -> bool:
    """A headline followed by a date: one entry of a news list."""
    s = line.strip()
    return not has_sentence_punct(s) and bool(_DATED_ITEM.match(s))


def is_headline_like(line: str) -> bool:
    """6-60 characters, mostly Han, no sentence punctuation, not a lead-in or heading number."""
    s = line.strip().lstrip("-·•▪►> ")
    if not 6 <= len(s) <= 60 or has_sentence_punct(s) or s.endswith(("：", ":")):
        return False
    han = sum("\u4e00" <= c <= "\u9fff" for c in s)
    return han / len(s) >= 0.5 and not _ENUM_START.match(s)


def is_nav_item(line: str) -> bool:
    """One entry of a vertical menu: a few letters, no digits or punctuation."""
    s = line.strip()
    return 0 < len(s) <= 8 and bool(re.fullmatch(r"[\u4e00-\u9fffA-Za-z]+", s)) \
        and not _ENUM_START.match(s)


def line_shape(line: str) -> str | None:
    """The chrome kind a line has by shape alone, or None."""
    s = line.strip()
    if not s or len(s) > 160:
        return None
    if is_page_footer(s):
        return "page-footer"
    if is_end_mark(s):
        return "end-mark"
    if is_prev_next(s):
        return "prev-next"
    if is_ui_bar(s) or is_bracket_run(s):
        return "toolbar"
    if is_link_bar(s):
        return "nav"
    return None
