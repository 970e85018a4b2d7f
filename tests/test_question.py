"""Question analysis: kinds, named terms, parts, folding."""

from __future__ import annotations

import pytest

from qa.answer.question import analyze, clean_question, fold, question_kind, split_parts, term_in
from qa.errors import InputError


@pytest.mark.parametrize("q,kind", [
    ("靖宇县有多少贫困人口", "number"),
    ("靖宇县的五种帮扶模式分别是什么", "list"),
    ("杨书春是谁", "person"),
    ("杨书春做了什么", "person"),
    ("卢氏模式是什么", "definition"),
    ("安贞门站是什么时候投入运营的？", "time"),
    ("曾伟明的出生地在哪里？", "place"),
    ("哪些地方推行了光伏扶贫", "across"),
    ("各地怎样考核扶贫干部", "across"),
    ("寻乌县是怎样用示范带动脱贫的", "how"),
    ("为什么要搞产业扶贫", "why"),
    ("非洲气候带", "definition"),
    ("老农夫品牌请来代言的那个主持人叫什么", "person"),  # a person's role, then 叫什么
    ("这本书的作者叫什么", "person"),
    ("那个国家叫什么", "entity"),
    ("这条河叫什么", "entity"),
])
def test_kinds(q, kind):
    assert analyze(q).kind == kind


def test_question_kind_is_the_analysis_kind():
    assert question_kind("靖宇县有多少贫困人口") == "number"


def test_fold_makes_script_width_and_case_comparable():
    assert fold("梵語") == fold("梵语")
    assert fold("ＵＳＢ３") == "usb3"
    assert term_in(fold("usb3"), fold("支持USB3.0接口"), "latin")
    assert term_in("靖宇县", "靖宇全县", "place")
    assert not term_in("海淀区", "靖宇县", "place")


def test_named_terms():
    hard = analyze("靖宇县2020年GDP是多少").hard
    assert hard == {"2020年": "year", "gdp": "latin", "靖宇县": "place"}
    assert analyze("“三变”改革是什么").hard.get("三变") == "quoted"
    assert analyze("43222工作法是什么").hard.get("43222") == "scheme"


@pytest.mark.parametrize("q,first,second", [
    ("靖宇县2016年和2017年分别有多少贫困人口脱贫", "靖宇县2016年有多少贫困人口脱贫",
     "靖宇县2017年有多少贫困人口脱贫"),
    ("靖宇县和卢氏县的贫困发生率分别是多少", "靖宇县的贫困发生率是多少",
     "卢氏县的贫困发生率是多少"),
    ("靖宇县有多少贫困村，脱贫了多少人", "靖宇县有多少贫困村", "靖宇县脱贫了多少人"),
])
def test_two_things_at_once_are_split(q, first, second):
    parts = split_parts(q)
    assert parts is not None
    assert parts.questions == [first, second]


@pytest.mark.parametrize("q", ["卢氏模式是什么", "靖宇县的贫困发生率是多少",
                               "靖宇县和卢氏县", "杨书春是谁"])
def test_one_thing_is_not_split(q):
    assert split_parts(q) is None


def test_bad_questions():
    with pytest.raises(InputError, match="empty"):
        clean_question(" \u200b\u200e\n")
    q, warnings = clean_question("卢氏\u202e模式\x00是什么")
    assert q == "卢氏模式是什么" and not warnings


@pytest.mark.parametrize("q,parts", [
    # a clause opening with a name of its own keeps it
    ("共青城贫困发生率压到多少了，寻乌定的目标是控制在多少以内",
     ["共青城贫困发生率压到多少了", "寻乌定的目标是控制在多少以内"]),
    ("靖宇因扶贫提拔了几个干部，卢氏提拔的干部占几成",
     ["靖宇因扶贫提拔了几个干部", "卢氏提拔的干部占几成"]),
    # 多大 asks too; a clause with no subject of its own takes the first one's
    ("绵阳对口帮扶一共砸了多少钱，派到壤塘的干部有多少",
     ["绵阳对口帮扶一共砸了多少钱", "绵阳派到壤塘的干部有多少"]),
])
def test_clauses_of_a_two_part_question(q, parts):
    got = split_parts(q)
    assert got is not None and got.questions == parts


def test_how_with_a_list_of_topics_is_one_question():
    assert split_parts("三台县是怎么解决人、地、钱这几个难题的") is None
    assert question_kind("三台县是怎么解决人、地、钱这几个难题的") == "how"
    p = split_parts("靖宇种了多少袋食用菌，卢氏信念集团的香菇项目多大")
    assert p is not None and len(p.questions) == 2


@pytest.mark.parametrize("q,kind", [("主要教授哪几种语言", "list"),
                                    ("靖宇县有几个贫困村", "number")])
def test_which_few_asks_items_not_a_count(q, kind):
    assert question_kind(q) == kind
