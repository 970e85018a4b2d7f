"""Cleaning on documents it was never fitted to: messy fixtures in real layouts, and real news.

Every fixture under tests/fixtures/messy/ has a sidecar `<name>.expect.json` listing content
sentences that must survive verbatim in a passage (`keep`), boilerplate that must be gone
from every passage (`gone`), and the exact document flags. Encoded fixtures are stored as
UTF-8 and written in their encoding here; the DOCX is built here from its JSON spec.
"""

from __future__ import annotations

import gzip
import json
import shutil
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qa.ingest.boilerplate import learn
from qa.ingest.clean import clean
from qa.ingest.corpus import learn_boilerplate, process, process_batch
from qa.ingest.documents import Document
from qa.ingest.readers import collect_files, read_file
from qa.text.normalize import narrow
from tests.checks import read_passages
from tests.paths import SHARED

MESSY = Path(__file__).resolve().parent / "fixtures" / "messy"
SPECS = {p.name.removesuffix(".expect.json"): p for p in sorted(MESSY.glob("*.expect.json"))}
NEWS = SHARED / "data" / "news" / "crud_news.jsonl.gz"


def spec(name: str) -> dict:
    return json.loads(SPECS[name].read_text(encoding="utf-8"))


def _build_docx(source: Path, dest: Path) -> Path:
    import docx

    plan = json.loads(source.read_text(encoding="utf-8"))
    document = docx.Document()
    document.core_properties.title = plan.get("core_title", "")
    for block in plan["blocks"]:
        if "p" in block:
            document.add_paragraph(block["p"])
        else:
            rows = block["table"]
            table = document.add_table(rows=len(rows), cols=len(rows[0]))
            for r, row in enumerate(rows):
                for c, text in enumerate(row):
                    table.cell(r, c).text = text
    document.save(dest)
    return dest


def materialise(name: str, folder: Path) -> Path:
    """The fixture as a file a user would have: encoded, or built, or copied."""
    s = spec(name)
    source = MESSY / s["source"]
    if s.get("build") == "docx":
        return _build_docx(source, folder / f"{name}.docx")
    dest = folder / source.name
    if s.get("encoding"):
        dest.write_bytes(source.read_text(encoding="utf-8").encode(s["encoding"]))
    else:
        shutil.copy(source, dest)
    return dest


@pytest.fixture(scope="module")
def processed(tmp_path_factory):
    folder = tmp_path_factory.mktemp("messy")
    out = {}
    for name in SPECS:
        sub = folder / name
        sub.mkdir()
        (doc,) = read_file(materialise(name, sub))
        out[name] = (doc, *process(doc))
    return out


@pytest.mark.parametrize("name", sorted(SPECS))
def test_no_boilerplate_left_in_any_passage(processed, name):
    _, _, passages, _ = processed[name]
    assert passages, name
    for phrase in spec(name)["gone"]:
        hits = [p.text for p in passages if phrase in p.text]
        assert not hits, (name, phrase, hits[:1])


@pytest.mark.parametrize("name", sorted(SPECS))
def test_every_content_sentence_survives_verbatim(processed, name):
    _, _, passages, _ = processed[name]
    for sentence in spec(name)["keep"]:
        assert any(sentence in p.text for p in passages), (name, sentence)


@pytest.mark.parametrize("name", sorted(SPECS))
def test_flags_come_from_evidence(processed, name):
    _, record, passages, _ = processed[name]
    names = {f["name"] for f in record.flags}
    assert names == set(spec(name)["flags"]), (name, record.flags)
    for p in passages:
        assert set(p.flags) - {"caption"} == names


def test_pdf_extraction_flag_exactly_on_the_pdf_dumps(processed):
    flagged = {n for n, (_, rec, _, _) in processed.items()
               if "pdf-extraction" in {f["name"] for f in rec.flags}}
    assert flagged == {n for n in SPECS if n.startswith("pdf_")}
    evidence = {n: f["evidence"] for n, (_, rec, _, _) in processed.items()
                for f in rec.flags if f["name"] == "pdf-extraction"}
    assert "page footers removed" in evidence["pdf_page_of"]
    assert "running headers removed" in evidence["pdf_page_of"]
    assert "page markers removed" in evidence["pdf_punct_spaced"]
    assert "spaces removed" in evidence["pdf_spaced_chars"]


