"""Documents of the genres users upload besides news: Markdown plans, statistics
communiqués as web pages, work reports as .docx, a Traditional-script regulation, a PDF dump.
A quality flag shown to users must follow from evidence: clean documents get none."""

from __future__ import annotations

import pytest

from qa.ingest.corpus import process
from qa.ingest.flags import masked_spans
from qa.ingest.readers import read_file
from tests.paths import REPO

POLICY = REPO / "bench" / "data" / "policy" / "dev" / "docs"
# the flags each document of the development policy set must get, read by hand
EXPECTED_FLAGS = {
    "deqing_2023_tongji_gongbao.txt": set(),
    "huzhou_2022_tongji_gongbao.html": set(),
    "huzhou_2023_tongji_gongbao.html": set(),
    "huzhou_2024_zhengfu_gongzuo_baogao.docx": set(),
    "ruijin_2024_zhengfu_gongzuo_baogao.docx": set(),
    "jiangxi_xiangcun_chanye_guihua_2021-2025.md": set(),
    "jingning_huimingcha_tiaoli_fanti.txt": {"traditional"},
    "yudu_2024_renju_huanjing_fangan.txt": {"pdf-extraction"},
}


@pytest.mark.parametrize("name", sorted(EXPECTED_FLAGS))
def test_policy_documents_get_only_the_flags_they_deserve(name):
    (doc,) = read_file(POLICY / name)
    record, passages, _ = process(doc)
    assert {f["name"] for f in record.flags} == EXPECTED_FLAGS[name]
    assert passages


def test_markdown_is_read_as_rendered_text(tmp_path):
    md = tmp_path / "plan.md"
    md.write_text("# 某省乡村振兴规划\n\n## 第一章 总体要求\n\n"
                  "以**“四链融合”**为抓手，*加快*发展。\n\n- 第一项任务\n* 第二项任务\n\n"
                  "| 指标 | 2020年 | 2025年 |\n|---|---|---|\n"
                  "| 粮食产量（万吨） | 2160 | 2200 |\n", "utf-8")
    (doc,) = read_file(md)
    assert doc.title == "某省乡村振兴规划"
    assert "以“四链融合”为抓手，加快发展。" in doc.text
    assert "*" not in doc.text and "|" not in doc.text
    assert "第二项任务" in doc.text
    # a table row keeps each figure next to its column's header
    assert "指标：粮食产量（万吨）；2020年：2160；2025年：2200。" in doc.text
    record, _, _ = process(doc)
    assert record.flags == []


@pytest.mark.parametrize(("text", "masked"), [
    ("把脱贫攻坚作为最大的*治责任，落实*策", ["的*治", "实*策"]),
    ("组建综合、**5个工作分队", ["**5"]),
    ("上传人:ldj****22", ["****2"]),
    ("当事人张**，男", ["张**"]),
    ("**重点任务**要落实", []),  # emphasis
    ("* 第一项\n* 第二项", []),  # bullets
    ("备注:数学*、综合科学*（中一）", []),  # footnote marks
    ("可以使用A*算法寻找最优解", []),
    ("票价11.3米(91**)，5*3=15", []),
])
def test_masked_spans_are_masks_not_markup(text, masked):
    assert masked_spans(text) == masked
