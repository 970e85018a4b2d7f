"""Titles and ids of documents: the headline guessed from the opening lines (past navigation,
dates and red-header issuer lines), and file names made safe as document ids."""

from __future__ import annotations

import re

TITLE_MAX = 60

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