@pytest.mark.parametrize("name", sorted(SPECS))
def test_cleaned_characters_map_back_to_the_raw_text(processed, name):
    doc, _, passages, cleaned = processed[name]
    assert len(cleaned.offsets) == len(cleaned.text)
    for ch, off in zip(cleaned.text, cleaned.offsets, strict=True):
        if not ch.isspace():
            assert narrow(doc.text[off]) == ch
    for p in passages:
        assert cleaned.text[p.start:p.end] == p.text


def test_encoded_fixtures_are_decoded(processed):
    assert processed["notice_gbk"][0].meta["encoding"] == "gb18030"
    assert processed["big5_traditional"][0].meta["encoding"] in ("big5", "cp950")
    assert processed["utf16_bom"][0].meta["encoding"] == "utf-16"
    assert processed["utf16_nobom"][0].meta["encoding"].startswith("utf_16") or \
        processed["utf16_nobom"][0].meta["encoding"].startswith("utf-16")
    assert processed["gov_notice"][0].meta["extraction"] == "visible-text (layout table)"


# ---------------------------------------------------------------- one batch, one source

BATCH = MESSY / "batch_site"


def _batch_docs() -> list[Document]:
    files, _ = collect_files(sorted(BATCH.glob("*.txt")))
    return [d for f in files for d in read_file(f)]


def test_batch_detector_removes_what_only_repetition_reveals():
    expect = json.loads((BATCH / "batch.expect.json").read_text(encoding="utf-8"))
    docs = _batch_docs()
    learned = learn_boilerplate(docs)[str(BATCH)]  # one source: the files of one folder
    assert "欢迎关注清河县融媒体中心官方账号" in learned.lines
    assert "清河融媒与您同行" in learned.tails
    passages = [p for _, ps, _ in process_batch(docs) for p in ps]
    for phrase in expect["gone"]:
        assert not [p.text for p in passages if phrase in p.text], phrase
    for sentence in expect["keep"]:
        assert any(sentence in p.text for p in passages), sentence
    # Alone, each document is still cleaned by shape and keeps its content.
    for doc in docs:
        _, alone, _ = process(doc)
        assert alone and all("上一篇" not in p.text for p in alone)


def test_ingest_cleans_a_folder_as_one_batch(tmp_path):
    from qa.ingest.pipeline import ingest

    folder = tmp_path / "site"
    shutil.copytree(BATCH, folder, ignore=shutil.ignore_patterns("*.json"))
    report = ingest([folder], tmp_path / "idx", progress=False)
    assert len(report.documents) == 3 and not report.failures
    rows = read_passages(tmp_path / "idx")
    assert rows
    for row in rows:
        assert "欢迎关注" not in row["text"] and "与您同行" not in row["text"]


def test_copies_of_one_article_do_not_erase_each_other():
    body = ("县里召开防汛工作会议，部署今年汛期各项准备工作。\n"
            "会议要求各乡镇在5月底前完成水库和堤防的安全隐患排查。\n"
            "各地要落实防汛物资储备，确保关键时刻调得出、用得上。（记者 张三）")
    docs = [Document(f"copy{i}", "防汛", body, format="text", path=f"/x/copy{i}.txt")
            for i in range(4)]
    for _, passages, _ in process_batch(docs):
        text = "".join(p.text for p in passages)
        assert "会议要求各乡镇在5月底前完成水库和堤防的安全隐患排查。" in text
        assert "各地要落实防汛物资储备，确保关键时刻调得出、用得上。" in text


def test_a_heading_shared_by_several_reports_stays_inside_each():
    docs = [Document(f"r{i}", f"报告{i}",
                     f"第{i}号工作报告\n一、总体情况\n今年全镇完成投资{i}亿元，同比增长{i}%。\n"
                     f"二、存在问题\n部分项目推进较慢，第{i}季度需要加快进度。\n欢迎关注本镇公众号",
                     format="text", path=f"/y/r{i}.txt") for i in range(1, 5)]
    for _, passages, _ in process_batch(docs):
        text = "\n".join(p.text for p in passages)
        assert "二、存在问题" in text
        assert "欢迎关注本镇公众号" not in text


