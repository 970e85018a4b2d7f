"""The Milvus store (qa/store/milvus.py) against a real Milvus Lite file: the behaviour the local
store has, through the same index, search, ingest and answer code."""

from __future__ import annotations

import contextlib
import json
import os

import numpy as np
import pytest

pytest.importorskip("milvus_lite", reason="milvus-lite is not installed: the Milvus store "
                    "needs `pip install -e '.[milvus]'` (pymilvus, milvus-lite)")
pytest.importorskip("pymilvus", reason="pymilvus is not installed: `pip install -e '.[milvus]'`")

from qa.embed.embedders import HashEmbedder
from qa.errors import IndexStateError, InputError
from qa.ingest.pipeline import ingest, remove
from qa.retrieve.search import search
from qa.store.index import SearchIndex, open_index
from tests.checks import fail_after_first_add
from tests.paths import CORPUS

# The local store's tests, run here again on Milvus: pytest collects an imported test function
# in this module and gives it this module's fixtures (`seed_index` below, QA_STORE=milvus).
from tests.test_search import (  # noqa: F401
    test_a_reprinted_article_is_shown_once_and_says_where_else_it_appears,
    test_bad_mode_and_top_k,
    test_failed_build_leaves_the_old_index_loadable,
    test_fusion_keeps_what_both_modes_agree_on,
    test_hybrid_ranks_are_unique_and_ordered,
    test_incremental_add_and_remove_reuse_vectors,
    test_index_built_with_another_model_is_refused,
    test_missing_index_has_a_helpful_error,
    test_reingesting_an_unchanged_file_writes_nothing,
    test_spun_text_is_found_with_the_original_words,
    test_traditional_query_finds_simplified_text_and_the_reverse,
)

LUSHI = "003_7be028efea89ec43"  # the 卢氏 document


def _release(db) -> None:
    """Stop the in-process Milvus Lite server of a .db file (one per file and process)."""
    from milvus_lite.server_manager import server_manager_instance

    server_manager_instance.release_server(str(db))


@contextlib.contextmanager
def _store_env(db):
    """QA_STORE=milvus:<db>, set directly rather than with monkeypatch: the local store's
    tests reused here call monkeypatch.undo(), which must not switch the store back."""
    before = os.environ.get("QA_STORE")
    os.environ["QA_STORE"] = f"milvus:{db}"
    try:
        yield db
    finally:
        if before is None:
            os.environ.pop("QA_STORE", None)
        else:
            os.environ["QA_STORE"] = before


@pytest.fixture(scope="module", autouse=True)
def _store_unset_after_this_module():
    """A test's monkeypatch is undone after the `milvus` fixture below, so a test that sets
    QA_STORE with it would put this module's store back; other modules must never see it."""
    before = os.environ.get("QA_STORE")
    yield
    if before is None:
        os.environ.pop("QA_STORE", None)
    else:
        os.environ["QA_STORE"] = before


@pytest.fixture(autouse=True)
def milvus(tmp_path):
    """Every test of this module uses a Milvus Lite file of its own."""
    with _store_env(tmp_path / "m.db") as db:
        yield db
    _release(db)


@pytest.fixture(scope="module")
def _seed(tmp_path_factory):
    root = tmp_path_factory.mktemp("milvus-seed")
    db = root / "m.db"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("QA_STORE", f"milvus:{db}")
        mp.setenv("QA_HOME", str(root / "home"))
        ingest([CORPUS], root / "idx", embedder=HashEmbedder(), progress=False)
        index = open_index(root / "idx", HashEmbedder())
    yield db, index
    _release(db)


@pytest.fixture
def seed_index(_seed, milvus):
    """The seed corpus in Milvus, built once; QA_STORE names its file while the test runs."""
    db, index = _seed
    with _store_env(db):
        yield index


