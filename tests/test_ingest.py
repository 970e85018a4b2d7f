"""`qa ingest`, `qa docs`, `qa remove` as a user runs them."""

from __future__ import annotations

import json
import shutil
import time

import pytest

from qa.cli import main
from qa.store import Collection
from tests.paths import CORPUS


def _passages(index):
    return [json.loads(line) for line in (index / "passages.jsonl").read_text("utf-8").splitlines()]


def test_ingest_seeds_writes_passages_and_summary(tmp_path, capsys):
    index = tmp_path / "idx"
    t0 = time.perf_counter()
    assert main(["ingest", str(CORPUS), "--index", str(index), "-q"]) == 0
    assert time.perf_counter() - t0 < 10
    out = capsys.readouterr().out
    assert "ingested 5 documents" in out
    assert "flag spun: 000_7e6e3292d6c6a094" in out
    raw = (index / "passages.jsonl").read_text("utf-8")
    assert "卢氏模式" in raw  # UTF-8, not \u escapes
    rows = _passages(index)
    assert {r["doc_id"] for r in rows} == {p.stem for p in CORPUS.glob("*.txt")}
    titles = {r["title"] for r in rows}
    assert "脱贫攻坚的卢氏实践" in titles and "春風春雨添新綠 圓夢路上霞滿天" in titles
    for key in ("id", "doc_id", "title", "source", "position", "start", "end", "raw_start",
                "raw_end", "script", "flags"):
        assert key in rows[0]


def test_reingest_unchanged_writes_nothing(tmp_path, capsys):
    index = tmp_path / "idx"
    main(["ingest", str(CORPUS), "--index", str(index), "-q"])
    stamp = (index / "manifest.json").stat().st_mtime_ns
    main(["ingest", str(CORPUS), "--index", str(index), "-q"])
    assert "(0 newly embedded)" in capsys.readouterr().out
    assert (index / "manifest.json").stat().st_mtime_ns == stamp


def test_reingest_replaces_instead_of_duplicating(tmp_path):
    index = tmp_path / "idx"
    one = CORPUS / "001_b251bfdd5ef11c19.txt"
    main(["ingest", str(CORPUS), "--index", str(index), "-q"])
    before = _passages(index)
    main(["ingest", str(one), "--index", str(index), "-q"])
    after = _passages(index)
    assert len(after) == len(before)
    assert len({r["id"] for r in after}) == len(after)


def test_bad_files_are_reported_and_the_rest_ingested(tmp_path, capsys):
    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(CORPUS / "001_b251bfdd5ef11c19.txt", docs)
    (docs / "broken.pdf").write_bytes(b"this is not a pdf")
    (docs / "empty.txt").write_text("")
    index = tmp_path / "idx"
    code = main(["ingest", str(docs), str(tmp_path / "missing.docx"), "--index", str(index),
                 "-q"])
    captured = capsys.readouterr()
    assert code == 1
    assert "ingested 1 documents" in captured.out
    assert "broken.pdf" in captured.out and "empty.txt" in captured.out
    assert "missing.docx" in captured.out
    assert len(Collection(index).documents) == 1


def test_docs_and_remove(tmp_path, capsys):
    index = tmp_path / "idx"
    main(["ingest", str(CORPUS), "--index", str(index), "-q"])
    capsys.readouterr()
    assert main(["docs", "--index", str(index)]) == 0
    listing = capsys.readouterr().out
    assert "003_7be028efea89ec43" in listing and "pdf-extraction" in listing
    assert main(["remove", "003_7be028efea89ec43", "--index", str(index)]) == 0
    assert "003_7be028efea89ec43" not in {r["doc_id"] for r in _passages(index)}
    assert main(["remove", "nope", "--index", str(index)]) == 1
    err = capsys.readouterr().err
    assert "no document with id 'nope'" in err and "001_b251bfdd5ef11c19" in err


def test_failed_save_leaves_the_old_collection_intact(tmp_path, monkeypatch):
    index = tmp_path / "idx"
    main(["ingest", str(CORPUS), "--index", str(index), "-q"])
    before = (index / "passages.jsonl").read_bytes()

    def boom(self, folder):
        (folder / "passages.jsonl").write_text("half")
        raise OSError("disk full")

    monkeypatch.setattr(Collection, "write_files", boom)
    new = tmp_path / "new.txt"
    new.write_text("新的文档,内容不同。" * 20, encoding="utf-8")
    with pytest.raises(OSError):
        main(["ingest", str(new), "--index", str(index), "-q"])
    assert (index / "passages.jsonl").read_bytes() == before
    assert not list(tmp_path.glob(".idx.new-*"))


def test_index_readme_is_kept_across_saves(tmp_path):
    index = tmp_path / "idx"
    index.mkdir()
    (index / "README.md").write_text("keep me")
    main(["ingest", str(CORPUS / "001_b251bfdd5ef11c19.txt"), "--index", str(index), "-q"])
    assert (index / "README.md").read_text() == "keep me"
