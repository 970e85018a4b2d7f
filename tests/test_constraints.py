"""The constraints of a question (time, place, kind of quantity) and whether a sentence,
read in its document, meets them (qa.answer.constraints). Expected values are written out by
hand."""

from __future__ import annotations

import pytest

from qa.answer import constraints as c
from qa.answer.frames import DocFrames, Frame, document_frames
from qa.answer.quantity import quantities
from qa.answer.question import analyze, fold
from qa.answer.times import Times, times


def _years(text: str, doc_year: int | None = None) -> set[int]:
    return set(times(fold(text), doc_year).years)


@pytest.mark.parametrize(("text", "doc_year", "years"), [
    ("2023年，全市生产总值4015亿元，比2022年增长6.2%。", None, {2023}),  # 比2022年 is a base
    ("与2019年相比，全县减少贫困人口1.2万人。", None, set()),
    ("全年生产总值比上年增长6.2%。", 2023, set()),  # 比上年: a base, not the time
    ("过去一年，全市新增就业3.1万人。", 2024, {2023}),
    ("今年经济社会发展的主要预期目标是：地区生产总值增长6%左右。", 2024, {2024}),
    ("依据《2022年度考核办法》实施。", None, set()),  # a year inside a document's name
    ("於二零零五年七月一日，電腦學系遷移到資訊學院。", None, {2005}),  # Chinese digits
    ("一九四九年十月一日成立。", None, {1949}),
])
def test_times_read_the_time_of_a_figure_not_its_base(text, doc_year, years):
    assert _years(text, doc_year) == years


def test_periods_since_ranges_and_five_year_plans():
    assert times(fold("2013年以来，累计脱贫3万人"), 2017).periods == ((2013, 2017),)
    assert times(fold("2016—2020年累计投入资金"), None).periods == ((2016, 2020),)
    assert times(fold("“十三五”期间新改建农村公路"), None).periods == ((2016, 2020),)
    assert times(fold("上半年实现增加值"), None).subyear


@pytest.mark.parametrize(("question", "quantity"), [
    ("2023年湖州市生产总值是多少", "amount"),
    ("湖州人均GDP是多少", "per_unit"),
    ("湖州生产总值增速是多少", "rate"),
    ("湖州GDP增长了多少", "rate"),
    ("全市常住人口增加了多少万人", "amount"),
    ("湖州GDP增速", "rate"),  # a bare topic asking for a rate
    ("卢氏模式是什么", ""),
    ("溜马队球队历史上的胜率新纪录是多少胜", "amount"),  # the rate is the topic, 多少胜 a count
    ("该皇帝亲率部队抵抗敌人，他在战斗中阵亡时有多少士兵", "amount"),  # 亲率 leads, no rate
])
def test_asked_kind_of_quantity(question, quantity):
    assert c.of_question(analyze(question)).quantity == quantity


def test_question_constraints_years_and_places():
    got = c.of_question(analyze("2021年德清县生产总值是多少"))
    assert got.years == {2021}
    assert [p.name for p in got.places] == ["德清县"]
    assert got.places[0].level == 3


def test_quantities_of_a_sentence():
    assert quantities(fold("全市生产总值4015亿元，比上年增长6.2%。")) == {"amount", "rate"}
    assert quantities(fold("人均生产总值98000元。")) == {"per_unit"}
    assert quantities(fold("贫困发生率下降3.1个百分点。")) == {"rate"}
    # a multiple in Chinese numerals is a ratio too, not a total
    assert quantities(fold("钩鼻海蛇的毒素烈度约为眼镜蛇的四至八倍。")) == {"rate"}
    assert quantities(fold("大约为曼哈顿岛的七倍。")) == {"rate"}


def _frames(title: str, date: str, texts: list[str]) -> DocFrames:
    return document_frames(title, date, title, texts)


COMMUNIQUE_2023 = _frames("2023年湖州市国民经济和社会发展统计公报", "2024-03-15",
                          ["全年全市生产总值4015亿元，比上年增长6.2%。"])
REPORT_2024 = _frames("政府工作报告", "", [
    "政府工作报告\n——2024年1月18日在湖州市第九届人民代表大会第三次会议上",
    "一、2023年工作回顾\n全市生产总值4015亿元，增长6.2%。",
    "二、2024年工作安排\n地区生产总值增长6%左右。"])


