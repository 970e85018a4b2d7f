"""The sentence verifier: what a generated sentence must share with the passage it cites."""

from __future__ import annotations

import pytest

from qa.answer.question import fold
from qa.generate.verify import (
    GeneratedSentence,
    numbers,
    split_generated,
    verify_cited,
    verify_generated,
    verify_sentence,
)

LUSHI = ("卢氏县位于河南省西部。2016年，卢氏县脱贫1.26万人，贫困发生率降至8.5%。"
         "县长张建国说，卢氏模式的核心是“金融扶贫”。")
OTHER = "寻乌县位于江西省南部。2017年，寻乌县脱贫3200人。"


def _check(text: str, passages: list[str]):
    [(sentence, verdict)] = verify_generated(text, passages)
    return sentence, verdict


def test_supported_sentence_passes_with_a_verbatim_quote():
    sentence, v = _check("2016年，卢氏县脱贫1.26万人[1]。", [LUSHI])
    assert sentence.citations == [1]
    assert v.ok and v.reason == "verified" and v.passage == 0
    quote = LUSHI[v.quote_start:v.quote_end]
    assert quote == "2016年，卢氏县脱贫1.26万人，贫困发生率降至8.5%。"
    assert quote in LUSHI


def test_reworded_sentence_with_numbers_written_differently_passes():
    v = verify_sentence(GeneratedSentence("卢氏县在二〇一六年脱贫一万二千六百人", [1]), [LUSHI])
    assert v.ok, v


def test_changed_number_fails():
    for wrong in ("2016年，卢氏县脱贫1.36万人[1]。", "2017年，卢氏县脱贫1.26万人[1]。",
                  "2016年，卢氏县的贫困发生率降至9.5%[1]。"):
        _, v = _check(wrong, [LUSHI])
        assert not v.ok and v.reason == "missing", (wrong, v)


def test_number_stated_elsewhere_in_the_passage_fails():
    passage = LUSHI + "2019年，卢氏县整体脱贫摘帽。"
    _, v = _check("2019年，卢氏县整体脱贫摘帽[1]。", [passage])
    assert v.ok, v
    # 2019年 is in the passage, but about something else
    _, v = _check("2019年，卢氏县脱贫1.26万人[1]。", [passage])
    assert not v.ok and v.missing == ("2019年",), v


def test_changed_name_fails():
    _, v = _check("县长李明说，卢氏模式的核心是“金融扶贫”[1]。", [LUSHI])
    assert not v.ok and any("李明" in m for m in v.missing), v
    _, v = _check("2016年，寻乌县脱贫1.26万人[1]。", [LUSHI])
    assert not v.ok


def test_changed_quoted_term_fails():
    _, v = _check("县长张建国说，卢氏模式的核心是“产业扶贫”[1]。", [LUSHI])
    assert not v.ok


def test_wrong_citation_number_fails():
    _, v = _check("2016年，卢氏县脱贫1.26万人[2]。", [LUSHI, OTHER])
    assert not v.ok
    _, v = _check("2016年，卢氏县脱贫1.26万人[3]。", [LUSHI, OTHER])
    assert not v.ok and v.reason == "bad citation"


def test_uncited_sentence_fails():
    sentence, v = _check("2016年，卢氏县脱贫1.26万人。", [LUSHI])
    assert sentence.citations == []
    assert not v.ok and v.reason == "uncited"
    assert verify_sentence("2016年，卢氏县脱贫1.26万人。", []).reason == "uncited"


def test_traditional_passage_supports_a_simplified_sentence():
    passage = "梵語的學術研究，由德國學者陸特和漢斯雷頓開創。後來威廉·瓊斯發現印歐語系。"
    _, v = _check("梵语的学术研究由德国学者陆特和汉斯雷顿开创[1]。", [passage])
    assert v.ok, v
    assert passage[v.quote_start:v.quote_end] == "梵語的學術研究，由德國學者陸特和漢斯雷頓開創。"