def _stored(index_dir) -> dict:
    """What Milvus holds for an index folder, read with pymilvus directly (not through the
    code under test): the committed generation, the visible passages, and how many rows of
    any collection belong to uncommitted writes or wait as tombstones."""
    from pymilvus import MilvusClient

    info = json.loads((index_dir / "milvus.json").read_text())
    client = MilvusClient(info["uri"])
    try:
        names = info["collections"]
        meta = client.query(names["meta"], filter='key == "generation"', output_fields=["value"])
        generation = int(meta[0]["value"]) if meta else 0
        rows = client.query(names["passages"], filter=f"gen <= {generation}",
                            output_fields=["pid", "data"])
        uncommitted = {part: len(client.query(name, filter=f"gen > {generation}",
                                              output_fields=["gen"]))
                       for part, name in names.items() if part != "meta"}
        tombs = client.query(names["tombstones"], filter="gen >= 0", output_fields=["key"])
        return {"generation": generation, "tombstones": len(tombs),
                "passages": [json.loads(r["data"]) for r in sorted(rows,
                                                                   key=lambda r: r["pid"])],
                "uncommitted": sum(uncommitted.values())}
    finally:
        client.close()


# ---------------------------------------------------------------------- search
def test_the_index_is_in_milvus(seed_index):
    assert seed_index.store.kind == "milvus"
    m = seed_index.manifest
    assert m["faiss_index"] == "milvus" and m["model"] == "hash-64"
    assert m["passages"] == len(seed_index.passages) == len(seed_index) > 0
    assert not (seed_index.path / "store.sqlite").exists()
    assert (seed_index.path / "milvus.json").exists()


@pytest.mark.parametrize("mode", ["dense", "bm25", "hybrid"])
def test_every_mode_finds_the_document(seed_index, mode):
    for q, doc in (("共青城的一个托底五个全覆盖", "004_02c3d19073bbefd4"),
                   ("万泷牧业种鹅项目分红", "001_b251bfdd5ef11c19")):
        hits = search(seed_index, q, 3, mode)
        assert hits and hits[0].passage.doc_id == doc, (q, mode)
        assert [h.rank for h in hits] == list(range(1, len(hits) + 1))


def test_same_best_passage_as_the_local_store(seed_index, tmp_path, monkeypatch):
    """Same corpus, same embedder: the store must not change what search finds first."""
    questions = [json.loads(line)["question"] for line in
                 (CORPUS.parent / "bench" / "data" / "heldout_seed.jsonl").read_text(
                     "utf-8").splitlines() if line.strip()][:30]
    monkeypatch.delenv("QA_STORE")
    ingest([CORPUS], tmp_path / "local", embedder=HashEmbedder(), progress=False)
    local = open_index(tmp_path / "local", HashEmbedder())
    assert local.store.kind == "flat"
    assert [p.id for p in local.passages] == [p.id for p in seed_index.passages]
    agree = {"dense": 0, "bm25": 0, "hybrid": 0}
    for q in questions:
        for mode in agree:
            a = [h.passage.id for h in search(local, q, 1, mode)]
            b = [h.passage.id for h in search(seed_index, q, 1, mode)]
            agree[mode] += a == b
    assert agree["dense"] == len(questions)  # the same exact inner product
    # BM25: the same tokens; Milvus's idf (ln(1 + …)) differs from SQLite FTS5's (ln(…))
    assert agree["bm25"] >= 0.9 * len(questions) and agree["hybrid"] >= 0.9 * len(questions)


def test_tokens_with_punctuation_are_kept_whole(seed_index):
    store = seed_index.store
    assert store.term_df(["3+10+n", "政策", "not-a-word-here"]) == {"3+10+n": 1, "政策": 11}
    hits = store.lexical(["3+10+n"], 5)
    assert len(hits) == 1
    assert "3+10+N" in store.passages([hits[0][0]])[hits[0][0]].text.upper()
    # within= scores exactly those passages, with the same score
    assert store.lexical(["3+10+n"], 5, within=[hits[0][0]]) == hits
    assert store.lexical(["3+10+n"], 5, within=[]) == []


def test_bigram_and_term_counts_match_the_passages(seed_index):
    from qa.store.index import match_text
    from qa.text.grams import _key, bigrams

    passages = seed_index.passages
    grams = ["卢氏", "脱贫", "贫困", "书记"]
    df = seed_index.grams.df(grams)
    for g in grams:
        assert df[g] == sum(g in bigrams(match_text(p)) for p in passages), g
    assert seed_index.store.bigram_df([_key("卢氏"), 12345]) == {_key("卢氏"): df["卢氏"]}


