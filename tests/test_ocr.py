"""Scanned PDFs: pages without a text layer are OCR'd (qa/ingest/ocr.py, RapidOCR's models in the
wheel), the document is flagged, and the text is searchable like any other."""

from __future__ import annotations

import glob
import io
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qa.errors import ReadError
from qa.ingest import ocr
from qa.ingest.corpus import process
from qa.ingest.documents import Document
from qa.ingest.readers import read_file
from tests.test_readers import minimal_pdf

LINES = ["慈利县光伏电站总装机容量达到1.26万千瓦。", "全县共有贫困人口三千人。",
         "2017年全县实现整体脱贫摘帽。"]
REFERENCE = "".join(LINES)
MIN_ACCURACY = 0.95


def _cjk_font() -> str | None:
    found = []
    if shutil.which("fc-list"):
        out = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True,
                             check=False).stdout
        found = [ln.split(":")[0].strip() for ln in out.splitlines() if ln.strip()]
    found += glob.glob("/usr/share/fonts/**/*CJK*.tt[cf]", recursive=True)
    regular = [f for f in found if "Sans" in f and "Regular" in f]
    return (regular or found or [None])[0]


FONT = _cjk_font()
needs_font = pytest.mark.skipif(FONT is None, reason="no CJK font to render a scanned page "
                                "(apt-get install fonts-noto-cjk)")