def test_full_width_digits_and_markers_pass():
    sentence, v = _check("２０１６年，卢氏县脱贫１.２６万人［１］。", [LUSHI])
    assert sentence.citations == [1]
    assert v.ok, v
    assert ("12600", "人") in numbers(fold("１.２６万人"))


def test_split_attaches_markers_before_or_after_the_sentence_end():
    parts = split_generated("甲地脱贫[1]。乙地脱贫。[2][3]丙地【２】！丁地[1,2]；\n[4]\n戊地")
    assert [(p.text, p.citations) for p in parts] == [
        ("甲地脱贫。", [1]), ("乙地脱贫。", [2, 3]), ("丙地！", [2]), ("丁地；", [1, 2, 4]),
        ("戊地", []),
    ]


def test_sentence_citing_two_passages_uses_both():
    _, v = _check("卢氏县2016年脱贫1.26万人，寻乌县2017年脱贫3200人[1][2]。", [LUSHI, OTHER])
    assert v.ok, v


def test_added_negation_fails():
    _, v = _check("2016年，卢氏县没脱贫1.26万人[1]。", [LUSHI])
    assert not v.ok and "没脱" in v.missing, v


def test_a_place_named_only_in_the_documents_title_is_accepted_with_the_title():
    passage = "2016年，全县下派第一书记85名，帮扶贫困村78个。"
    title = "靖宇：脱贫攻坚战犹酣"
    sentence = split_generated("靖宇县下派了85名第一书记[1]。")[0]
    assert not verify_cited(sentence, [passage]).ok  # the passage alone never names it
    assert verify_cited(sentence, [passage], titles=[title]).ok
    # the title lends names, not facts: another place or another number still fails
    other = split_generated("抚松县下派了85名第一书记[1]。")[0]
    assert not verify_cited(other, [passage], titles=[title]).ok
    number = split_generated("靖宇县下派了58名第一书记[1]。")[0]
    assert not verify_cited(number, [passage], titles=[title]).ok


def test_a_plan_name_is_not_a_number_and_brackets_do_not_split_a_word():
    passage = "“十三五”期间,绵阳累计新(改)建县道、乡道、村道等农村公路1.1万公里;"
    ok = verify_sentence("绵阳十三五期间新改建农村公路1.1万公里[1]。", [passage])
    assert ok.ok, ok
    # the figure itself is still checked
    wrong = verify_sentence("绵阳十三五期间新改建农村公路1.5万公里[1]。", [passage])
    assert not wrong.ok and any("15000" in m for m in wrong.missing)


JINGYU = ("2015年初全县建档立卡贫困对象8353户15960人、2016年初建档立卡贫困对象7329户13660人,"
          "贫困对象识别由基本准确到相对精准。2016年全县基础设施投入3.3亿元。")


def test_figures_stated_together_after_a_label_are_verified_with_the_title():
    """A model's terse line (靖宇：figure figure) has no words to locate its figures by; two
    figures the passage states together, under the title's place, are the passage's."""
    sentence = split_generated("靖宇：7329户13660人[1]。")[0]
    assert verify_cited(sentence, [JINGYU], titles=["靖宇:脱贫攻坚战犹酣"]).ok
    swapped = split_generated("靖宇：7329户15960人[1]。")[0]  # figures of two years mixed
    assert not verify_cited(swapped, [JINGYU], titles=["靖宇:脱贫攻坚战犹酣"]).ok


def test_a_figure_belongs_to_the_year_stated_last_before_it():
    ok = verify_sentence("2016年初全县建档立卡贫困对象7329户13660人[1]。", [JINGYU])
    assert ok.ok, ok
    for wrong in ("2015年初全县建档立卡贫困对象7329户13660人[1]。",
                  "15年初全县建档立卡贫困对象7329户[1]。"):
        v = verify_sentence(wrong, [JINGYU])
        assert not v.ok and "7329户" in v.missing, (wrong, v)