def test_neighbour_and_documents(seed_index):
    store = seed_index.store
    docs = store.documents()
    assert list(docs) == store.doc_ids() and len(docs) == 5
    assert docs[LUSHI].title and docs[LUSHI].raw
    pid, p = store.neighbour(LUSHI, 1)
    assert p.doc_id == LUSHI and p.position == 1
    assert store.passages([pid])[pid] == p
    assert store.neighbour(LUSHI, 10_000) is None
    assert store.vectors([pid, -5]).shape == (2, 64) and not store.vectors([-5]).any()


# ---------------------------------------------------------------------- answers
@pytest.mark.parametrize("q", ["卢氏模式是什么", "靖宇县2016年有多少贫困人口脱贫",
                               "寻乌县有多少县级领导包干贫困村"])
def test_answers_cite_the_stored_text(seed_index, q):
    from qa.answer.answerer import Answerer

    ans = Answerer(seed_index).ask(q)
    assert ans.found and ans.citations
    stored = {p.id: p.text for p in seed_index.passages}
    for c in ans.to_dict()["citations"]:
        assert c["text"] == stored[c["passage_id"]]
        assert c["text"][c["start"]:c["end"]] == c["quote"] and c["quote"] in c["text"]


# ---------------------------------------------------------------------- writing
def test_remove_takes_a_document_out_of_every_search(tmp_path):
    path = tmp_path / "idx"
    emb = HashEmbedder()
    ingest([CORPUS], path, embedder=emb, progress=False)
    idx = open_index(path, emb)
    n, gram_df = len(idx), idx.grams.df(["卢氏"])["卢氏"]
    lushi_pids = {pid for pid, p in idx.all_passages() if p.doc_id == LUSHI}
    assert any(h.passage.doc_id == LUSHI for h in search(idx, "卢氏模式是什么", 8, "bm25"))
    remove(LUSHI, path, embedder=emb)
    assert idx.refresh()  # another SearchIndex wrote: this one catches up
    for mode in ("dense", "bm25", "hybrid"):
        hits = search(idx, "卢氏模式是什么", 8, mode)
        assert hits and all(h.passage.doc_id != LUSHI for h in hits), mode
    assert not {p for p, _ in idx.store.dense(emb.embed_queries(["卢氏模式"])[0], 100)} & \
        lushi_pids
    assert len(idx) == n - len(lushi_pids)
    assert idx.grams.df(["卢氏"])["卢氏"] < gram_df
    assert idx.store.document(LUSHI) is None and LUSHI not in idx.store.doc_ids()
    stored = _stored(path)
    assert stored["tombstones"] == 0 and not stored["uncommitted"]  # physically deleted
    assert LUSHI not in {p["doc_id"] for p in stored["passages"]}
    # added again: new passage ids, never those of the removed rows
    ingest([CORPUS / f"{LUSHI}.txt"], path, embedder=emb, progress=False)
    idx.refresh()
    again = {pid for pid, p in idx.all_passages() if p.doc_id == LUSHI}
    assert again and not again & lushi_pids and min(again) > max(lushi_pids)
    assert search(idx, "卢氏模式是什么", 1, "bm25")[0].passage.doc_id == LUSHI


def test_reingest_unchanged_writes_nothing(tmp_path):
    from qa.app.cli import main

    path = tmp_path / "idx"
    assert main(["ingest", str(CORPUS), "--index", str(path), "-q"]) == 0
    before = _stored(path)
    stamp = (path / "manifest.json").stat().st_mtime_ns
    assert main(["ingest", str(CORPUS), "--index", str(path), "-q"]) == 0
    assert (path / "manifest.json").stat().st_mtime_ns == stamp
    assert _stored(path) == before


