"""Readers: what a user sees when they point the tool at real, messy files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from qa.errors import ReadError
from qa.ingest import readers
from qa.ingest.readers import SUPPORTED, collect_files, read_file

CORPUS = Path(__file__).resolve().parent.parent / "corpus"

SIMPLIFIED = (
    "脱贫攻坚战启动以来，靖宇县坚持以脱贫攻坚工作统领全县经济社会发展全局。\n"
    "2016年全县建档立卡贫困对象实现1579户3182人脱贫。"
)
TRADITIONAL = (
    "去年以來，共青城市堅持把脫貧攻堅作為第一政治責任。\n一方面狠抓全省十大脫貧工程落地落實。"
)


def read_one(path: Path):
    docs = read_file(path)
    assert len(docs) == 1
    return docs[0]


# --------------------------------------------------------------------------- encodings


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        (SIMPLIFIED, "gbk"),
        (SIMPLIFIED, "gb18030"),
        (TRADITIONAL, "big5"),
        (SIMPLIFIED, "utf-16"),  # Python writes a BOM for "utf-16"
        (TRADITIONAL, "utf-16"),
        (SIMPLIFIED, "utf-8-sig"),
        (SIMPLIFIED, "utf-8"),
        # Single short sentences: charset-normalizer guesses Korean/Japanese for these.
        ("扶贫工作取得成效。", "gbk"),
        ("圓夢路上霞滿天。", "big5"),
        ("精準施策咬定目標下足“繡花”功夫", "big5"),
    ],
)
def test_text_file_decodes_to_the_same_text_in_every_encoding(tmp_path, text, encoding):
    path = tmp_path / "doc.txt"
    path.write_bytes(text.encode(encoding))
    doc = read_one(path)
    assert doc.text == text  # no BOM character, no mojibake
    assert doc.format == "text"
    assert doc.meta["encoding"]


def test_gbk_file_reports_a_chinese_encoding(tmp_path):
    path = tmp_path / "doc.txt"
    path.write_bytes(SIMPLIFIED.encode("gbk"))
    assert read_one(path).meta["encoding"] == "gb18030"


def test_line_endings_are_normalised(tmp_path):
    path = tmp_path / "doc.txt"
    path.write_bytes("第一行\r\n第二行\r第三行\n".encode())
    assert read_one(path).text == "第一行\n第二行\n第三行\n"


def test_text_is_otherwise_kept_exactly(tmp_path):
    raw = "  标题  \n\n\n正文　全角空格\t制表符   结尾空格   \n"
    path = tmp_path / "doc.txt"
    path.write_text(raw, encoding="utf-8")
    assert read_one(path).text == raw


def test_undecodable_bytes_are_a_read_error(tmp_path):
    path = tmp_path / "junk.txt"
    path.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(ReadError, match="cannot decode text"):
        read_file(path)


def test_blank_file_is_an_empty_document(tmp_path):
    path = tmp_path / "blank.txt"
    path.write_text(" \n\n\t\n", encoding="utf-8")
    with pytest.raises(ReadError, match="empty document") as info:
        read_file(path)
    assert "blank.txt" in str(info.value)


# --------------------------------------------------------------------------- titles, ids


def test_title_is_first_short_line_and_markdown_heading_marks_are_dropped(tmp_path):
    path = tmp_path / "note.md"
    path.write_text("\n# 乡村振兴政策解读\n\n正文内容。", encoding="utf-8")
    assert read_one(path).title == "乡村振兴政策解读"


def test_long_first_line_is_not_a_title(tmp_path):
    path = tmp_path / "caption.txt"
    path.write_text("图" * 61 + "\n正文。", encoding="utf-8")
    assert read_one(path).title == "caption"


@pytest.mark.parametrize(
    ("name", "title"),
    [
        ("000_7e6e3292d6c6a094.txt", "脱贫攻坚,江西寻乌探索出新模式"),
        ("001_b251bfdd5ef11c19.txt", "靖宇:脱贫攻坚战犹酣"),  # after an "APP下载" line
        ("003_7be028efea89ec43.txt", "脱贫攻坚的卢氏实践"),
        ("004_02c3d19073bbefd4.txt", "春風春雨添新綠 圓夢路上霞滿天"),  # after breadcrumbs
        ("002_7466b54d2739728f.txt", "002_7466b54d2739728f"),  # starts with a long caption
    ],
)
def test_title_guess_skips_navigation_lines_without_a_catalog(tmp_path, name, title):
    shutil.copy(CORPUS / name, tmp_path / name)
    assert read_one(tmp_path / name).title == title


def test_doc_id_is_the_file_stem_made_safe(tmp_path):
    path = tmp_path / "政策 解读(2020)#1.v2.txt"
    path.write_text("内容。", encoding="utf-8")
    assert read_one(path).doc_id == "政策_解读_2020__1.v2"


# --------------------------------------------------------------------------- HTML

NEWS_PAGE = """<!DOCTYPE html>
<html><head><meta charset="{charset}"><title>易地搬迁让群众住上新房 - 某某新闻网</title>
<meta property="article:published_time" content="2019-05-21">
<script>var tracker = "脚本内容不应出现";</script><style>.x {{ color: red }}</style>
</head><body>
<header><div class="logo">某某新闻网</div>
<nav><ul><li><a href="/">首页</a></li><li><a href="/news">新闻中心</a></li>
<li><a href="/gov">政务公开</a></li><li><a href="/app">APP下载</a></li></ul></nav></header>
<div class="breadcrumb">当前位置：<a href="/">首页</a> &gt; <a href="/news">新闻</a></div>
<article>
<h1>易地搬迁让群众住上新房</h1>
<p>近年来，某县坚持把易地扶贫搬迁作为脱贫攻坚的头号工程，累计搬迁贫困群众一万二千余人，
建成集中安置点四十六个，群众的居住条件得到根本改善。</p>
<p>搬迁只是手段，脱贫才是目的。该县围绕安置点配套建设扶贫车间和产业园区，
引导搬迁群众就近就业，确保搬得出、稳得住、能致富。</p>
<p>据统计，全县已有三千八百名搬迁群众在家门口实现就业，人均年收入增加六千余元，
搬迁户对新生活的满意度持续提高。</p>
</article>
<aside><h3>热门推荐</h3><ul><li><a href="/a">另一篇无关的热门文章标题</a></li></ul></aside>
<footer><p>版权所有 某某新闻网 备案号12345678 联系我们 网站地图</p></footer>
</body></html>
"""


def test_html_keeps_body_paragraphs_and_drops_page_furniture(tmp_path):
    path = tmp_path / "news.html"
    path.write_text(NEWS_PAGE.format(charset="utf-8"), encoding="utf-8")
    doc = read_one(path)
    assert doc.format == "web"
    assert doc.title == "易地搬迁让群众住上新房"  # site name after " - " dropped
    assert "累计搬迁贫困群众一万二千余人" in doc.text
    assert "确保搬得出、稳得住、能致富" in doc.text
    assert "人均年收入增加六千余元" in doc.text
    # Paragraphs stay separate lines, so later chunking can respect them.
    lines = doc.text.split("\n")
    first = next(i for i, ln in enumerate(lines) if "一万二千余人" in ln)
    second = next(i for i, ln in enumerate(lines) if "能致富" in ln)
    assert first < second
    junk_lines = (
        "版权所有",
        "新闻中心",
        "政务公开",
        "当前位置",
        "APP下载",
        "另一篇无关的热门文章标题",
    )
    for junk in (*junk_lines, "脚本内容不应出现", "color: red"):
        assert junk not in doc.text
    assert doc.date == "2019-05-21"


def test_html_in_gbk_with_declared_charset(tmp_path):
    path = tmp_path / "news.htm"
    path.write_bytes(NEWS_PAGE.format(charset="gbk").encode("gbk"))
    doc = read_one(path)
    assert "累计搬迁贫困群众一万二千余人" in doc.text
    assert doc.meta["encoding"] == "gb18030"


def test_html_falls_back_to_visible_text_when_extraction_finds_nothing(tmp_path, monkeypatch):
    import trafilatura

    monkeypatch.setattr(trafilatura, "bare_extraction", lambda *a, **k: None)
    path = tmp_path / "page.html"
    path.write_text(
        "<html><head><title>公告</title><style>p{}</style></head><body>"
        "<p>第一段文字。</p><script>alert('x')</script><div>第二段文字。</div></body></html>",
        encoding="utf-8",
    )
    doc = read_one(path)
    assert doc.text == "第一段文字。\n第二段文字。"
    assert doc.title == "公告"
    assert doc.meta["extraction"] == "visible-text"


# --------------------------------------------------------------------------- DOCX


def test_docx_paragraphs_tables_and_core_title(tmp_path):
    import docx

    document = docx.Document()
    document.core_properties.title = "2020年扶贫工作总结"
    document.add_paragraph("一、总体情况")
    document.add_paragraph("全年共投入扶贫资金三千万元。")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "指标"
    table.cell(0, 1).text = "数值"
    table.cell(1, 0).text = "脱贫户数"
    table.cell(1, 1).text = "1579"
    document.add_paragraph("二、下一步计划")
    path = tmp_path / "summary.docx"
    document.save(path)

    doc = read_one(path)
    assert doc.format == "docx"
    assert doc.title == "2020年扶贫工作总结"
    assert doc.text == "\n".join(
        ["一、总体情况", "全年共投入扶贫资金三千万元。", "指标 数值",
         "指标：脱贫户数；数值：1579。", "二、下一步计划"]
    )  # fmt: skip


def test_docx_without_title_property_uses_first_short_paragraph(tmp_path):
    import docx

    document = docx.Document()
    document.core_properties.title = ""
    document.add_paragraph("")
    document.add_paragraph("关于做好春耕生产的通知")
    document.add_paragraph("各乡镇：现将有关事项通知如下。")
    path = tmp_path / "notice.docx"
    document.save(path)
    assert read_one(path).title == "关于做好春耕生产的通知"


def test_corrupt_docx_is_a_read_error(tmp_path):
    path = tmp_path / "broken.docx"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ReadError, match="not a valid DOCX") as info:
        read_file(path)
    assert "broken.docx" in str(info.value)


# --------------------------------------------------------------------------- PDF


def minimal_pdf(text: str) -> bytes:
    """A valid one-page PDF with one Helvetica text object, xref offsets computed."""
    content = f"BT /F1 24 Tf 72 720 Td ({text}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def test_pdf_text_is_extracted(tmp_path):
    path = tmp_path / "report-2016.pdf"
    path.write_bytes(minimal_pdf("Hello PDF 2016"))
    doc = read_one(path)
    assert doc.text.strip() == "Hello PDF 2016"
    assert doc.format == "pdf"
    assert doc.doc_id == "report-2016"
    assert doc.meta["pages"] == 1


@pytest.mark.parametrize(
    "data", [b"%PDF-1.4\nthis is not really a pdf", b"", b"\x00\x01binary garbage"]
)
def test_corrupt_pdf_is_a_read_error_naming_the_file(tmp_path, data):
    path = tmp_path / "broken.pdf"
    path.write_bytes(data)
    with pytest.raises(ReadError, match="not a valid PDF") as info:
        read_file(path)
    assert info.value.path == str(path)
    assert str(info.value).startswith(f"{path}: ")


def test_pdf_without_text_says_so(tmp_path):
    path = tmp_path / "scan.pdf"
    path.write_bytes(minimal_pdf(""))
    with pytest.raises(ReadError, match="no extractable text"):
        read_file(path)


# --------------------------------------------------------------------------- JSONL


def write_jsonl(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_jsonl_gives_one_document_per_line_with_metadata(tmp_path):
    records = [
        {"id": "a1", "title": "第一篇", "text": "内容一。", "source": "人民网",
         "date": "2020-01-02", "region": "江西", "tags": ["扶贫"]},
        {"id": 7, "title": "第二篇", "text": "內容二。\r\n第二行", "format": "web"},
    ]  # fmt: skip
    path = write_jsonl(
        tmp_path / "batch.jsonl", [json.dumps(r, ensure_ascii=False) for r in records] + [""]
    )
    first, second = read_file(path)
    assert (first.doc_id, first.title, first.text) == ("a1", "第一篇", "内容一。")
    assert (first.source, first.date, first.format) == ("人民网", "2020-01-02", "text")
    assert first.meta["region"] == "江西"
    assert first.meta["tags"] == ["扶贫"]
    assert "title" not in first.meta and "text" not in first.meta
    assert second.doc_id == "7"
    assert second.format == "web"
    assert second.text == "內容二。\n第二行"
    assert first.path == second.path == str(path)


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ('{"id": "b", "title": "t", "text": ', "line 2: not valid JSON"),
        ('{"id": "b", "title": "t"}', "line 2: missing field 'text'"),
        ('{"title": "t", "text": "x"}', "line 2: missing field 'id'"),
        ('["not", "an", "object"]', "line 2: expected a JSON object"),
        ('{"id": "a", "title": "t", "text": "x"}', "line 2: duplicate id 'a'"),
        ('{"id": "b", "title": "t", "text": "x", "format": "pptx"}', "line 2: format must be"),
    ],
)
def test_jsonl_bad_line_is_reported_not_skipped(tmp_path, bad_line, message):
    good = json.dumps({"id": "a", "title": "t", "text": "正文"})
    path = write_jsonl(tmp_path / "batch.jsonl", [good, bad_line, good.replace('"a"', '"c"')])
    with pytest.raises(ReadError, match=message) as info:
        read_file(path)
    assert "batch.jsonl" in str(info.value)


def test_jsonl_counts_further_bad_lines(tmp_path):
    path = write_jsonl(tmp_path / "batch.jsonl", ["{", '{"id": 1}', "nope"])
    with pytest.raises(ReadError, match=r"line 1: not valid JSON .*\(and 2 more bad lines\)"):
        read_file(path)


# --------------------------------------------------------------------------- collecting files


def test_collect_files_reports_unsupported_and_missing_paths(tmp_path):
    good = tmp_path / "a.txt"
    good.write_text("内容", encoding="utf-8")
    sheet = tmp_path / "table.xlsx"
    sheet.write_bytes(b"x")
    missing = tmp_path / "nope.txt"

    files, errors = collect_files([good, str(sheet), missing])
    assert files == [good]
    messages = [str(e) for e in errors]
    assert messages[0] == (
        f"{sheet}: unsupported file type '.xlsx'; accepted: " + ", ".join(SUPPORTED)
    )
    assert messages[1] == f"{missing}: no such file or folder"


def test_collect_files_walks_folders_in_sorted_order_skipping_hidden_and_catalog(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / ".git").mkdir()
    for rel in ["z.txt", "a.md", "b/c.html", "b/a.jsonl", "README.txt", "UPPER.PDF",
                ".hidden.txt", ".git/x.txt", "catalog.toml", "b/catalog.toml"]:  # fmt: skip
        (tmp_path / rel).write_text("x", encoding="utf-8")

    files, errors = collect_files([tmp_path])
    names = [f.relative_to(tmp_path).as_posix() for f in files]
    assert names == ["README.txt", "UPPER.PDF", "a.md", "b/a.jsonl", "b/c.html", "z.txt"]
    assert errors == []


def test_collect_files_reports_unsupported_files_inside_folders_and_dedupes(tmp_path):
    (tmp_path / "a.txt").write_text("x", encoding="utf-8")
    (tmp_path / "old.doc").write_bytes(b"x")
    files, errors = collect_files([tmp_path, tmp_path / "a.txt"])
    assert files == [tmp_path / "a.txt"]
    assert [e.reason for e in errors] == [
        "unsupported file type '.doc'; accepted: " + ", ".join(SUPPORTED)
    ]


def test_read_file_rejects_unsupported_and_missing(tmp_path):
    with pytest.raises(ReadError, match=r"unsupported file type '\.doc'"):
        read_file(tmp_path / "x.doc")
    with pytest.raises(ReadError, match="no such file or folder"):
        read_file(tmp_path / "x.txt")


# --------------------------------------------------------------------------- catalog


def test_catalog_overrides_detected_metadata(tmp_path):
    (tmp_path / "catalog.toml").write_text(
        '["a.txt"]\ntitle = "目录标题"\nsource = "新华网"\ndate = 2021-03-04\n'
        'script = "traditional"\nformat = "pdf"\nregion = "江西"\n',
        encoding="utf-8",
    )
    (tmp_path / "a.txt").write_text("文件里的第一行\n正文。", encoding="utf-8")
    (tmp_path / "b.txt").write_text("另一个文件\n正文。", encoding="utf-8")

    a = read_one(tmp_path / "a.txt")
    assert (a.title, a.source, a.date, a.format) == ("目录标题", "新华网", "2021-03-04", "pdf")
    assert a.meta["script"] == "traditional"  # catalog wins over detection
    assert a.meta["region"] == "江西"
    b = read_one(tmp_path / "b.txt")
    assert (b.title, b.source, b.format) == ("另一个文件", "", "text")
    assert b.meta["script"] == "simplified"


def test_malformed_catalog_is_a_read_error_naming_the_catalog(tmp_path):
    (tmp_path / "catalog.toml").write_text('["a.txt"\ntitle = ', encoding="utf-8")
    (tmp_path / "a.txt").write_text("正文", encoding="utf-8")
    with pytest.raises(ReadError, match="malformed catalog") as info:
        read_file(tmp_path / "a.txt")
    assert info.value.path == str(tmp_path / "catalog.toml")


def test_edited_catalog_is_reread(tmp_path):
    catalog = tmp_path / "catalog.toml"
    (tmp_path / "a.txt").write_text("正文", encoding="utf-8")
    catalog.write_text('["a.txt"]\ntitle = "旧"\n', encoding="utf-8")
    assert read_one(tmp_path / "a.txt").title == "旧"
    catalog.write_text('["a.txt"]\ntitle = "新的标题"\n', encoding="utf-8")
    assert read_one(tmp_path / "a.txt").title == "新的标题"


# --------------------------------------------------------------------------- the real seeds


def test_seed_corpus_reads_with_catalog_titles():
    files, errors = collect_files([CORPUS])
    assert errors == []
    docs = {d.doc_id: d for f in files for d in read_file(f)}
    assert set(docs) == {p.stem for p in CORPUS.glob("*.txt")}
    assert docs["003_7be028efea89ec43"].title == "脱贫攻坚的卢氏实践"
    assert docs["001_b251bfdd5ef11c19"].title == "靖宇:脱贫攻坚战犹酣"
    assert docs["004_02c3d19073bbefd4"].title == "春風春雨添新綠 圓夢路上霞滿天"
    assert docs["004_02c3d19073bbefd4"].meta["script"] == "traditional"
    assert docs["001_b251bfdd5ef11c19"].meta["script"] == "simplified"
    assert docs["003_7be028efea89ec43"].format == "pdf"
    assert docs["003_7be028efea89ec43"].date == "2018-06-17"
    assert docs["002_7466b54d2739728f"].meta["headline_stated"] is False
    for doc in docs.values():
        # Raw text is kept byte-for-byte (the seeds are UTF-8 with \n endings).
        assert doc.text == Path(doc.path).read_text(encoding="utf-8")
        assert doc.meta["encoding"] == "utf-8"


def test_script_is_detected_without_a_catalog(tmp_path):
    (tmp_path / "t.txt").write_text(TRADITIONAL, encoding="utf-8")
    (tmp_path / "s.txt").write_text(SIMPLIFIED, encoding="utf-8")
    assert read_one(tmp_path / "t.txt").meta["script"] == "traditional"
    assert read_one(tmp_path / "s.txt").meta["script"] == "simplified"


def test_heavy_libraries_are_not_imported_at_module_level():
    for module in Path(readers.__file__).parent.glob("*.py"):  # the package, one per format
        source = module.read_text(encoding="utf-8")
        top_level = [ln for ln in source.splitlines() if ln.startswith(("import ", "from "))]
        assert not any(lib in ln for ln in top_level for lib in ("trafilatura", "pypdf", "docx"))