def _check(question: str, sentence: str, frames: DocFrames, position: int = 0,
           before: str = "") -> list[c.Unmet]:
    return c.check(c.of_question(analyze(question)), fold(sentence), fold(before),
                   frames.at(position, 10_000), frames.doc_year)


def test_a_communique_answers_its_own_year_only():
    sentence = "全年全市生产总值4015亿元，比上年增长6.2%。"
    assert _check("2023年湖州生产总值是多少", sentence, COMMUNIQUE_2023) == []
    unmet = _check("2021年湖州生产总值是多少", sentence, COMMUNIQUE_2023)
    assert [u.kind for u in unmet] == ["year"]
    assert unmet[0].found == "2023年"
    assert "2023年" in c.describe(unmet) and "2021年" in c.describe(unmet)


def test_report_headings_set_the_year_of_what_follows():
    assert REPORT_2024.doc_year == 2024  # from the date line, not a heading
    results, targets = "全市生产总值4015亿元，增长6.2%。", "地区生产总值增长6%左右。"
    assert _check("2023年湖州生产总值增速是多少", results, REPORT_2024, 1) == []
    assert _check("2024年湖州生产总值增长目标是多少", results, REPORT_2024, 1)
    assert _check("2024年湖州生产总值增长目标是多少", targets, REPORT_2024, 2) == []
    # the date line (a day) is not a period: before the first heading nothing is framed
    assert REPORT_2024.at(0, 10_000).heading_times.years == frozenset()


def test_an_explicit_other_year_fails_and_the_asked_one_meets():
    frames = _frames("靖宇:脱贫攻坚战犹酣", "2017-06-09", ["x"])
    assert _check("靖宇县2016年脱贫多少人", "2016年，全县脱贫5000人。", frames) == []
    assert _check("靖宇县2015年脱贫多少人", "2016年，全县脱贫5000人。", frames)
    # the year an earlier sentence of the paragraph opens with governs this one
    assert _check("靖宇县2016年脱贫多少人", "全县脱贫5000人。", frames,
                  before="2016年，全县整合资金3亿元。") == []


def test_a_county_figure_is_not_the_citys_and_the_other_way_round():
    county = _frames("2023年德清县国民经济和社会发展统计公报", "2024-03-01", ["x"])
    city = COMMUNIQUE_2023
    sentence_county = "全年全县生产总值720亿元。"
    sentence_city = "全年全市生产总值4015亿元。"
    assert _check("2023年湖州市生产总值是多少", sentence_county, county)
    assert _check("2023年德清县生产总值是多少", sentence_city, city)
    assert _check("2023年德清县生产总值是多少", sentence_county, county) == []
    assert _check("2023年湖州市生产总值是多少", sentence_city, city) == []
    # another county named in the sentence itself
    assert _check("德清县生产总值是多少", "安吉县生产总值600亿元。", city)[0].found == "安吉县"


def test_per_capita_asked_total_stated_is_unmet():
    unmet = _check("2023年湖州人均生产总值是多少", "全年全市生产总值4015亿元。", COMMUNIQUE_2023)
    # the kind of figure is what the reason names first; the measure (no 人均) fails too
    assert [u.kind for u in unmet] == ["quantity", "measure"]
    assert _check("2023年湖州人均生产总值是多少", "人均生产总值118000元。", COMMUNIQUE_2023) == []


def test_a_document_title_found_among_its_opening_lines():
    from qa.ingest.readers import guess_title

    text = ("景寧畲族自治縣人民代表大會常務委員會公告\n（第5號）\n"
            "《條例》已於2023年通過，現予公佈。\n"
            "景寧畲族自治縣惠明茶產業保護條例\n第一條 為了保護…")
    assert guess_title(text, "stem") == "景寧畲族自治縣惠明茶產業保護條例"
    notice = ("于 都 县 人 民 政 府 办 公 室 文 件\n于府办字〔2024〕15号\n"
              "关于印发《于都县2024年农村人居环境整治提升\n行动实施方案》的通知\n各乡（镇）人民政府：")
    assert guess_title(notice, "stem") == "于都县2024年农村人居环境整治提升行动实施方案"


