"""What a figure measures (qa.answer.measures): a communiqué states the whole and its parts,
and several measures of one thing, in sentences that share the question's words. Expected
answers are written out by hand."""

from __future__ import annotations

import pytest

from qa.answer.measures import check_measure, figures, noun_compound
from qa.answer.question import fold
from tests.test_strategies import answerer_over, check_contract

COMMUNIQUE = {
    "id": "gongbao", "title": "某县2023年国民经济和社会发展统计公报", "date": "2024-03-20",
    "text": "一、农业\n全年全县粮食播种面积18.3万亩，比上年增加0.3万亩；蔬菜播种面积8.6万亩。"
            "茶叶产量1.93万吨，增长3.8%。\n"
            "二、人民生活\n按常住地分，城镇居民人均可支配收入82415元，增长5.4%；"
            "农村居民人均可支配收入56187元，增长6.9%。\n"
            "全年全县全体居民人均可支配收入73206元，比上年增长6.1%。\n"
            "三、工业\n全年规模以上工业企业实现营业收入1036.5亿元，增长5.1%。"
            "分产业看，第一产业增加值26.3亿元，增长3.0%。",
}


def test_figures_carry_the_words_that_name_them():
    got = figures(fold("城镇居民人均可支配收入82415元，增长5.4%；设置了56个集中安置点。"))
    assert [(f.measure, f.value) for f in got][:2] == [("城镇居民人均可支配收入", "82415元"),
                                                       ("增长", "5.4%")]
    assert got[2].after == "集中安置点"
    assert figures(fold("2023年，全县完成了工作。")) == []  # a year is not a figure


@pytest.mark.parametrize("question, compound", [
    ("德清县2023年粮食总产量", ("粮食", "总产量")),
    ("2023年湖州规上工业增加值是多少亿元", ("规上", "工业", "增加值")),
    ("湖州和瑞金2024年社零增长目标", ()),  # 目标 says how it asks; 增长 is no noun
    ("万泷牧业的种鹅项目每个周期分红多少", ()),  # what it counts is said by a verb
    ("卢氏搬迁一共建了多少处安置点", ()),  # the counted thing follows the question word
])
def test_the_noun_compound_a_question_asks_the_figure_of(question, compound):
    assert noun_compound(fold(question)) == compound


def test_parts_of_the_asked_measure_do_not_answer_it():
    question = fold("2023年居民人均可支配收入多少")
    words = ("居民", "人均", "支配", "收入")
    parts = fold("按常住地分，城镇居民人均可支配收入82415元，增长5.4%；"
                 "农村居民人均可支配收入56187元，增长6.9%。")
    miss = check_measure(words, question, parts)
    assert miss is not None and miss.found == "城镇、农村"
    whole = fold("全年全县全体居民人均可支配收入73206元，比上年增长6.1%。")
    assert check_measure(words, question, whole) is None
    # a question that names one of the parts is answered by it
    assert check_measure(("城镇居民", "人均", "支配", "收入"),
                         fold("城镇居民人均可支配收入多少"), parts) is None
    # verbs do not name parts: the total and the share of it that produces
    assert check_measure(("茶园",), fold("平武县的茶园有多少亩"),
                         fold("发展茶园13.5万亩,投产茶园11万亩,总产值1.37亿元。")) is None
    # two different measures of one thing are not parts of it
    assert check_measure(("游客",), fold("瑞金来了多少游客"), fold(
        "全年接待游客1823万人次；景区游客接待量突破600万人次。")) is None


def test_a_figure_of_another_head_noun_does_not_answer():
    doc = fold(COMMUNIQUE["text"])
    question = fold("德清县2023年粮食总产量")
    area = fold("全年全县粮食播种面积18.3万亩，比上年增加0.3万亩。")
    assert check_measure(("粮食", "总产量"), question, area, doc) is not None
    assert check_measure(("粮食", "总产量"), question, fold("全年粮食总产量9.8万吨。"),
                         doc) is None
    # a word the document never names a figure with is the asker's own (外贸 ~ 货物进出口)
    trade = fold("全年全市货物进出口总额1426.3亿元，比上年增长9.8%。")
    assert check_measure(("外贸", "进出口"), fold("2022年湖州外贸进出口总额"), trade,
                         trade) is None
    # the topic may be left implied by the paragraph
    fish = fold("基氏软汉鱼体长可达5公分。")
    assert check_measure(("汉鱼", "体长"), fold("基氏软汉鱼体长是多少"), fold("体长可达5公分。"),
                         fish, before=fold("基氏软汉鱼，鱼类。")) is None
    # … but not by a sibling figure of the paragraph (粮食 of 粮食播种面积 for 茶叶产量)
    assert check_measure(("粮食", "总产量"), question, fold("茶叶产量1.93万吨。"), doc,
                         before=area) is not None


@pytest.fixture(scope="module")
def gongbao(tmp_path_factory):
    return answerer_over([COMMUNIQUE], tmp_path_factory.mktemp("gongbao"))


def test_the_whole_is_answered_not_its_parts(gongbao):
    ans = gongbao.ask("2023年某县居民人均可支配收入多少", mode="bm25")
    assert ans.found and "73206元" in ans.answer
    assert "82415" not in ans.answer
    check_contract(gongbao, ans)


def test_another_measure_of_the_same_thing_is_not_the_answer(gongbao):
    ans = gongbao.ask("某县2023年粮食总产量是多少", mode="bm25")
    assert not ans.found
    assert "18.3万亩" not in ans.answer.split("最接近")[0]  # not stated as the answer
    ans = gongbao.ask("某县2023年规上工业增加值是多少", mode="bm25")
    assert not ans.found


def test_money_and_points_asked_in_colloquial_words():
    from qa.answer.quantity import asked_quantity, asks_money

    assert asks_money("光伏扶贫项目总共投了多少钱", "amount")
    assert asks_money("寻乌给贫困户放的扶贫贷款有多少", "amount")
    assert not asks_money("卢氏农户申请扶贫贷款几天能拿到", "amount")  # days, not money
    assert asked_quantity("2017年扶贫的钱还剩几个点没花出去", "number") == "rate"


@pytest.mark.parametrize("term,n", [("五篇文章", 5), ("十大脱贫工程", 10), ("四不摘", 4),
                                    ("十三五", None), ("一个托底", None)])
def test_a_numbered_term_counts_its_items(term, n):
    from qa.answer.strategies import term_count

    assert term_count(term) == n


def test_a_figure_of_a_zone_inside_the_place_is_not_the_places():
    question = fold("桃源24年规上工业增加值多少亿")
    words = ("工业", "增加值")
    zone = fold("桃源高新技术产业开发区全年实现规模以上工业增加值70.1亿元，增长9.6%，"
                "占全县规模以上工业增加值的比重为71.2%。")
    miss = check_measure(words, question, zone)
    assert miss is not None and miss.found == "开发区"
    county = fold("全年全县规模以上工业增加值98.4亿元，按可比价格计算，比上年增长8.1%。")
    assert check_measure(words, question, county) is None
    # the zone asked: its figure answers
    assert check_measure(words, fold("桃源开发区规上工业增加值多少亿"), zone) is None