# ---------------------------------------------------------------- property tests

@cache
def _pools() -> tuple[list[str], list[str], list[str]]:
    """Content sentences of all fixtures, and boilerplate lines of the text fixtures."""
    content: list[str] = []
    boiler: list[str] = []
    texts: list[str] = []
    for name in SPECS:
        s = spec(name)
        content += [x for x in s["keep"] if "。" in x and len(x) >= 12]
        source = MESSY / s["source"]
        if source.suffix == ".txt" and not name.startswith("pdf_"):
            raw = source.read_text(encoding="utf-8")
            texts.append(raw)
            for line in raw.splitlines():
                if any(g in line for g in s["gone"]) and not any(k in line for k in s["keep"]):
                    boiler.append(line)
    return sorted(set(content)), sorted(set(boiler)), texts


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_content_survives_boilerplate_shuffled_around_it(data):
    content_pool, boiler_pool, _ = _pools()
    content = data.draw(st.lists(st.sampled_from(content_pool), min_size=1, max_size=6,
                                 unique=True))
    boiler = data.draw(st.lists(st.sampled_from(boiler_pool), max_size=14))
    lines = data.draw(st.permutations(content + boiler))
    fmt = data.draw(st.sampled_from(["web", "text"]))
    _, passages, _ = process(Document("d", "", "\n".join(lines), format=fmt))
    for sentence in content:
        assert any(sentence in p.text for p in passages), sentence


# Words of UI controls and credits inside real sentences: shape rules must not take them.
_WORDS = ["该县", "今年", "全市", "打印", "关闭", "分享", "首页", "下载", "字体", "扫码", "微信",
          "上一篇", "返回", "更多", "记者", "编辑", "来源", "版权所有", "投入资金", "建成", "项目",
          "群众", "2023年", "1200万元", "办理", "窗口", "手机", "评论", "收藏", "举报", "二维码",
          "大中小", "第1页", "共5页", "主办单位", "English", "QQ"]
# distinct words: a line of one word repeated (该县该县该县该县该县。, drawn once on a fresh
# clone) is a run of junk the cleaner rightly drops, not a content sentence
_sentence = st.builds(
    lambda ws, sep, end: sep.join(ws) + end,
    st.lists(st.sampled_from(_WORDS), min_size=5, max_size=12, unique=True),
    st.sampled_from(["", "，", "、"]),
    st.sampled_from(["。", "。”"]),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_inserted_content_sentences_survive_in_messy_pages(data):
    _, _, texts = _pools()
    raw = data.draw(st.sampled_from(texts))
    lines = raw.splitlines()
    inserted = data.draw(st.lists(_sentence, min_size=1, max_size=4, unique=True))
    for sentence in inserted:
        lines.insert(data.draw(st.integers(0, len(lines))), sentence)
    _, passages, _ = process(Document("d", "", "\n".join(lines), format="text"))
    for sentence in inserted:
        assert any(sentence in p.text for p in passages), sentence


# ---------------------------------------------------------------- real news

def _news(limit: int) -> list[str]:
    with gzip.open(NEWS, "rt", encoding="utf-8") as fh:
        return [json.loads(line)["text"] for _, line in zip(range(limit), fh, strict=False)]


@pytest.mark.skipif(not NEWS.exists(), reason="shared news data not available")
def test_real_news_loses_its_trailing_chrome_and_nothing_else():
    texts = _news(500)
    batch = learn(texts)
    raw_total = kept_total = 0
    for text in texts:
        c = clean(text, boilerplate=batch)
        end = c.text.rstrip()
        assert not end.endswith(("分享让更多人看到", "返回搜狐，查看更多", "责任编辑：")), end[-40:]
        assert "返回搜狐，查看更多" not in end[-40:]
        raw_total += len(text)
        kept_total += len(c.text)
        for s, e, reason in c.removed:
            # Only the edges are cut, and never a statement.
            assert reason in ("leading-chrome", "trailing-chrome"), (reason, text[s:e])
            assert "。" not in text[s:e], text[s:e]
            assert not text[:s].strip() or not text[e:].strip()
        assert len(c.text) >= 0.8 * len(text.strip())
    assert kept_total >= 0.97 * raw_total