def scan_image(lines=LINES, size=(1000, 360)):
    """A page image of Chinese text, as a scanner makes it: black on white, no text layer."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(FONT, 36)
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    for n, line in enumerate(lines):
        draw.text((60, 50 + 90 * n), line, font=font, fill="black")
    return image


def scan_pdf(path: Path, lines=LINES) -> Path:
    scan_image(lines).save(path, "PDF", resolution=100)
    return path


def accuracy(found: str, reference: str) -> float:
    """1 - edit distance / reference length, whitespace ignored."""
    a, b = "".join(found.split()), "".join(reference.split())
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, start=1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return 1 - row[len(b)] / len(b)


@pytest.fixture(scope="module")
def scanned(tmp_path_factory):
    """One scanned page read once for the module: (document, seconds to read it)."""
    if FONT is None:
        pytest.skip("no CJK font")
    path = scan_pdf(tmp_path_factory.mktemp("scan") / "scan.pdf")
    with ocr._lock:  # load the engine first so the time is the page's, not the model's
        ocr._get_engine()
    t0 = time.perf_counter()
    [doc] = read_file(path)
    return doc, time.perf_counter() - t0


# ------------------------------------------------------------------------- reading order


def test_boxes_are_read_top_to_bottom_and_left_to_right_within_a_line():
    B = ocr.Box
    boxes = [B("第二行", 1, 10, 62, 100, 90), B("右边", 1, 110, 12, 200, 38),
             B("左边", 1, 10, 10, 100, 40), B("Total", 1, 300, 14, 360, 40)]
    assert ocr.reading_order(boxes) == ["左边右边 Total", "第二行"]


def test_a_page_needs_ocr_only_when_its_text_layer_is_nearly_empty():
    assert ocr.needs_ocr("") and ocr.needs_ocr(" \n- 1 -\n")
    assert not ocr.needs_ocr("慈利县光伏电站总装机容量达到1.26万千瓦，全县共有贫困人口三千人。")


# ------------------------------------------------------------------------- reading PDFs


@needs_font
def test_scanned_pdf_is_ocrd_accurately_and_flagged(scanned):
    doc, seconds = scanned
    score = accuracy(doc.text, REFERENCE)
    print(f"\nOCR: accuracy {score:.3f}, {seconds:.2f}s for one 1000x360 page")
    assert score >= MIN_ACCURACY, doc.text
    assert doc.text.count("\n") == len(LINES) - 1  # one line per printed line
    assert doc.meta["ocr_pages"] == [1]
    assert doc.meta["ocr_engine"].startswith("rapidocr-onnxruntime 1.")
    record, passages, _ = process(doc)
    [flag] = [f for f in record.flags if f["name"] == "ocr"]
    assert flag["label"] == "文字由OCR识别，可能有误"
    assert flag["evidence"].startswith("1 of 1 pages recognised")
    assert passages and all("ocr" in p.flags for p in passages)


@needs_font
def test_a_page_with_a_text_layer_is_not_ocrd_even_with_an_image(tmp_path, monkeypatch):
    import pypdf

    def no_ocr(*_):
        raise AssertionError("OCR ran on a page with a text layer")

    monkeypatch.setattr(ocr, "image_text", no_ocr)
    writer = pypdf.PdfWriter(
        clone_from=io.BytesIO(minimal_pdf("Poverty alleviation report of Cili 2016")))
    writer.pages[0].merge_page(pypdf.PdfReader(scan_pdf(tmp_path / "img.pdf")).pages[0])
    assert writer.pages[0].images  # the page does carry an image
    path = tmp_path / "text.pdf"
    writer.write(path)
    [doc] = read_file(path)
    assert "Poverty alleviation report" in doc.text
    assert "ocr_pages" not in doc.meta
    record, _, _ = process(doc)
    assert "ocr" not in {f["name"] for f in record.flags}


def mixed_pdf(tmp_path):
    """A typed page followed by a scanned one."""
    import pypdf

    writer = pypdf.PdfWriter()
    writer.append(io.BytesIO(minimal_pdf("Cili county annual report on poverty 2016")))
    writer.append(scan_pdf(tmp_path / "scan.pdf"))
    path = tmp_path / "mixed.pdf"
    writer.write(path)
    return path


@needs_font
def test_a_pdf_with_a_text_page_and_a_scanned_page_keeps_both(tmp_path):
    [doc] = read_file(mixed_pdf(tmp_path))
    first, second = doc.text.split("\n\n", 1)
    assert first == "Cili county annual report on poverty 2016"
    assert accuracy(second, REFERENCE) >= MIN_ACCURACY, second
    assert doc.meta["pages"] == 2 and doc.meta["ocr_pages"] == [2]
    assert doc.meta["page_starts"] == [0, len(first) + 2]


def test_only_passages_from_ocrd_pages_carry_the_flag():
    typed = "本县按照精准扶贫的要求，建立了贫困户档案，逐户落实帮扶责任人和帮扶措施。" * 8
    scanned = "全县共有贫困人口三千人，光伏电站总装机容量达到一点二六万千瓦，每年收益稳定。" * 8
    doc = Document("d", "报告", typed + "\n\n" + scanned, format="pdf",
                   meta={"pages": 2, "page_starts": [0, len(typed) + 2], "ocr_pages": [2]})
    record, passages, _ = process(doc)
    assert [f["name"] for f in record.flags] == ["ocr"]
    assert {"ocr" in p.flags for p in passages} == {True, False}
    for p in passages:
        assert ("ocr" in p.flags) == (p.raw_end > len(typed) + 2)


@needs_font
def test_a_scan_without_the_engine_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(ocr, "_engine", None)
    monkeypatch.setitem(sys.modules, "rapidocr_onnxruntime", None)  # import fails
    with pytest.raises(ReadError, match=r"pip install 'rapidocr-onnxruntime") as info:
        read_file(scan_pdf(tmp_path / "scan.pdf"))
    assert info.value.path == str(tmp_path / "scan.pdf")


@needs_font
def test_without_the_engine_a_partly_scanned_pdf_keeps_its_text_pages(tmp_path, monkeypatch,
                                                                      caplog):
    monkeypatch.setattr(ocr, "_engine", None)
    monkeypatch.setitem(sys.modules, "rapidocr_onnxruntime", None)
    [doc] = read_file(mixed_pdf(tmp_path))
    assert doc.text.strip() == "Cili county annual report on poverty 2016"
    assert "ocr_pages" not in doc.meta
    assert "page 2: not OCR'd" in caplog.text and "pip install" in caplog.text


@needs_font
def test_a_scan_whose_image_has_no_text_is_a_read_error(tmp_path):
    from PIL import Image

    path = tmp_path / "blank.pdf"
    Image.new("RGB", (400, 300), "white").save(path, "PDF")
    with pytest.raises(ReadError, match="OCR found no text"):
        read_file(path)


# ------------------------------------------------------------------------- ingest and search


@needs_font
def test_ocrd_text_is_ingested_into_searchable_passages(tmp_path):
    from qa.embed.embedders import HashEmbedder
    from qa.ingest.pipeline import ingest
    from qa.retrieve.search import search
    from qa.store.index import open_index
    from tests.checks import read_passages

    folder = tmp_path / "docs"
    folder.mkdir()
    scan_pdf(folder / "cili-scan.pdf")
    report = ingest([folder], tmp_path / "idx", embedder=HashEmbedder(), progress=False)
    assert not report.failures and report.passages >= 1
    assert "flag ocr (1): cili-scan" in report.summary()
    rows = read_passages(tmp_path / "idx")
    assert any("光伏电站" in r["text"] and "ocr" in r["flags"] for r in rows)
    index = open_index(tmp_path / "idx", HashEmbedder())
    hits = search(index, "慈利县光伏电站总装机容量是多少", 3, "bm25")
    assert hits and hits[0].passage.doc_id == "cili-scan"
    assert "ocr" in hits[0].passage.flags
