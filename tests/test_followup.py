"""Follow-up rewriting: elliptical questions filled in from the previous one (no model)."""

from __future__ import annotations

import pytest

from qa.answer.followup import is_elliptical, places, rewrite, subject


@pytest.mark.parametrize(("question", "previous", "expected"), [
    ("那靖宇县呢?", "卢氏县委书记是谁", "靖宇县委书记是谁"),
    ("那靖宇县呢？", "卢氏县委书记是谁？", "靖宇县委书记是谁"),
    ("它带动了多少贫困户?", "老农夫品牌是什么", "老农夫品牌带动了多少贫困户"),
    ("那2017年呢", "靖宇县2016年有多少贫困人口脱贫", "靖宇县2017年有多少贫困人口脱贫"),
    ("他是哪一年任职的", "杨书春是谁", "杨书春是哪一年任职的"),
    ("该县有多少贫困人口", "卢氏县委书记是谁", "卢氏县有多少贫困人口"),
    ("这个模式在哪里推广", "卢氏模式是什么", "卢氏模式在哪里推广"),
    ("那么靖宇县呢", "卢氏县委书记是谁", "靖宇县委书记是谁"),
])
def test_rewrites_follow_ups(question, previous, expected):
    assert rewrite(question, [previous]) == expected


@pytest.mark.parametrize("question", [
    "卢氏模式是什么", "杨书春是谁", "靖宇县2016年有多少贫困人口脱贫", "那曲市的扶贫政策是什么",
])
def test_complete_questions_are_unchanged(question):
    assert rewrite(question, ["卢氏县委书记是谁"]) == question


def test_no_history_no_rewrite():
    assert rewrite("那靖宇县呢?", []) == "那靖宇县呢?"
    assert rewrite("它带动了多少贫困户?", ["", "  "]) == "它带动了多少贫困户?"


def test_uses_the_last_user_message():
    history = [
        {"role": "user", "content": "杨书春是谁"},
        {"role": "assistant", "content": "……"},
        {"role": "user", "content": "老农夫品牌是什么"},
        {"role": "assistant", "content": "……"},
    ]
    assert rewrite("它带动了多少贫困户", history) == "老农夫品牌带动了多少贫困户"


def test_chained_follow_ups_use_the_rewritten_question():
    first = rewrite("那靖宇县呢", ["卢氏县委书记是谁"])
    assert rewrite("那共青城呢", ["卢氏县委书记是谁", first]).startswith("共青城")


def test_nothing_to_replace_leaves_question_alone():
    assert rewrite("它是什么", ["哪里有贫困户"]) == "它是什么"
    assert rewrite("那呢", ["卢氏县委书记是谁"]) == "那呢"


def test_helpers():
    assert is_elliptical("那靖宇县呢?")
    assert is_elliptical("靖宇县呢")
    assert not is_elliptical("卢氏模式是什么")
    assert "卢氏县" in places("卢氏县委书记是谁")
    assert subject("老农夫品牌是什么") == "老农夫品牌"
