"""Splitting: sizes, headings with their paragraphs, and no content lost or duplicated."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from qa.ingest.clean import clean
from qa.ingest.split import MAX_CHARS, paragraph_role, split
from tests.checks import assert_offsets_exact

_ws = re.compile(r"\s+")


def _squash(s: str) -> str:
    return _ws.sub("", s)


def test_heading_joins_the_paragraph_it_introduces():
    body = "该县构建了金融服务体系,建立信用评价体系,让农户4天之内就能拿到贷款。" * 3
    raw = f"上一节的内容到此结束。{'前文' * 60}\n实施金融创新 形成“卢氏模式”\n{body}"
    c = clean(raw)
    chunks = split(c)
    texts = [c.text[x.start:x.end] for x in chunks]
    holder = [t for t in texts if "卢氏模式" in t]
    assert len(holder) == 1 and "信用评价体系" in holder[0]


def test_long_paragraph_cut_at_sentence_ends_into_balanced_pieces():
    sentence = "这是一个关于扶贫工作的完整句子,其中包含数字12.5亿元和名称“老农夫”。"
    c = clean(sentence * 30)
    chunks = split(c)
    sizes = [x.end - x.start for x in chunks]
    assert all(s <= MAX_CHARS for s in sizes)
    assert max(sizes) - min(sizes) <= len(sentence) + 5
    for x in chunks:
        assert c.text[x.start:x.end].endswith("。")


def test_list_items_stay_whole():
    items = [f"{name}:{'采取措施帮扶贫困户发展产业,' * 6}带动{n}户增收。"
             for name, n in [("以奖代投", 2900), ("品牌引领", 98), ("龙头带动", 82)]]
    c = clean("\n".join(items))
    texts = [c.text[x.start:x.end] for x in split(c)]
    for item in items:
        assert any(item in t for t in texts), item[:6]


def test_roles():
    assert paragraph_role("统揽全面,逐级落实") == "heading"
    assert paragraph_role("为此,绵阳直面问题,下足“绣花”功夫——") == "lead"
    assert paragraph_role("以奖代投:采取“以奖代补、先干后补”方式进行扶持。" * 2) == "item"
    assert paragraph_role("这是一段正文。" * 10) == "body"


def test_captions_are_separate_passages():
    raw = "村民在芍药地里劳动。任露潇摄\n" + "正文段落,介绍帮扶成效和具体做法。" * 8
    c = clean(raw)
    chunks = split(c)
    assert chunks[0].kind == "caption"
    assert "正文" not in c.text[chunks[0].start:chunks[0].end]


_cjk = st.characters(min_codepoint=0x4E00, max_codepoint=0x4FFF)
_token = st.one_of(
    st.text(_cjk, min_size=1, max_size=12),
    st.text(st.sampled_from("abcXYZ"), min_size=1, max_size=6),
    st.integers(0, 99999).map(str),
    st.sampled_from(["。", ",", "；", "！", "？", "“", "”", ":", " ", "\n", "\n\n", "１２", "Ａ"]),
)
_doc = st.lists(_token, min_size=0, max_size=300).map("".join)


@settings(max_examples=200, deadline=None)
@given(_doc, st.sampled_from(["text", "pdf"]))
def test_split_loses_and_duplicates_nothing(raw, fmt):
    c = clean(raw, fmt=fmt)
    chunks = split(c)
    # Chunks are ordered, disjoint, and cover every non-space character of the cleaned text.
    pos = 0
    for x in chunks:
        assert x.start >= pos and x.end > x.start
        assert _squash(c.text[pos:x.start]) == ""
        pos = x.end
    assert _squash(c.text[pos:]) == ""
    assert _squash("".join(c.text[x.start:x.end] for x in chunks)) == _squash(c.text)


@settings(max_examples=200, deadline=None)
@given(_doc, st.sampled_from(["text", "pdf"]))
def test_cleaned_offsets_round_trip_to_raw(raw, fmt):
    # nothing but whitespace, page markers and chrome lines is dropped
    assert_offsets_exact(raw, clean(raw, fmt=fmt))
