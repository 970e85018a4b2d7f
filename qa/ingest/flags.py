"""Source-quality flags: warnings users see beside a citation, each with its evidence.

Flags describe a document; they never change its text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from qa.ingest.clean import PDF_REPAIRS, Cleaned

# Synonym-spinning tools replace common policy words with dictionary synonyms that no editor
# would choose. Each pair is (original, spun form); the spun forms are rare in real news, so
# several different pairs in one text are strong evidence of spinning.
SPUN_PAIRS: tuple[tuple[str, str], ...] = (
    ("贫困", "贫窭"), ("书记", "尺牍"), ("全国", "宇宙"), ("工作", "做事"), ("合作", "协做"),
    ("推进", "促成"), ("全面", "周全"), ("发展", "进展"), ("巩固", "强固"), ("探索", "探究"),
    ("模式", "形式"), ("实现", "履行"), ("人口", "生齿"), ("农村", "屯子"), ("领导", "头领"),
    ("制度", "轨制"), ("覆盖", "遮蔽"), ("特别", "希奇"), ("开始", "发端"), ("示范", "树范"),
    ("带动", "启发"), ("任务", "义务"), ("效果", "成就"), ("政策", "策略"), ("县长", "县令"),
    ("重点", "中心"), ("贷款", "存款"), ("生产", "临盆"), ("资金", "资本"), ("倾斜", "歪斜"),
    ("措施", "办法"), ("思路", "思绪"), ("产业", "财产"), ("公共服务", "团体效劳"),
    ("考核", "查核"), ("提拔", "提携"), ("满意度", "如意度"), ("精准", "精确"),
    ("突破", "冲破"), ("攻坚", "包围"), ("改革", "改观"), ("典型", "模范"),
    ("国家", "国度"), ("经验", "阅历"), ("政府", "当局"), ("问题", "题目"), ("时间", "功夫"),
    ("目标", "方向"), ("保障", "保险"), ("情况", "状况"), ("群众", "大众"), ("提高", "进步"),
    ("增加", "增多"),
)
# Forms that also occur in ordinary text: they count only once other evidence is present.
_COMMON_FORMS = {"宇宙", "进展", "形式", "履行", "启发", "义务", "成就", "策略", "中心", "存款",
                 "资本", "办法", "思绪", "财产", "精确", "冲破", "包围", "改观", "模范", "做事",
                 "题目", "功夫", "方向", "保险", "状况", "大众", "进步", "增多"}
SPUN_MIN_PAIRS = 3  # distinct distinctive pairs
SPUN_MIN_DENSITY = 1.0  # spun words per 1,000 characters

# A mask stands for removed characters inside a word: one '*' between two Chinese characters
# (落实*策, 白沙村*委), or a run of two or more touching a letter, digit or Chinese character
# (**5个工作分队, ldj****22, 张**). One '*' after a word and before punctuation is a footnote
# mark (数学*、), so are two after a number ((91**)); after a Latin letter a name (A*算法);
# 5*3 is arithmetic.
_CENSORED = re.compile(r"[\u4e00-\u9fff]\*[\u4e00-\u9fff]"
                       r"|[\u4e00-\u9fff]\*{2,}|\*{2,}[\w\u4e00-\u9fff]")
# What is not a mask: Markdown emphasis, a pair of ** around a phrase on one line (**重点**),
# and a bullet at the start of a line. A mask stands alone where characters were removed.
_EMPHASIS = re.compile(r"(\*{2,3})(?=[^\s*])([^*\n]{1,80}?)(?<=[^\s*])\1")
_BULLET = re.compile(r"^[ \t]*\*[ \t]+", re.M)


def masked_spans(text: str) -> list[str]:
    """Runs of '*' that stand for removed characters (*策, 白沙村*委, ldj****22)."""
    return _CENSORED.findall(_BULLET.sub("", _EMPHASIS.sub(r"\2", text)))


LABELS = {  # what the UI shows
    "traditional": "繁体原文",
    "pdf-extraction": "PDF提取",
    "censored": "含屏蔽字",
    "spun": "疑似同义词改写",
    "ocr": "文字由OCR识别，可能有误",
}


@dataclass(frozen=True)
class Flag:
    name: str
    evidence: str

    def to_dict(self) -> dict:
        return {"name": self.name, "label": LABELS.get(self.name, self.name),
                "evidence": self.evidence}


def ocr_spans(meta: dict, raw_len: int) -> list[tuple[int, int]] | None:
    """Raw-text ranges of the OCR'd pages (from a PDF reader's `page_starts`), or None when
    the pages are unknown and the whole document counts."""
    pages = meta.get("ocr_pages") or []
    starts = meta.get("page_starts") or []
    if not pages:
        return []
    if not starts:
        return None
    spans = []
    for n in pages:
        if 1 <= n <= len(starts):
            spans.append((starts[n - 1], starts[n] if n < len(starts) else raw_len))
    return spans


def spun_pairs(text: str) -> dict[tuple[str, str], int]:
    """Known substitution pairs whose spun form occurs in `text`, with counts."""
    return {pair: n for pair in SPUN_PAIRS if (n := text.count(pair[1]))}


def detect_flags(cleaned: Cleaned, script: str, meta: dict | None = None) -> list[Flag]:
    """`meta` is the reader's Document.meta: it says which PDF pages were OCR'd."""
    text = cleaned.text
    flags: list[Flag] = []
    if script == "traditional":
        flags.append(Flag("traditional", "正文为繁体中文; 检索与回答时转换为简体"))
    ocr_pages = (meta or {}).get("ocr_pages") or []
    if ocr_pages:
        listed = ", ".join(map(str, ocr_pages[:20])) + (" ..." if len(ocr_pages) > 20 else "")
        total = (meta or {}).get("pages") or len(ocr_pages)
        engine = (meta or {}).get("ocr_engine") or "OCR"
        flags.append(Flag("ocr", f"{len(ocr_pages)} of {total} pages recognised from scanned "
                                 f"images by {engine} (pages {listed}); characters and "
                                 "numbers may be misread"))
    # Evidence, not format: only repairs that a PDF layout makes necessary count (removing
    # a web page's toolbar never does), and a clean PDF needs no warning.
    repairs = {k: n for k, n in cleaned.repairs.items() if k in PDF_REPAIRS and n}
    if repairs:
        detail = ", ".join(f"{k}: {v}" for k, v in sorted(repairs.items()))
        flags.append(Flag("pdf-extraction", f"repaired PDF artifacts ({detail})"))
    masked = masked_spans(text)
    if masked:
        examples = "、".join(dict.fromkeys(masked).keys())
        flags.append(Flag("censored", f"{len(masked)} masked spans: {examples[:80]}"))
    found = spun_pairs(text)
    distinctive = {p: n for p, n in found.items() if p[1] not in _COMMON_FORMS}
    total = sum(found.values()) if distinctive else 0
    density = 1000 * total / max(len(text), 1)
    if len(distinctive) >= SPUN_MIN_PAIRS and density >= SPUN_MIN_DENSITY:
        pairs = sorted(found.items(), key=lambda kv: (kv[0][1] in _COMMON_FORMS, -kv[1]))
        listed = ", ".join(f"{a}→{b}×{n}" for (a, b), n in pairs[:10])
        flags.append(Flag("spun", f"{len(found)} substitution pairs, {density:.1f}/1000 chars: "
                                  f"{listed}"))
    return flags


def despin(text: str) -> str:
    """Map distinctive spun forms back to their originals, for search only (never shown)."""
    for original, spun in SPUN_PAIRS:
        if spun not in _COMMON_FORMS:
            text = text.replace(spun, original)
    return text
