"""`qa ingest`, `qa docs`, `qa remove` as a user runs them."""

from __future__ import annotations

import json
import shutil

import pytest

from qa.app.cli import main
from qa.errors import IndexStateError
from tests.checks import fail_after_first_add, read_passages
from tests.paths import CORPUS


def _passages(index):
    return read_passages(index)


def test_ingest_seeds_writes_passages_and_summary(tmp_path, capsys):
    index = tmp_path / "idx"
    assert main(["ingest", str(CORPUS), "--index", str(index), "-q"]) == 0
    out = capsys.readouterr().out
    assert "ingested 5 documents" in out
    assert "flag spun (1): 000_7e6e3292d6c6a094" in out
    rows = _passages(index)
    assert any("卢氏模式" in r["text"] for r in rows)
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
    assert len({r["doc_id"] for r in _passages(index)}) == 1


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


def test_failed_write_leaves_the_old_collection_intact(tmp_path, monkeypatch):
    from qa.store.local import Writer

    index = tmp_path / "idx"
    main(["ingest", str(CORPUS), "--index", str(index), "-q"])
    before = _passages(index)
    added = fail_after_first_add(monkeypatch, Writer)  # first document written, then fails
    new = tmp_path / "new.txt"
    new.write_text("新的文档,内容不同。" * 20, encoding="utf-8")
    with pytest.raises(OSError):
        main(["ingest", str(new), "--index", str(index), "-q"])
    assert added == ["new"]
    assert _passages(index) == before  # all or nothing


def test_index_readme_is_kept_across_saves(tmp_path):
    index = tmp_path / "idx"
    index.mkdir()
    (index / "README.md").write_text("keep me")
    main(["ingest", str(CORPUS / "001_b251bfdd5ef11c19.txt"), "--index", str(index), "-q"])
    assert (index / "README.md").read_text() == "keep me"


def test_a_one_sentence_file_is_a_document_with_a_passage(tmp_path):
    """A short document is still a document (its title is guessed from its only line)."""
    from qa.answer.answerer import Answerer
    from qa.embed.embedders import HashEmbedder
    from qa.store.index import open_index

    note = tmp_path / "note.txt"
    note.write_text("慈利县光伏电站总装机容量达到1.26万千瓦。\n", encoding="utf-8")
    index = tmp_path / "idx"
    assert main(["ingest", str(note), "--index", str(index), "-q"]) == 0
    rows = _passages(index)
    assert [r["text"] for r in rows] == ["慈利县光伏电站总装机容量达到1.26万千瓦。"]
    ans = Answerer(open_index(index, HashEmbedder())).ask("慈利县光伏电站总装机容量是多少")
    assert ans.found and "1.26万千瓦" in ans.answer


def test_rebuild_with_another_model_keeps_the_documents_and_foreign_files(tmp_path,
                                                                          monkeypatch):
    from qa.embed.embedders import HashEmbedder
    from qa.store.index import open_index

    index = tmp_path / "idx"
    assert main(["ingest", str(CORPUS), "--index", str(index), "-q"]) == 0
    (index / "README.md").write_text("ours", encoding="utf-8")
    monkeypatch.setenv("QA_EMBED_MODEL", "hash-32")
    with pytest.raises(IndexStateError, match="hash-64"):
        open_index(index, HashEmbedder(32))
    assert main(["ingest", str(CORPUS / "001_b251bfdd5ef11c19.txt"), "--index", str(index),
                 "--rebuild", "-q"]) == 0
    rebuilt = open_index(index, HashEmbedder(32))
    assert {p.doc_id for p in rebuilt.passages} == {p.stem for p in CORPUS.glob("*.txt")}
    assert (index / "README.md").read_text(encoding="utf-8") == "ours"
    assert not list(tmp_path.glob(".idx.*"))


def test_an_index_in_the_previous_layout_is_migrated(tmp_path):
    """Folders written before the incremental store (JSONL + vectors.npy) open as they are."""
    import numpy as np

    from qa.embed.embedders import HashEmbedder
    from qa.ingest.corpus import process
    from qa.ingest.readers import read_file
    from qa.store.index import open_index
    from qa.store.legacy import Collection

    index = tmp_path / "old"
    coll = Collection(index)
    for name in ("001_b251bfdd5ef11c19.txt", "004_02c3d19073bbefd4.txt"):
        record, passages, _ = process(read_file(CORPUS / name)[0])
        coll.add(record, passages)
    emb = HashEmbedder()
    vectors = emb.embed_documents([p.text for p in coll.passages])

    def legacy(folder):
        np.save(folder / "vectors.npy", vectors)
        (folder / "manifest.json").write_text(json.dumps(
            {"model": emb.name, "model_fingerprint": emb.fingerprint}), "utf-8")

    coll.save(extra=legacy)
    migrated = open_index(index, emb)
    assert {p.doc_id for p in migrated.passages} == {"001_b251bfdd5ef11c19",
                                                     "004_02c3d19073bbefd4"}
    assert not (index / "passages.jsonl").exists() and (index / "store.sqlite").exists()
    first = migrated.passages[0]
    pid = next(pid for pid, p in migrated.all_passages() if p.id == first.id)
    np.testing.assert_allclose(migrated.vectors_of([pid])[0],
                               vectors[[p.id for p in coll.passages].index(first.id)])
