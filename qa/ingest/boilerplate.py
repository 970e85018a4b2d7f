"""Boilerplate by shape and by repetition, for pages from sites we have never seen.

Phrase lists fitted to a few articles fail on the next site. What generalises is the *shape*
of chrome: a toolbar is a short line with no sentence punctuation made of several UI controls
(打印, 关闭, 字体 …) that exist on every Chinese site; a footer is a page number between
dashes; a related-articles list is a run of headline-like lines after the last sentence; a
credit (（记者 张三）, 责任编辑：李桐) is a short labelled segment after the final sentence end.
And what no single page can show, a batch can: a line or a trailing segment that recurs in
several documents of one source, with different text around it each time, is the site's
template, not the author's words (`learn`).

Every rule refuses text that reads as a sentence (sentence punctuation and a reasonable
length), so content that merely mentions 打印 or 分享 is kept.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from qa.text.normalize import to_simplified

SENTENCE_PUNCT = "。！？!?；;"
# A sentence end with the closing quotes/brackets that belong to it.
SENTENCE_END = re.compile(r"[。！？!?…]+[”’」』）)\"']*")
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


def _alt(words: Collection[str]) -> str:
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
_WEAK_CREDIT = ("文", "图", "摄", "文图", "图文")  # need a boundary before them
# Anchors of a site footer; lines around one in the tail of a page are the footer.
FOOTER_ANCHOR = re.compile(r"主办单位|承办单位|协办单位|技术支持|网站标识码|网站识别码|ICP备|ICP证"
                           r"|公网安备|版权所有|Copyright|copyright|©|\(C\)")

_CONTROL_RE = re.compile(f"^(?:{_alt(CONTROLS)})+$")
_META_ITEM = re.compile(f"^(?:{_alt(META_LABELS)})\\s*[:：]\\s*(.{{0,30}})$")
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


# ---------------------------------------------------------------- segments glued to text

# Labels may carry a stray space from justified layouts (来 源：).
_CREDIT_RE = "|".join(r"\s?".join(map(re.escape, w))
                      for w in sorted(CREDIT_LABELS, key=len, reverse=True))
# 责任编辑：李桐 / 来源：极目新闻 / 编辑/倪家宁 / 记者 张三 (a short value to the end)
_LABEL_VALUE = re.compile(f"(?:{_CREDIT_RE})\\s*[:：/丨|｜]\\s*[^。！？!?，,]{{0,24}}$"
                          f"|(?:{_CREDIT_RE})\\s+[\\u4e00-\\u9fff]{{2,4}}$")
_WEAK_LABEL = re.compile(f"(?:^|(?<=[\\s）)】\\]|｜]))(?:{_alt(_WEAK_CREDIT)})\\s*[:：/]"
                         f"\\s*[^。！？!?，,]{{0,24}}$")
_TRAILING_BRACKET = re.compile(r"[（(【\[]([^（）()【】\[\]]{1,40})[）)】\]]\s*$")
_CREDIT_ANYWHERE = re.compile(f"(?:{_CREDIT_RE}|{_alt(_WEAK_CREDIT)})(?=[\\s:：/]|$)"
                              r"|(摄|报道|供图|整理|出品|制作|编辑)$")
_CONTROL_START = re.compile(f"(?:{_alt(c for c in CONTROLS if len(c) >= 2)})")
_BOUNDARY = " \t\u3000\xa0）)】]|｜丨"


def last_sentence_end(s: str, before: int | None = None) -> int:
    """Offset just after the last sentence end in s[:before] (0 if there is none)."""
    end = 0
    for m in SENTENCE_END.finditer(s, 0, len(s) if before is None else before):
        end = m.end()
    return end


def _at_boundary(line: str, pos: int, floor: int) -> bool:
    return pos <= floor or line[pos - 1] in _BOUNDARY


def _shape_tail_unit(line: str, floor: int, cut: int) -> int | None:
    """Start of a credit/control segment ending at `cut` (after the last sentence end)."""
    seg = line[floor:cut]
    whole = seg.strip()
    # The whole tail is one credit (新民晚报记者 李晓明): take it in one piece, but only an
    # outlet's name may precede the label, not a dated signature (某某办公室2023年6月15日).
    credit = _CREDIT_ANYWHERE.search(whole)
    if credit and len(whole) <= 30 and not has_sentence_punct(whole) and "，" not in whole \
            and balanced(whole) and len(whole[:credit.start()]) <= 15 \
            and not re.search(r"\d", whole[:credit.start()]):
        return floor + seg.index(whole[0])
    m = _TRAILING_BRACKET.search(seg)
    if m:
        inner = m.group(1)
        if not has_sentence_punct(inner) and ("，" not in inner or _CREDIT_ANYWHERE.search(inner)):
            return floor + m.start()
    for pattern in (_LABEL_VALUE, _WEAK_LABEL):
        m = pattern.search(seg)
        if m and balanced(seg[m.start():]):
            return floor + m.start()
    for m in _CONTROL_START.finditer(seg):
        start = floor + m.start()
        rest = line[start:cut]
        if _at_boundary(line, start, floor) and len(rest) <= 16 and not has_sentence_punct(rest) \
                and balanced(rest):
            return start
    return None


def peel_tail(line: str, units: Collection[str] = ()) -> int:
    """Where trailing chrome glued to the last sentence of `line` starts (len(line) if none).

    Peels one segment at a time from the end, never past the last sentence end: credits
    (（记者 张三）, 责任编辑：李桐), controls (分享让更多人看到, 返回…查看更多) and, from a
    batch, `units` that recur at the end of many documents. A long line without any sentence
    end (a list, a caption run) only loses batch units and explicitly labelled credits.
    """
    cut = len(line.rstrip())
    floor = last_sentence_end(line, cut)
    unpunctuated = floor == 0
    if unpunctuated and len(line) < 80:
        return len(line)
    limit = max(40, len(line) - 120) if unpunctuated else max(0, len(line) - 400)
    while cut > limit:
        unit = _longest_suffix(line, cut, units)
        new: int | None = None
        if unit and (cut - unit >= floor or cut == floor):
            new = cut - unit
            if not unpunctuated and last_sentence_end(line, new) == 0:
                break  # never peel a document's only sentence
        elif unpunctuated:
            m = _LABEL_VALUE.search(line, max(limit, cut - 40), cut)
            new = m.start() if m and balanced(line[m.start():cut]) else None
        elif cut > floor:
            new = _shape_tail_unit(line, floor, cut)
        if new is None or new < limit:
            break
        while new > 0 and line[new - 1] in " \t\u3000\xa0":
            new -= 1
        cut = new
        if not unpunctuated:
            floor = last_sentence_end(line, cut)
    return cut if cut < len(line.rstrip()) else len(line)


def _longest_suffix(line: str, cut: int, units: Collection[str]) -> int:
    if not units:
        return 0
    best = 0
    head = line[:cut]
    for u in units:
        if len(u) > best and head.endswith(u) and len(u) < cut:
            best = len(u)
    return best


_HEAD_DATETIME = re.compile(r"^\s*(\d{4}[\-/.]\d{1,2}[\-/.]\d{1,2}(\s+\d{1,2}:\d{2}(:\d{2})?)?"
                            r"|\d{1,2}[\-/]\d{1,2}\s+\d{1,2}:\d{2}(:\d{2})?)\s*(?=\S)")
# A label that opens a document (原标题：, ，正文：, 央视网消息：): short, no digits, a colon.
_HEAD_LABEL = re.compile(r"[^\d:：。！？!?\s]{1,12}[:：]")
_HEAD_CRUMB = re.compile(r"^\s*(\S{1,12}\s*[>›»]\s*){2,}\S{1,12}[\s\u3000\xa0]+(?=\S)")


def peel_head(line: str, units: Collection[str] = ()) -> int:
    """Length of leading chrome glued to the first line: a breadcrumb, a timestamp, and from
    a batch, labels that open many documents (原标题：, ，正文：)."""
    pos = 0
    limit = min(len(line) // 2, 200)
    while pos < limit:
        rest = line[pos:]
        best = 0
        for u in units:
            if len(u) > best and rest.startswith(u) and len(u) < len(rest):
                best = len(u)
        if not best:
            m = _HEAD_CRUMB.match(rest) or _HEAD_DATETIME.match(rest)
            best = m.end() if m else 0
        if not best:
            break
        pos += best
    return pos


# ---------------------------------------------------------------- collection level

@dataclass(frozen=True)
class Boilerplate:
    """What one batch of documents repeats: whole lines, trailing and leading segments."""

    lines: frozenset[str] = frozenset()
    tails: frozenset[str] = frozenset()
    heads: frozenset[str] = frozenset()
    support: dict[str, int] = field(default_factory=dict, compare=False)  # unit -> documents

    def __bool__(self) -> bool:
        return bool(self.lines or self.tails or self.heads)


def line_key(line: str) -> str:
    return re.sub(r"\s+", " ", line).strip()


def _nonblank(text: str) -> list[str]:
    return [ln for ln in text.split("\n") if ln.strip()]


def _repeated_lines(texts: Sequence[str], min_docs: int) -> dict[str, int]:
    per_doc = [{line_key(ln) for ln in _nonblank(t) if 2 <= len(line_key(ln)) <= 200}
               for t in texts]
    counts = Counter(k for keys in per_doc for k in keys)
    repeated = {k for k, n in counts.items() if n >= min_docs}
    # A document made mostly of repeated lines is a copy of another (the same article twice):
    # it must not vote, or an article reprinted three times would erase itself.
    votes: Counter[str] = Counter()
    for keys in per_doc:
        total = sum(len(k) for k in keys) or 1
        if sum(len(k) for k in keys if k in repeated) / total <= 0.6:
            votes.update(k for k in keys if k in repeated)
    return {k: n for k, n in votes.items() if n >= min_docs}


EDGE_CHARS = 300  # chrome sits within this many characters of a document's start or end


def _accept(candidates: dict[str, set[int]], near: dict[str, set[str]], wide: dict[str, set[str]],
            texts: Sequence[str], min_docs: int, tail: bool) -> dict[str, int]:
    """Units seen in >= min_docs documents, with varied text around them, only at the edge.

    `near` (the character next to the unit) must vary, or the unit is part of something
    longer; `wide` (12 characters of neighbouring text) must vary, or the documents are
    copies of one article; and the unit must not also occur in the body of documents (away
    from the edge), or it is an ordinary word (发展) that merely ends some truncated texts.
    A unit that is another unit plus a character that varies (菲|返回搜狐…) is dropped in
    favour of the shorter one.
    """
    ok: dict[str, int] = {}
    for unit, docs in candidates.items():
        if len(docs) < min_docs or len(wide[unit]) < min_docs:
            continue
        if len(near[unit]) < 2 and near[unit] != {"^"}:
            continue
        if len(_HAN.findall(unit)) < 2 or not balanced(unit):
            continue
        ok[unit] = len(docs)
    if not ok:
        return {}
    bodies = [t[:-EDGE_CHARS] if tail else t[EDGE_CHARS:] for t in texts]
    edges = [t[-EDGE_CHARS:] for t in texts] if tail else []
    out = {}
    for unit, n in ok.items():
        shorter = [unit[k:] if tail else unit[:-k] for k in range(1, len(unit))]
        if any(ok.get(v, 0) >= 2 * n for v in shorter):
            continue
        if sum(1 for b in bodies if unit in b) > 0.5 * n:
            continue
        # A trailing unit must stand on its own in some documents (after a sentence end, a
        # bracket, a space): a suffix that is only ever glued to a name is part of the name.
        if tail and sum(1 for e in edges if _starts_at_boundary(e, unit)) < min(2, n):
            continue
        out[unit] = n
    return out


_HAN = re.compile("[\u4e00-\u9fff]")
_UNIT_BOUNDARY = _BOUNDARY + "。！？!?…；;，,、：:”’"


def _starts_at_boundary(text: str, unit: str) -> bool:
    pos = text.find(unit)
    while pos >= 0:
        if pos == 0 or text[pos - 1] in _UNIT_BOUNDARY:
            return True
        pos = text.find(unit, pos + 1)
    return False


def _is_prompt(sentence: str) -> bool:
    return sentence.rstrip("”’」』）)\"' ").endswith(("！", "!", "？", "?"))


def _edge_line(text: str, skip: Collection[str], last: bool) -> str:
    """The first/last line that is not chrome already (repeated or shaped like chrome)."""
    lines = _nonblank(text)
    for line in reversed(lines) if last else lines:
        if line_key(line) not in skip and line_shape(line) is None:
            return line
    return ""


def learn(texts: Sequence[str], min_docs: int = 3, rounds: int = 3) -> Boilerplate:
    """Boilerplate shared by a batch of raw texts from one source.

    A line qualifies when it occurs in `min_docs` documents (documents that are mostly
    copies of others do not vote; `clean` drops such lines only outside a document's own
    text). A trailing segment after the last sentence end (or a final sentence that calls on
    the reader, …报料！) and a leading label (原标题：) qualify when they close/open
    `min_docs` documents with different neighbouring text each time and stand alone in some
    of them. Trailing segments are learned in rounds, so chrome stacked at the end
    (…。（记者 X）返回搜狐，查看更多责任编辑：) is found layer by layer.
    """
    if len(texts) < min_docs:
        return Boilerplate()
    support: dict[str, int] = {}
    lines = _repeated_lines(texts, min_docs)
    support.update(lines)

    last_lines = [_edge_line(t, lines, last=True) for t in texts]
    tails: set[str] = set()
    for _ in range(rounds):
        cands: dict[str, set[int]] = defaultdict(set)
        near: dict[str, set[str]] = defaultdict(set)
        wide: dict[str, set[str]] = defaultdict(set)
        for d, line in enumerate(last_lines):
            cut = peel_tail(line, tails)
            cut = min(cut, len(line.rstrip()))
            floor = last_sentence_end(line, cut)
            if floor == 0:
                continue
            starts = range(max(floor, cut - 80), cut) if cut > floor else ()
            if cut == floor:
                # Ends with a sentence: a whole sentence is a candidate only when it calls on
                # the reader (…等你来报料！); a statement ending in 。 is content, however often
                # it recurs (会议还研究了其他事项。).
                prev = last_sentence_end(line, floor - 1)
                if prev and floor - prev <= 150 and _is_prompt(line[prev:floor]):
                    starts = (prev,)
            for p in starts:
                unit = line[p:cut]
                if not unit.strip() or unit[0].isspace():
                    continue
                left = line[p - 1] if p > 0 else ""
                if left.isascii() and left.isalnum() and unit[0].isascii() and unit[0].isalnum():
                    continue
                cands[unit].add(d)
                near[unit].add("^" if p == floor or cut == floor else left)
                wide[unit].add(line[max(0, p - 12):p])
        found = _accept(cands, near, wide, texts, min_docs, tail=True)
        found = {u: n for u, n in found.items() if u not in tails}
        if not found:
            break
        tails.update(found)
        support.update(found)

    heads: set[str] = set()
    first_lines = [_edge_line(t, lines, last=False) for t in texts]
    for _ in range(rounds):
        cands = defaultdict(set)
        near = defaultdict(set)
        wide = defaultdict(set)
        for d, line in enumerate(first_lines):
            start = peel_head(line, heads)
            m = _HEAD_LABEL.match(line, start)
            if not m or m.end() >= len(line):
                continue
            unit = m.group(0)
            cands[unit].add(d)
            near[unit].add(line[m.end()])
            wide[unit].add(line[m.end():m.end() + 12])
        found = _accept(cands, near, wide, texts, min_docs, tail=False)
        found = {u: n for u, n in found.items() if u not in heads}
        if not found:
            break
        heads.update(found)
        support.update(found)
    return Boilerplate(frozenset(lines), frozenset(tails), frozenset(heads), support)
