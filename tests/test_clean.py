"""Cleaning rules on small synthetic cases and on the seed articles."""

from __future__ import annotations

import re

import pytest

from qa.clean import classify_line, clean, looks_pdf_spaced

CJK_SPACE = re.compile(r"[\u4e00-\u9fff]\s+[\u4e00-\u9fff]")


@pytest.mark.parametrize("line,kind", [
    ("當前位置:", "nav"),
    ("首页 > 新闻 > 正文", "nav"),
    ("APP下载", "download"),
    ("上传人:abc 文档编号:123 上传时间:2019-01-01", "hosting"),
    ("展开阅读全文", "hosting"),
    ("第2页 / 共5页", "hosting"),
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