# ---------------------------------------------------------------- through the answerer
STATS = [
    {"id": "huzhou2022", "title": "2022年湖州市国民经济和社会发展统计公报", "date": "2023-03-16",
     "text": "一、综合\n初步核算，全年全市生产总值3850亿元，比上年增长4.3%。"
             "全市常住人口345万人。\n二、农业\n全年粮食总产量62万吨，比上年增长1.2%。"},
    {"id": "huzhou2023", "title": "2023年湖州市国民经济和社会发展统计公报", "date": "2024-03-15",
     "text": "一、综合\n初步核算，全年全市生产总值4015亿元，比上年增长6.2%。"
             "按常住人口计算，人均生产总值116000元。\n二、农业\n全年粮食总产量63万吨，比上年增长1.6%。"},
    {"id": "deqing2023", "title": "2023年德清县国民经济和社会发展统计公报", "date": "2024-03-10",
     "text": "一、综合\n初步核算，全年全县生产总值720亿元，比上年增长7.1%。\n"
             "二、农业\n全年全县粮食总产量9万吨。"},
]


@pytest.fixture(scope="module")
def stats(tmp_path_factory):
    from tests.test_strategies import answerer_over

    return answerer_over(STATS, tmp_path_factory.mktemp("stats"))


def test_the_asked_year_is_answered_from_its_own_document(stats):
    ans = stats.ask("2022年湖州市生产总值是多少", mode="bm25")
    assert ans.found
    assert "3850亿元" in ans.answer and "4015" not in ans.answer
    assert {c.doc_id for c in ans.citations} == {"huzhou2022"}


def test_a_year_the_collection_lacks_is_refused_with_what_it_has(stats):
    ans = stats.ask("2021年湖州市生产总值是多少", mode="bm25")
    assert not ans.found and ans.partial
    assert ans.answer.startswith("资料中没有找到2021年的数据，只有")
    assert "2021年" in ans.answer
    assert ans.citations  # the nearest figure, cited
    assert ans.segments[0]["n"] is None  # the reason is not a cited sentence


def test_a_county_question_is_not_answered_with_the_citys_figure(stats):
    ans = stats.ask("2023年德清县生产总值是多少", mode="bm25")
    assert ans.found and "720亿元" in ans.answer
    city = stats.ask("2023年湖州市生产总值是多少", mode="bm25")
    assert city.found and "4015亿元" in city.answer and "720" not in city.answer


def test_per_capita_asked_where_only_a_total_is_stated(stats):
    ans = stats.ask("2022年湖州市人均生产总值是多少", mode="bm25")
    assert not ans.found


def test_two_places_of_the_collection_are_answered_part_by_part(stats):
    ans = stats.ask("湖州市和德清县2023年生产总值分别是多少", mode="bm25")
    assert "4015亿元" in ans.answer and "720亿元" in ans.answer
    assert {c.doc_id for c in ans.citations} == {"huzhou2023", "deqing2023"}
    assert [s["label"] for s in ans.segments if s["n"] is not None] == ["湖州市", "德清县"]


def test_one_part_from_another_year_is_marked_with_what_the_collection_has(stats):
    ans = stats.ask("2022年和2021年湖州市生产总值分别是多少", mode="bm25")
    assert "3850亿元" in ans.answer
    assert ans.partial
    assert "2021年：资料中没有找到2021年的数据，只有" in ans.answer