def test_a_two_digit_year_is_the_passages_year():
    assert verify_sentence("16年全县基础设施投入3.3亿元[1]。", [JINGYU]).ok
    assert not verify_sentence("17年全县基础设施投入3.3亿元[1]。", [JINGYU]).ok


def test_the_question_lends_its_wording_only_to_a_sentence_stating_what_it_asks():
    from qa.generate.written import check

    passages = [{"passage_id": "p", "title": "靖宇:脱贫攻坚战犹酣", "text": JINGYU + (
        "光伏扶贫方面,已获批16.3兆瓦建设规模指标。")}]
    asked = "靖宇16年基础设施一共砸了多少钱"
    echo = split_generated("靖宇16年基础设施一共砸了3.3亿元[1]。")[0]
    assert not check(echo, passages).verdict.ok  # 一共砸 is not the passage's wording
    assert check(echo, passages, asked).verdict.ok
    # 16.3兆瓦 is no sum of money: 总共投了 stays the model's own claim
    other = split_generated("靖宇光伏扶贫项目总共投了16.3兆瓦建设规模指标[1]。")[0]
    assert not check(other, passages, "靖宇光伏扶贫项目总共投了多少钱").verdict.ok


COMMUNIQUE_PASSAGE = [{
    "text": "全年粮食播种面积134.2万亩，比上年增加1.8万亩；粮食总产量58.7万吨，增长1.9%。",
    "title": "2022年湖州市国民经济和社会发展统计公报", "passage_id": "p1", "doc_id": "d1"}]


@pytest.mark.parametrize(("reply", "question", "ok"), [
    ("58.7万吨", "22年湖州粮食产量", True),  # the figure of the asked measure, alone
    ("134.2万亩", "22年湖州粮食产量", False),  # the sown area beside it
    ("1.8万亩", "22年湖州粮食产量", False),
    ("134.2万亩", "22年湖州粮食播种面积", True),
    ("58.7万吨", "21年湖州粮食产量", False),  # the communiqué is 2022's
])
def test_a_bare_value_is_checked_as_the_answer_to_the_question(reply, question, ok):
    from qa.generate.written import check

    item = check(GeneratedSentence(reply, [1]), COMMUNIQUE_PASSAGE, question)
    assert item.verdict.ok is ok
    assert item.shown is ok


ZONE_PASSAGE = [{
    "text": "全年全县规模以上工业增加值98.4亿元，增长8.1%。桃源高新技术产业开发区全年实现规模以上"
            "工业增加值70.1亿元，增长9.6%。",
    "title": "桃源县2024年国民经济和社会发展统计公报", "passage_id": "p1", "doc_id": "d1"}]


@pytest.mark.parametrize(("reply", "ok"), [
    ("桃源24年规上工业增加值98.4亿元[1]。", True),
    ("桃源24年规上工业增加值70.1亿元[1]。", False),  # the development zone's figure
    ("桃源高新技术产业开发区24年规上工业增加值70.1亿元[1]。", True),  # named as the zone's
])
def test_a_zones_figure_is_not_verified_as_the_places(reply, ok):
    from qa.generate.written import check, reason_text

    item = check(split_generated(reply)[0], ZONE_PASSAGE, "桃源24年规上工业增加值多少亿")
    assert item.verdict.ok is ok
    if not ok:
        assert "开发区" in reason_text(item.verdict)


@pytest.mark.parametrize(("sentence", "ok"), [
    ("集中缴费期为2024年9月1日至2024年12月31日[1]。", True),
    ("集中缴费期为24年9月1日至24年12月31日[1]。", True),
    # 2025年 and 9月1日 both stand in the passage, but not as one date
    ("集中缴费期为2025年9月1日至2024年12月31日[1]。", False),
    ("集中缴费期为2024年10月1日至2024年12月31日[1]。", False),
])
def test_a_date_must_be_stated_whole(sentence, ok):
    passage = "答：2025年度城乡居民医保集中缴费期为2024年9月1日至2024年12月31日。"
    s = split_generated(sentence)[0]
    assert verify_sentence(s, [passage]).ok is ok