def test_failed_write_leaves_the_previous_state(tmp_path, monkeypatch):
    from qa.store.milvus import Writer

    path = tmp_path / "idx"
    emb = HashEmbedder()
    ingest([CORPUS / "001_b251bfdd5ef11c19.txt", CORPUS / "004_02c3d19073bbefd4.txt"], path,
           embedder=emb, progress=False)
    idx = open_index(path, emb)
    before = _stored(path)
    counts = idx.grams.df(["卢氏", "靖宇"]), idx.term_df(["卢氏", "靖宇县", "脱贫"])
    docs, n = idx.store.doc_ids(), len(idx)
    added = fail_after_first_add(monkeypatch, Writer)
    with pytest.raises(OSError):
        ingest([CORPUS / f"{LUSHI}.txt", CORPUS / "000_7e6e3292d6c6a094.txt"], path,
               embedder=emb, progress=False)
    monkeypatch.undo()
    assert len(added) == 1
    assert _stored(path) == before  # rolled back at once: nothing of the write is left
    for index in (idx, open_index(path, emb)):
        index.refresh()
        assert index.store.doc_ids() == docs and len(index) == n
        assert (index.grams.df(["卢氏", "靖宇"]), index.term_df(["卢氏", "靖宇县", "脱贫"])) \
            == counts
        assert all(h.passage.doc_id != added[0] for h in search(index, "卢氏模式是什么", 8))
    ingest([CORPUS / f"{LUSHI}.txt"], path, embedder=emb, progress=False)  # works again
    assert search(open_index(path, emb), "卢氏模式是什么", 1, "bm25")[0].passage.doc_id == LUSHI


def test_a_crashed_write_is_invisible_and_cleaned_by_the_next(tmp_path, monkeypatch):
    """A process that dies mid-write cannot roll back: its rows must stay invisible and the
    next write must remove them and restore the counters."""
    from qa.store.milvus import MilvusStore, Writer

    path = tmp_path / "idx"
    emb = HashEmbedder()
    ingest([CORPUS / "001_b251bfdd5ef11c19.txt"], path, embedder=emb, progress=False)
    before = _stored(path)
    counts = open_index(path, emb).term_df(["卢氏", "脱贫"])
    original = Writer.finish

    def die(self):
        original(self)  # counters and meta of the new generation written …
        raise KeyboardInterrupt  # … then the process is killed before the commit

    monkeypatch.setattr(Writer, "finish", die)
    monkeypatch.setattr(MilvusStore, "_recover", lambda self: None)  # nobody to clean up
    with pytest.raises(KeyboardInterrupt):
        ingest([CORPUS / f"{LUSHI}.txt"], path, embedder=emb, progress=False)
    monkeypatch.undo()
    left = _stored(path)
    assert left["uncommitted"] and left["passages"] == before["passages"]
    idx = open_index(path, emb)
    assert idx.store.doc_ids() == ["001_b251bfdd5ef11c19"]
    assert idx.term_df(["卢氏", "脱贫"]) == counts
    remove("001_b251bfdd5ef11c19", path, embedder=emb)  # the next write cleans up
    after = _stored(path)
    assert not after["uncommitted"] and not after["passages"]
    assert after["generation"] > left["generation"] + 1  # generation numbers are not reused
    assert open_index(path, emb).term_df(["卢氏", "脱贫"]) == {}


def test_a_write_is_invisible_until_it_commits(tmp_path):
    from qa.store.local import NewPassage

    path = tmp_path / "idx"
    emb = HashEmbedder()
    ingest([CORPUS / "001_b251bfdd5ef11c19.txt"], path, embedder=emb, progress=False)
    writer_index = open_index(path, emb)
    reader = open_index(path, emb).store
    rec, passages = _processed(LUSHI)
    items = [NewPassage(p, emb.embed_documents([p.text])[0], ["卢氏", "模式"],
                        np.array([1, 2], dtype=np.uint64)) for p in passages]
    with writer_index.store.writing() as w:
        w.add(rec, items)
        assert w.remove("001_b251bfdd5ef11c19") is not None
        for store in (reader, writer_index.store):  # neither sees any of it yet
            assert store.doc_ids() == ["001_b251bfdd5ef11c19"]
            assert store.term_df(["卢氏"]) == {}
            assert not store.lexical(["卢氏"], 5)
            assert {store.passages([p])[p].doc_id for p, _ in store.dense(
                items[0].vector, 50)} == {"001_b251bfdd5ef11c19"}
    assert not reader.lexical(["卢氏"], 5)  # a reader sees a new write after refresh()
    assert reader.refresh() and reader.doc_ids() == [LUSHI]
    assert reader.term_df(["卢氏"]) == {"卢氏": len(passages)}
    assert {reader.passages([p])[p].doc_id for p, _ in reader.lexical(["卢氏"], 50)} == {LUSHI}
    assert len(reader) == len(passages)
    assert reader.bigram_df([1, 2]) == {1: len(passages), 2: len(passages)}