@pytest.mark.parametrize(("question", "sentence", "unmet"), [
    ("第四届立法会选举共计有多少人投票", "第三届立法会选举刷新了历届投票纪录。", "第3届"),
    ("9号线巴沟站有几个出入口", "10号线巴沟站共设3个出入口。", "10号线"),
    ("莫桂兰是谁的第二任妻子", "莫桂兰是黄飞鸿的第四任妻子。", "第4任"),
    ("第十届全运会排球比赛分为哪些小项", "第10届全运会排球比赛分为男女两项。", None),
    ("第三次靳云鹏内阁在什么时间结束", "第二次靳云鹏内阁结束于1921年5月14日。", "第2次"),
    ("13世纪圣谢尔盖在这里建立了什么建筑", "15世纪圣谢尔盖在这里建立了修道院。", "15世纪"),
    ("城巴12线连接了哪两个地方", "城巴12M线来往金钟和半山区。", "12m线"),
    ("美国岛屿中面积排名第18位的岛屿是哪个", "茂宜岛面积在美国岛屿中排名第17位。", "第17位"),
    ("第二次中山十景评选在何时举办", "1985年和1998年连续进行了两次中山十景评选。", None),
    ("莫桂兰是谁的第二任妻子", "莫桂兰是黄飞鸿的第四任妻子，他前三任妻子都早逝。", "第4任"),
    ("9号线和10号线车站怎样交叉", "10号线车站和8号线车站呈T字形交叉。", "10号线"),
    ("欧洲人第一次来到苏利南是在何时", "1650年第一批欧洲人来到此地，第二次是1667年。", None),
    ("魏明帝在哪一世纪接见了罗马使者", "公元三世纪，魏明帝接见了来自罗马帝国的使者。", None),
])
def test_a_numbered_one_of_a_series_is_not_another(question, sentence, unmet):
    wanted = c.of_question(analyze(question))
    got = c.check_ordinals(wanted, fold(sentence), fold(sentence))
    assert (got.found if got else None) == unmet


@pytest.mark.parametrize(("question", "passage", "unmet"), [
    ("1919年9月12日协约国与奥地利在哪里签署了条约",
     "1919年9月10日，协约国与奥地利在圣日耳曼昂莱签署了条约。", "9月10日"),
    ("2015年8月26日公布的调查测出了哪种致癌物", "2015年8月26日至28日公布调查，测出丙烯酰胺。",
     None),
    ("九月十日签署了什么条约", "1919年9月10日签署了条约。", None),
    ("协约国在哪里签署了条约", "1919年9月10日签署了条约。", None),
])
def test_a_day_asked_is_the_day_the_passage_tells_of(question, passage, unmet):
    wanted = c.of_question(analyze(question))
    got = c.check_days(wanted, fold(passage), fold(passage))
    assert (got.found if got else None) == unmet


@pytest.mark.parametrize(("question", "passage", "unmet"), [
    # the sentence says no year; its passage tells of other years only
    ("梁修身1973年出演了什么电视剧", "他也有参与电视剧演出。最经典的乃1980年的《千王之王》。",
     "1980年"),
    ("梁修身1974年出演了什么电视剧", "1974年他加入电视台。他也有参与电视剧演出。", None),
    ("梁修身1973年出演了什么电视剧", "他也有参与电视剧演出，角色深入人心。", None),
])
def test_a_year_asked_and_absent_from_a_passage_of_other_years_is_unmet(question, passage, unmet):
    wanted = c.of_question(analyze(question))
    got = c.check_time(wanted, Times(), Frame(), False, True, fold(passage))
    assert (got.found if got else None) == unmet


@pytest.mark.parametrize(("question", "sentence", "unmet"), [
    ("青木广彰在英国开的铁板烧连锁店叫什么", "青木广彰在美国开的铁板烧连锁店叫红花。", "美国"),
    ("约翰从意大利王室那里获得了什么", "约翰从英国王室那里获得了瓦勒普斯岛。", "英国"),
    ("约翰从英国王室那里获得了什么", "约翰从英国王室那里获得了瓦勒普斯岛。", None),
    # the other place is what the question asks for
    ("北美自由贸易协议是美国和墨西哥以及哪一国的协议",
     "克林顿与加拿大和墨西哥签订了北美自由贸易协议。", None),
])
def test_a_sentence_saying_the_asked_thing_of_another_place_does_not_answer(question, sentence,
                                                                               unmet):
    wanted = c.of_question(analyze(question))
    got = c.check_place(wanted, fold(sentence), "", Frame(), fold(sentence), fold(sentence))
    assert (got.found if got else None) == unmet


def test_one_character_of_role_is_enough_in_a_document_that_never_names_the_asked_place():
    wanted = c.of_question(analyze("迷宫的十字路剧场版在印尼的票房是多少"))
    sentence = fold("该片于2003年4月19日上映，在日本有32亿日元的票房收益。")
    got = c.check_place(wanted, sentence, "", Frame(), sentence, sentence)
    assert got is not None and got.found == "日本"
    # the document names the asked place elsewhere: the sentence may be one of several
    doc = sentence + fold("2004年该片在印尼上映。")
    assert c.check_place(wanted, sentence, "", Frame(), doc, sentence) is None


