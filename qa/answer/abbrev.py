"""Standard abbreviations of Chinese statistics and administration, and what they stand for.

People type 湖州GDP增速, 德清县2023年社零, 规上工业增加值; communiqués and work reports write
地区生产总值, 社会消费品零售总额, 规模以上工业增加值. No amount of word statistics from the
collection links the two, so the answerer reads a question with the full forms added
(湖州GDP（生产总值）增速) for search and for matching sentences, and a Latin abbreviation
counts as mentioned where its full form is. The list is general vocabulary of official
statistics (国家统计局 indicator names, common office names), not tuned to any document.
"""

from __future__ import annotations

import re

# abbreviation -> full forms (the first is added to the question; any one satisfies it)
ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    "gdp": ("生产总值", "国内生产总值", "地区生产总值"),
    "cpi": ("居民消费价格", "消费价格指数"),
    "ppi": ("工业生产者出厂价格", "生产者价格指数"),
    "pmi": ("采购经理指数",),
    "r&d": ("研究与试验发展", "研发"),
    "pm2.5": ("细颗粒物",),
    "社零": ("社会消费品零售总额",),
    "社消零": ("社会消费品零售总额",),
    "规上": ("规模以上",),
    "固投": ("固定资产投资",),
    "一产": ("第一产业",),
    "二产": ("第二产业",),
    "三产": ("第三产业",),
    "营收": ("营业收入",),
    "一般预算": ("一般公共预算",),
    "社保": ("社会保险", "社会保障"),
    "医保": ("医疗保险", "医疗保障"),
    "低保": ("最低生活保障",),
    "个税": ("个人所得税",),
    "人社": ("人力资源和社会保障",),
    "发改委": ("发展和改革委员会",),
    "市监局": ("市场监督管理局",),
}
_PATTERN = re.compile("|".join(re.escape(k) for k in sorted(ABBREVIATIONS, key=len, reverse=True)),
                      re.IGNORECASE)


def expand(text: str) -> str:
    """The text with each abbreviation followed by its full form in brackets, unless the
    full form is already there: 湖州GDP增速 -> 湖州GDP（生产总值）增速."""
    def add(m: re.Match) -> str:
        forms = ABBREVIATIONS[m.group(0).lower()]
        if any(f in text for f in forms):
            return m.group(0)
        return f"{m.group(0)}（{forms[0]}）"

    return _PATTERN.sub(add, text)


def full_forms(term: str) -> tuple[str, ...]:
    """What a (folded) term may be written as in a document besides itself."""
    return ABBREVIATIONS.get(term.lower(), ())


def spelt_out(folded: str, known) -> str:
    """A folded question with each abbreviation the collection does not use (`known(term)`
    is False) replaced by its first full form, for word matching: a communiqué says
    生产总值, never GDP, and bigrams of GDP would only dilute the match."""
    def swap(m: re.Match) -> str:
        abbr = m.group(0).lower()
        return m.group(0) if known(abbr) else ABBREVIATIONS[abbr][0]

    return _PATTERN.sub(swap, folded)