def _processed(doc_id):
    from qa.ingest.corpus import process
    from qa.ingest.readers import read_file

    (doc,) = read_file(CORPUS / f"{doc_id}.txt")
    record, passages, _ = process(doc)
    return record, passages


def test_a_renamed_folder_keeps_its_collections(tmp_path):
    """`qa ingest --rebuild` builds beside the folder and renames: milvus.json follows."""
    emb = HashEmbedder()
    ingest([CORPUS / "001_b251bfdd5ef11c19.txt"], tmp_path / "a", embedder=emb, progress=False)
    (tmp_path / "a").rename(tmp_path / "b")
    idx = open_index(tmp_path / "b", emb)
    assert idx.store.doc_ids() == ["001_b251bfdd5ef11c19"]
    # a second folder of the same name elsewhere gets collections of its own
    ingest([CORPUS / f"{LUSHI}.txt"], tmp_path / "x" / "b", embedder=emb, progress=False)
    assert open_index(tmp_path / "x" / "b", emb).store.doc_ids() == [LUSHI]
    assert open_index(tmp_path / "b", emb).store.doc_ids() == ["001_b251bfdd5ef11c19"]


def test_clear_errors(tmp_path, monkeypatch):
    from qa.store.milvus import MilvusStore

    emb = HashEmbedder()
    ingest([CORPUS / "001_b251bfdd5ef11c19.txt"], tmp_path / "idx", embedder=emb,
           progress=False)
    monkeypatch.setenv("QA_STORE", f"milvus:{tmp_path / 'other.db'}")
    with pytest.raises(IndexStateError, match="lives in Milvus at"):
        open_index(tmp_path / "idx", emb)
    _release(tmp_path / "other.db")
    monkeypatch.delenv("QA_STORE")
    ingest([CORPUS / "001_b251bfdd5ef11c19.txt"], tmp_path / "local", embedder=emb,
           progress=False)
    monkeypatch.setenv("QA_STORE", f"milvus:{tmp_path / 'm.db'}")
    with pytest.raises(IndexStateError, match="local store"):
        SearchIndex(tmp_path / "local", emb)
    with pytest.raises(IndexStateError, match="no index"):
        MilvusStore(str(tmp_path / "m.db"), tmp_path / "empty", 64, create=False)
    with pytest.raises(InputError, match=r"milvus:PATH\.db"):
        MilvusStore("", tmp_path / "empty", 64, create=True)
    monkeypatch.setitem(__import__("sys").modules, "pymilvus", None)
    with pytest.raises(InputError, match=r"pip install -e '\.\[milvus\]'"):
        MilvusStore(str(tmp_path / "m.db"), tmp_path / "idx", 64)


def test_cli_search_and_ask_run_on_milvus(tmp_path, capsys, monkeypatch):
    from qa.app.cli import main

    path = tmp_path / "idx"
    assert main(["ingest", str(CORPUS), "--index", str(path), "-q"]) == 0
    assert "ingested 5 documents" in capsys.readouterr().out
    monkeypatch.setenv("QA_INDEX_DIR", str(path))
    assert main(["search", "卢氏模式是什么", "--json", "--top-k", "3"]) == 0
    hits = json.loads(capsys.readouterr().out)["hits"]
    assert len(hits) == 3 and hits[0]["doc_id"] == LUSHI
    assert main(["ask", "卢氏模式是什么", "--json"]) == 0
    ans = json.loads(capsys.readouterr().out)
    assert ans["found"] and ans["citations"][0]["doc_id"] == LUSHI


def test_store_flag_selects_milvus_and_docs_lists_it(tmp_path, capsys):
    from qa.app.cli import main

    # only the flag says where the collection lives (the `milvus` fixture restores QA_STORE;
    # monkeypatch would restore it after that fixture, leaking it into later modules)
    os.environ.pop("QA_STORE")
    path, db = tmp_path / "idx", tmp_path / "flag.db"
    try:
        assert main(["ingest", str(CORPUS / f"{LUSHI}.txt"), "--index", str(path),
                     "--store", f"milvus:{db}", "-q"]) == 0
        assert db.exists() and not (path / "store.sqlite").exists()
        capsys.readouterr()
        assert main(["docs", "--index", str(path), "--store", f"milvus:{db}"]) == 0
        assert LUSHI in capsys.readouterr().out
    finally:
        _release(db)