@pytest.mark.parametrize(("question", "sentence", "unmet"), [
    ("2013年2月哥伦比亚银行宣布以多少美元并购渣打银行（巴拿马）",
     "2013年2月哥伦比亚银行宣布以21亿美元并购汇丰银行（巴拿马）。", "汇丰银行"),
    ("1926年，吴鼎昌、张季鸾、王芸生合组新记公司接办了哪份报纸",
     "1926年，吴鼎昌、张季鸾、胡政之合组新记公司，接办《大公报》。", "胡政之"),
    ("1926年，吴鼎昌、张季鸾、胡政之合组新记公司接办了哪份报纸",
     "1926年，吴鼎昌、张季鸾、胡政之合组新记公司，接办《大公报》。", None),
])
def test_a_sentence_saying_the_asked_thing_of_another_name_does_not_answer(question, sentence,
                                                                              unmet):
    wanted = c.of_question(analyze(question))
    got = c.check_names(wanted, fold(sentence), "", fold(sentence))
    assert (got.found if got else None) == unmet


def test_a_member_of_a_series_the_document_numbers_but_never_names_is_unmet():
    wanted = c.of_question(analyze("第三次靳云鹏内阁在什么时间结束"))
    sentence = fold("此次靳云鹏内阁的倒台是因为和旧交通系的矛盾。")
    doc = fold("第一次靳云鹏内阁成立于1919年。第二次靳云鹏内阁成立于1920年。") + sentence
    assert c.check_ordinals(wanted, sentence, sentence, doc).found == "第1次"
    assert c.check_ordinals(wanted, sentence, sentence, doc + fold("第三次靳云鹏内阁…")) is None
    # another series numbered in the document says nothing about this one
    other = fold("第二次直奉战争爆发。") + sentence
    assert c.check_ordinals(wanted, sentence, sentence, other) is None


def test_a_number_sign_names_the_member_as_hao_does():
    wanted = c.of_question(analyze("10号槽钢厚度是多少"))
    assert c.check_ordinals(wanted, fold("规格10#槽钢是100*48*5.3。"), "") is None
    assert c.check_ordinals(wanted, fold("规格16#槽钢是160*63*6.5。"), "").found == "16号"


def test_the_figure_right_after_the_asked_rate_word_is_the_one_asked():
    wanted = c.of_question(analyze("玻璃的比重是多少"))
    assert c.check_quantity(wanted, fold("钢化玻璃的比重是2.4～2.8g/cm^3。")) is None
    assert c.check_quantity(wanted, fold("玻璃产量为2.4亿吨。")).kind == "quantity"


def test_asking_which_member_of_a_series_is_not_asking_a_quantity():
    wanted = c.of_question(analyze("2007年外长理事会通过7/34P号决议是在第几次会议上"))
    sentence = fold("2007年5月，外长理事会第34次会议通过7/34P号决议。")
    assert wanted.quantity == ""
    assert c.check(wanted, sentence, "", Frame(), None, sentence, sentence) == []


def test_a_headline_naming_the_county_without_its_suffix_sets_the_documents_place():
    # the headline says 靖宇, the text 靖宇县: a question about another county is not
    # answered from this document's 全县 figures, one about 靖宇 is
    frames = document_frames("靖宇:脱贫攻坚战犹酣", "2017-06-09", "靖宇:脱贫攻坚战犹酣",
                             ["脱贫攻坚战启动以来，靖宇县把产业扶贫作为重点。",
                              "全县向贫困户发放贷款1324笔5030万元。"])
    assert [p.name for p in frames.places] == ["靖宇县"]
    sentence = "全县向贫困户发放贷款1324笔5030万元。"
    unmet = c.check(c.with_known_places(c.of_question(analyze("寻乌县发放了多少扶贫贷款")),
                                        fold("寻乌县发放了多少扶贫贷款"), []),
                    fold(sentence), "", frames.at(1, 10_000), frames.doc_year)
    assert [u.kind for u in unmet] == ["place"] and unmet[0].found == "靖宇县"
    assert _check("靖宇县发放了多少扶贫贷款", sentence, frames, 1) == []


