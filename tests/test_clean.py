"""Cleaning rules on small synthetic cases and on the seed articles."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qa.ingest.clean import classify_line, clean, looks_pdf_spaced
from tests.checks import assert_offsets_exact

CJK_SPACE = re.compile(r"[\u4e00-\u9fff]\s+[\u4e00-\u9fff]")


@pytest.mark.parametrize("line,kind", [
    ("當前位置:", "nav"),
    ("首页 > 新闻 > 正文", "nav"),
    ("APP下载", "download"),
    ("上传人:abc 文档编号:123 上传时间:2019-01-01", "hosting"),
    ("展开阅读全文", "hosting"),
    ("第2页 / 共5页", "page-footer"),  # a page counter: evidence of a PDF layout
    ("经营许可证:京ICP备12345678号", "hosting"),
    ("猜你喜欢", "related"),
    ("相关阅读:", "related"),
    ("喜欢这篇文章吗?分享给朋友吧!", "share"),
    ("声明:转载此文是出于传递更多信息之目的,如有侵权请联系删除。", "disclaimer"),
    ("TAG:新闻 |", "tags"),
    ("关键词:扶贫 产业", "tags"),
    ("2019-03-05", "meta"),
    ("(来源:人民日报)", "meta"),
    ("本报记者 张三 李四", "meta"),
    ("村民在田里劳动。王五摄", "caption"),
    ("图为新建成的扶贫车间。", "caption"),
    ("该县2018年投入扶贫资金2亿元,带动3000户脱贫。", "text"),
    ("统揽全面,逐级落实", "text"),
])
def test_line_rules(line, kind):
    assert classify_line(line) == kind


def test_related_list_is_dropped_but_following_article_text_is_kept():
    raw = ("正文第一段,讲述扶贫成效。\n猜你喜欢\n某县召开扶贫会\n脱贫攻坚 重在落实\n"
           "这是一个很长的正文段落,它有完整的句子,也有句号,因此不是相关文章列表的一部分,"
           "必须保留在文档里。")
    c = clean(raw)
    assert "某县召开扶贫会" not in c.text
    assert "重在落实" not in c.text
    assert "必须保留在文档里" in c.text
    assert c.text.startswith("正文第一段")


def test_title_line_dropped_once():
    c = clean("扶贫新模式\n扶贫新模式的正文。\n", title="扶贫新模式")
    assert c.text == "扶贫新模式的正文。"


def test_pdf_spaces_removed_between_cjk_but_kept_between_latin_words():
    raw = "把脱贫攻坚当作头 等大事, 到 2020 年 全部脱贫。 Hello world 2 0 版 本"
    c = clean(raw, fmt="pdf")
    assert "把脱贫攻坚当作头等大事,到2020年全部脱贫。" in c.text
    assert "Hello world 2 0" in c.text
    assert c.repairs["spaces removed"] > 0


def test_spaced_text_detected_without_format_hint():
    spaced = " ".join("卢氏县在脱贫攻坚战中突出六个精准用更加有针对性的扶贫政策")
    assert looks_pdf_spaced(spaced)
    assert not looks_pdf_spaced("春風春雨添新綠 圓夢路上霞滿天。"
                                "共青城市堅持把脫貧攻堅作為第一政治責任。")


def test_page_markers_rejoin_split_sentences():
    raw = ("1、第一页的文字说到一半贫困人\n\n2、口的一半, 第二页继续\n\n"
           "3、 “卢氏模式”是第三页, 实施金融创新 形成\n\n4、 “新模式”结束。")
    c = clean(raw, fmt="pdf")
    assert "贫困人口的一半" in c.text
    assert "形成“新模式”结束。" in c.text
    assert not re.search(r"\d、", c.text)
    assert c.repairs["page markers removed"] == 4


def test_real_numbered_list_in_web_text_is_kept():
    raw = "措施如下:\n1、加大投入。\n2、强化考核。\n"
    c = clean(raw, fmt="web")
    assert "1、加大投入。" in c.text and "2、强化考核。" in c.text


def test_fullwidth_digits_and_latin_narrowed_chinese_punctuation_kept():
    c = clean("投入１２３万元，ＡＢＣ公司：“好”。")
    assert c.text == "投入123万元，ABC公司：“好”。"


def test_offsets_point_at_raw_characters():
    raw = "当前位置:首页 > 新闻\n标题\n  正文 第一段１２。\n\n第二段。"
    c = clean(raw, title="标题")
    assert len(c.offsets) == len(c.text)
    for ch, off in zip(c.text, c.offsets, strict=True):
        if ch != "\n":
            assert raw[off] == ch or (ord(raw[off]) - 0xFEE0) == ord(ch)


def test_seed_passages_have_no_site_chrome(seed_processed):
    chrome = ["APP下载", "猜你喜欢", "當前位置", "首頁 >", "上传人", "文档编号", "展开阅读全文",
              "相关资源", "ICP备", "喜歡這篇文章", "声明:转载", "TAG:", "金锄头文库", "關鍵詞",
              "关键词:", "小編精選", "請您繼續閱讀", "高仿名牌鞋", "金沙县召开", "微供销"]
    for _, passages, _ in seed_processed.values():
        for p in passages:
            for junk in chrome:
                assert junk not in p.text, (p.doc_id, junk)


def test_pdf_seed_has_no_space_between_cjk(seed_processed):
    _, passages, _ = seed_processed["003_7be028efea89ec43"]
    assert passages
    for p in passages:
        assert not CJK_SPACE.search(p.text), p.text[:80]
    joined = "".join(p.text for p in passages)
    assert "把脱贫攻坚当作头等大事" in joined
    assert "2017年7月7日" in joined


# ---------------------------------------------------------------- chrome by shape

@pytest.mark.parametrize("line,kind", [
    ("【字体：大 中 小】【打印】【关闭】", "toolbar"),
    ("扫一扫在手机打开当前页", "toolbar"),
    ("打印本页 关闭窗口", "toolbar"),
    ("分享到：微信 微博 QQ空间", "toolbar"),
    ("发布时间：2023-06-05　点击数：2345", "toolbar"),
    ("【字級：小 中 大】【列印】【轉寄】", "toolbar"),
    ("上一篇：关于开展2024年森林防火宣传月活动的通知", "prev-next"),
    ("下一則：衛生局提醒民眾注意登革熱防治", "prev-next"),
    ("- 1 -", "page-footer"),
    ("— 2 —", "page-footer"),
    ("第1页 共5页", "page-footer"),
    ("3/5", "page-footer"),
    ("首页 | 机构概况 | 政务公开 | 办事服务", "nav"),
    ("現在位置：首頁 > 新聞與公告 > 新聞稿", "nav"),
    ("（完）", "end-mark"),
    # Sentences that mention the same controls are content.
    ("请各单位于5月10日前打印报名表，并关闭无关系统。", "text"),
    ("考生不得携带手机进入考场，上一篇文章已经说明。", "text"),
    ("村民通过扫码支付购买农产品。", "text"),
    ("该作品版权所有人为县文化馆。", "text"),
    ("更多精彩内容将在下周的发布会上公布。", "text"),
    ("分享经济发展迅速", "text"),
    ("5/3", "text"),  # not a page counter: page 5 of 3
])
def test_shape_rules(line, kind):
    assert classify_line(line) == kind


@pytest.mark.parametrize("raw,kept", [
    ("该县完成投资3亿元。（来源：极目新闻）分享让更多人看到", "该县完成投资3亿元。"),
    ("该县完成投资3亿元。（记者 吴丽萍 通讯员 陈晓光）返回搜狐，查看更多责任编辑：",
     "该县完成投资3亿元。"),
    ("该县完成投资3亿元。责任编辑：李桐", "该县完成投资3亿元。"),
    ("该县完成投资3亿元。新民晚报记者 李晓明", "该县完成投资3亿元。"),
    ("该县完成投资3亿元。(完)", "该县完成投资3亿元。"),
    # Not chrome: the start of a sentence, truncated; a control word glued to content.
    ("该县完成投资3亿元。德州企业分享了吉林产出的纤维", None),
    ("该县完成投资3亿元。记者从市交通局获悉，今年", None),
    ("全县完成投资3亿元分享让更多人看到", None),  # no sentence end: nothing is a tail
])
def test_chrome_glued_after_the_last_sentence(raw, kept):
    assert clean(raw).text == (kept or raw)


def test_pdf_spacing_found_statistically_in_any_layout():
    punct = "今年以来， 全镇新发展茶园 3200 亩， 建成加工厂 2 家， 带动 1260 户增收。 " * 3
    assert looks_pdf_spaced(punct)
    # Web text with spaces around numbers (a common typographic style) is not a PDF.
    pangu = "今年全镇新发展茶园 3200 亩，建成加工厂 2 家，带动 1260 户增收。" * 3
    assert not looks_pdf_spaced(pangu)
    c = clean(punct)
    assert "全镇新发展茶园3200亩，建成加工厂2家" in c.text
    assert c.repairs["spaces removed"] > 0


def test_web_chrome_never_raises_the_pdf_flag():
    from qa.ingest.flags import detect_flags

    raw = ("首页 | 新闻 | 政务 | 服务\n【字体：大 中 小】【打印】【关闭】\n扫一扫在手机打开当前页\n"
           "县里召开春耕生产会议，部署今年的粮食生产工作。\n会议要求各乡镇抓好农资供应。\n"
           "上一篇：县领导调研防汛工作\n打印本页 关闭窗口\n")
    c = clean(raw, fmt="web")
    assert c.text == "县里召开春耕生产会议，部署今年的粮食生产工作。\n会议要求各乡镇抓好农资供应。"
    assert detect_flags(c, "simplified") == []


def test_page_footers_are_pdf_evidence_when_there_are_pages():
    one = clean("第一段正文，内容完整。\n- 1 -\n")
    assert "- 1 -" not in one.text and not one.repairs  # a lone footer proves little
    two = clean("第一页的正文，说到一半贫困\n- 1 -\n\n人口减少了一半，工作成效明显。\n- 2 -\n")
    assert two.repairs["page footers removed"] == 2
    assert "- 2 -" not in two.text


def test_wrapped_pdf_lines_are_joined_but_web_lines_are_not():
    raw = ("过去一年，全市地区生产总值突破1200亿元，增长6.8%，一\n"
           "般公共预算收入完成86.3亿元，增长9.1%，主要经济指标增\n"
           "速位居全省前列。\n二、主要目标\n今年地区生产总值预期增长6.5%左右，城镇新增就业2.8万人。\n")
    pdf = clean(raw, fmt="pdf")
    joined = "增长6.8%，一般公共预算收入完成86.3亿元，增长9.1%，主要经济指标增速位居全省前列。"
    assert joined in pdf.text
    assert "\n二、主要目标\n" in pdf.text  # a heading is not a wrapped line
    assert pdf.repairs["wrapped lines joined"] == 2
    assert "，一\n般" in clean(raw, fmt="web").text


def test_page_counters_found_without_a_format_hint_only_when_they_cut_sentences():
    page = "这一页的正文内容很长，讲述了扶贫工作的具体做法和成效，包括产业、就业和教育等方面，" * 5
    raw = f"1、{page}一半贫\n\n2、困人口{page}其\n\n3、中{page}结束。\n"
    c = clean(raw)
    assert c.repairs["page markers removed"] == 3 and "一半贫困人口" in c.text
    items = "1、加大投入，做好产业扶贫\n2、强化考核，压实工作责任\n3、严格奖惩，用好考核结果\n"
    assert clean(items).text == items.strip()


def test_running_headers_repeated_on_every_page_are_dropped():
    page = "全县粮食总产量43.5万吨，增长2.4%。\n"
    raw = "".join(f"清河县统计公报\n{page}第{i}页 共3页\n\n" for i in range(1, 4))
    c = clean(raw)
    assert "清河县统计公报" not in c.text and c.text.count("全县粮食总产量") == 3
    assert c.repairs["running headers removed"] == 3


def test_menus_and_link_lists_only_at_the_edges():
    table = "乡镇\n户数\n城关镇\n862\n桃源镇\n745\n龙泉乡\n603"
    raw = ("首页\n要闻\n政务\n民生\n专题\n"
           "县里完成农村户厕改造5216户，超额完成年度任务。\n" + table +
           "\n各乡镇均已完成验收，群众满意度达到96%。\n"
           "县里召开秋冬种工作推进会\n全县启动冬季消防安全大检查\n"
           "西陵区举办第三届社区邻里节\n全区首家智慧健康小屋揭牌\n")
    c = clean(raw, fmt="web")
    assert c.text.startswith("县里完成农村户厕改造5216户") and table in c.text
    assert c.text.endswith("群众满意度达到96%。")


def test_batch_lines_and_tails_are_dropped_only_outside_the_text():
    from qa.ingest.boilerplate import Boilerplate

    batch = Boilerplate(lines=frozenset({"清河融媒", "一、总体情况"}),
                        tails=frozenset({"清河融媒与您同行"}))
    raw = ("清河融媒\n一、总体情况\n全县今年完成固定资产投资3亿元。\n一、总体情况\n"
           "投资同比增长12%，增速居全市第二。清河融媒与您同行\n")
    c = clean(raw, boilerplate=batch)
    assert c.text == ("全县今年完成固定资产投资3亿元。\n一、总体情况\n"
                      "投资同比增长12%，增速居全市第二。")
    assert clean(raw).text.startswith("清河融媒\n")  # alone, only shape rules apply


_chrome_tail = st.sampled_from(["", "（来源：极目新闻）", "分享让更多人看到", "责任编辑：李桐",
                                "返回搜狐，查看更多责任编辑：", "(完)", "\n- 2 -",
                                "\n打印本页 关闭窗口"])
_pieces = st.sampled_from(["县里召开会议。", "投入１２万元，", "扶贫", " ", "\n", "２０２３年",
                           "上一篇：", "打印", "「好」。", "- 1 -\n"])


@settings(max_examples=150, deadline=None)
@given(st.lists(_pieces, max_size=40).map("".join), _chrome_tail, _chrome_tail)
def test_offsets_stay_exact_when_chrome_is_cut_from_lines(body, tail1, tail2):
    raw = body + tail1 + tail2
    assert_offsets_exact(raw, clean(raw))