def test_rebuild_is_refused_on_milvus_before_anything_changes(tmp_path, capsys):
    from qa.app.cli import main

    path = tmp_path / "idx"
    assert main(["ingest", str(CORPUS / f"{LUSHI}.txt"), "--index", str(path), "-q"]) == 0
    before = _stored(path)
    assert main(["ingest", str(CORPUS), "--index", str(path), "--rebuild", "-q"]) == 2
    assert "--rebuild works on the local store only" in capsys.readouterr().err
    assert _stored(path) == before


def test_near_duplicate_links_follow_every_write(tmp_path, monkeypatch):
    from qa.store.milvus import Writer

    article = (CORPUS / "001_b251bfdd5ef11c19.txt").read_text(encoding="utf-8")
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "site_a.txt").write_text("网站首页 > 新闻中心\n" + article, encoding="utf-8")
    path = tmp_path / "idx"
    emb = HashEmbedder()
    ingest([docs / "site_a.txt"], path, embedder=emb, progress=False)
    # a reprint in a later write is linked with the committed original
    (docs / "site_b.txt").write_text(article + "\n责任编辑：王五", encoding="utf-8")
    ingest([docs / "site_b.txt"], path, embedder=emb, progress=False)
    idx = open_index(path, emb)
    assert idx.duplicates(["site_a", "site_b"]) == {"site_a": ["site_b"], "site_b": ["site_a"]}
    # a failed write that would add a third copy leaves the links as they were
    (docs / "site_c.txt").write_text(article, encoding="utf-8")
    (docs / "zz.txt").write_bytes((CORPUS / f"{LUSHI}.txt").read_bytes())
    original = Writer.add

    def boom(self, record, passages, *more):
        original(self, record, passages, *more)
        if record.doc_id == "zz":
            raise OSError("disk full")

    monkeypatch.setattr(Writer, "add", boom)
    with pytest.raises(OSError):
        ingest([docs / "site_c.txt", docs / "zz.txt"], path, embedder=emb, progress=False)
    monkeypatch.undo()
    assert _stored(path)["uncommitted"] == 0
    idx.refresh()
    assert idx.duplicates(["site_a", "site_c"]) == {"site_a": ["site_b"]}
    # site_b rewritten with other text: no longer a copy
    (docs / "site_b.txt").write_bytes((CORPUS / "004_02c3d19073bbefd4.txt").read_bytes())
    ingest([docs / "site_b.txt"], path, embedder=emb, progress=False)
    assert idx.refresh() and idx.duplicates(["site_a", "site_b"]) == {}
    stored = _stored(path)
    assert stored["tombstones"] == 0 and stored["uncommitted"] == 0


def test_one_process_ingests_and_others_read_ask_and_remove(tmp_path):
    """Each command a process of its own, as a user runs them: the collections the ingest
    made are released when it exits, and the next process must load them."""
    import subprocess
    import sys

    env = {**os.environ, "QA_STORE": f"milvus:{tmp_path / 'm.db'}", "QA_EMBED_MODEL": "hash"}
    folder = tmp_path / "idx"

    def qa(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "qa.app.cli", *args, "--index", str(folder)],
                              env=env, capture_output=True, text=True, timeout=300, check=False)
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout

    qa("ingest", str(CORPUS), "-q")
    # the folder holds the pointer to Milvus and the manifest, never a local store's files
    assert not (folder / "store.sqlite").exists() and (folder / "milvus.json").exists()
    listed = qa("docs")
    assert "004_02c3d19073bbefd4" in listed and listed.count("passages") == 5
    answer = json.loads(qa("ask", "卢氏模式是什么", "--json"))
    assert answer["found"] and answer["citations"][0]["doc_id"].startswith("003_")
    qa("remove", "004_02c3d19073bbefd4")
    assert "004_02c3d19073bbefd4" not in qa("docs")