def test_a_title_word_followed_by_a_level_character_inside_another_word_is_no_place():
    # 脱贫攻坚市场: 攻坚 is in the headline, but 市 belongs to 市场
    frames = document_frames("脱贫攻坚的新路子", "", "脱贫攻坚的新路子",
                             ["各地把脱贫攻坚市场化，脱贫攻坚市场主体更多。"])
    assert frames.places == ()


def test_a_headline_without_a_place_takes_the_places_the_text_names_most():
    frames = document_frames("春风春雨添新绿", "", "春风春雨添新绿(共青城市)",
                             ["共青城市贫困发生率降至0.68%。"])
    assert [(p.name, p.level) for p in frames.places] == [("共青城市", 2)]


def test_a_loan_asked_is_a_sum_of_money_not_a_count_beside_the_word():
    wanted = c.of_question(analyze("寻乌给贫困户放的扶贫贷款有多少"))
    assert wanted.money
    two_lines = "自定点扶贫以来，县级中心促成了扶贫示范区和两条示范线成立。"
    unmet = c.check_quantity(wanted, fold(two_lines))
    assert unmet is not None and unmet.asked == "金额"
    assert c.check_quantity(wanted, fold("全县共为贫困户发放扶贫贷款3.76亿元。")) is None


def test_a_headline_name_is_the_county_not_its_seat_town():
    frames = document_frames("靖宇:脱贫攻坚战犹酣", "", "靖宇:脱贫攻坚战犹酣",
                             ["靖宇镇、景山镇发展食用菌。靖宇镇新建扶贫车间。",
                              "靖宇县脱贫5000人。"])
    assert [p.name for p in frames.places] == ["靖宇县"]


def test_a_common_noun_ending_like_a_place_is_no_place_constraint():
    # 都市 (a city) is what is asked, not a place the answer must name; 湖州 and 德清县 are
    assert c.of_question(analyze("三线建设的核心都市是哪一个")).places == ()
    assert [p.name for p in c.of_question(analyze("湖州2023年GDP是多少")).places] == ["湖州"]
    assert [p.name for p in c.of_question(analyze("德清县2023年GDP是多少")).places] == ["德清县"]


ROW = "指标：地区生产总值增速；2024年完成：5.6%；2025年目标：6%左右。"


@pytest.mark.parametrize(("question", "sentence", "unmet"), [
    # a report's table row: 2024 is the year of the result, the target is 2025's
    ("桃源2024年GDP增长目标定的多少", ROW, ("2024年", "2025年")),
    ("桃源2025年GDP增长目标定的多少", ROW, None),
    # a result stated, nothing planned
    ("桃源2024年GDP增长目标是多少", "全年实现地区生产总值421.6亿元，增长5.6%。", ("目标", "")),
    ("桃源2024年GDP增长多少", "全年实现地区生产总值421.6亿元，增长5.6%。", None),
    ("2025年GDP预期增长多少", "今年经济社会发展的主要预期目标是：地区生产总值增长6%左右。", None),
])
def test_a_target_asked_is_not_met_by_a_result(question, sentence, unmet):
    got = c.check_target(c.of_question(analyze(question)), fold(sentence))
    assert ((got.asked, got.found) if got else None) == unmet


def test_a_place_of_another_level_in_the_asked_places_role_does_not_answer():
    """大理州 (a prefecture, starting with 大 like common words) asked; the sentence names the
    county's regulation in the same place: the document names the prefecture elsewhere."""
    wanted = c.of_question(analyze("大理州古村落保护条例什么时候施行"))
    assert [p.name for p in wanted.places] == ["大理州"]
    sentence = fold("《巍山彝族回族自治县古村落保护条例》自2025年5月1日起施行。")
    doc = sentence + fold("名录报大理白族自治州人民政府备案。")
    got = c.check_place(wanted, sentence, "", Frame(), doc, sentence)
    assert got is not None and got.found == "巍山彝族回族自治县"
    own = c.of_question(analyze("巍山县古村落保护条例什么时候施行"))
    assert c.check_place(own, sentence, "", Frame(), doc, sentence) is None


def test_a_plans_figure_for_a_coming_year_is_a_target():
    wanted = c.of_question(analyze("江西农产品加工转化率2025年目标"))
    plan = fold("到2025年，规模以上农产品加工企业营业收入达到9000亿元，农产品加工转化率达到72%。")
    assert c.check_target(wanted, plan) is None
