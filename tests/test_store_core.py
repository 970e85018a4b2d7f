"""What both stores promise through the shared core (qa/store/core.py, qa/store/lexical.py):
the same statistics after any mix of adds and removes in one write, near-duplicate links both
ways, nothing of a failed write, and the same BM25 ranking. Each test runs on the local store
and, when milvus-lite is installed, on Milvus Lite."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from qa.ingest.corpus import DocumentRecord, Passage
from qa.store.core import NewPassage
from qa.store.lexical import Tally, rescore
from tests.paths import CORPUS

DIM = 8
ARTICLE = "001_b251bfdd5ef11c19"
OTHER = "004_02c3d19073bbefd4"


def _milvus_available() -> bool:
    try:
        import milvus_lite  # noqa: F401
        import pymilvus  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.fixture(params=["local", pytest.param("milvus", marks=pytest.mark.skipif(
    not _milvus_available(), reason="milvus-lite is not installed"))])
def store(request, tmp_path):
    """An empty store of each kind, opened for search, in tmp_path."""
    if request.param == "local":
        from qa.store.local import LocalStore

        s = LocalStore(tmp_path / "idx", DIM, create=True)
    else:
        from qa.store.milvus import MilvusStore

        s = MilvusStore(str(tmp_path / "m.db"), tmp_path / "idx", DIM, create=True)
    s.open()
    yield s
    s.close()
    if request.param == "milvus":
        from milvus_lite.server_manager import server_manager_instance

        server_manager_instance.release_server(str(tmp_path / "m.db"))


def _vector(text: str) -> np.ndarray:
    seed = int.from_bytes(hashlib.sha1(text.encode()).digest()[:4], "big")
    v = np.random.default_rng(seed).standard_normal(DIM).astype(np.float32)
    return v / np.linalg.norm(v)


def _doc(doc_id: str, texts: list[str]) -> tuple[DocumentRecord, list[NewPassage]]:
    """A document whose passages are `texts` (words separated by spaces: its tokens)."""
    from qa.text.grams import _keys

    record = DocumentRecord(doc_id=doc_id, title=doc_id, source="test", date="", format="txt",
                            script="simplified", path=f"{doc_id}.txt", flags=[],
                            passages=len(texts), chars=sum(map(len, texts)),
                            raw="\n".join(texts))
    items = []
    for i, text in enumerate(texts):
        p = Passage(id=hashlib.sha1(f"{doc_id}/{text}".encode()).hexdigest()[:16],
                    doc_id=doc_id, title=doc_id, source="test", position=i, text=text,
                    start=0, end=len(text), raw_start=0, raw_end=len(text), script="simplified")
        items.append(NewPassage(p, _vector(text), text.split(" "),
                                _keys([text.replace(" ", "")])))
    return record, items


def _stats(store) -> dict:
    """What search reads from a store's statistics, and the BM25 of a few queries (passage
    ids, not pids: pids differ when a write consumed some)."""
    from qa.text.grams import _key

    def ranked(tokens):
        hits = store.lexical(tokens, 10)
        texts = store.passages([p for p, _ in hits])
        return [(texts[p].id, round(s, 6)) for p, s in hits]

    return {"passages": len(store), "docs": store.doc_ids(),
            "terms": store.term_df(["卢氏", "模式", "脱贫", "鹅"]),
            "bigrams": store.bigram_df([_key("卢氏"), _key("模式"), _key("种鹅")]),
            "bm25": [ranked(["卢氏", "模式"]), ranked(["种鹅"])]}


A = ["卢氏 模式 脱贫 攻坚", "卢氏 县 金融 扶贫 模式"]
B = ["万泷 牧业 种鹅 项目 分红", "种鹅 养殖 脱贫"]


def test_a_write_that_adds_and_removes_counts_only_what_remains(store, tmp_path):
    """A document added and removed again within one write leaves no trace in the counts
    search uses (term and bigram frequencies, passages, BM25)."""
    with store.writing() as w:
        w.add(*_doc("a", A))
        w.add(*_doc("b", B))
        assert w.remove("a") is not None
    after = _stats(store)
    assert after["docs"] == ["b"] and after["passages"] == 2
    assert after["terms"] == {"脱贫": 1}
    assert after["bm25"][0] == [] and len(after["bm25"][1]) == 2
    # … exactly as if only b had been written
    from qa.store.local import LocalStore

    only_b = LocalStore(tmp_path / "only_b", DIM, create=True)
    only_b.open()
    with only_b.writing() as w:
        w.add(*_doc("b", B))
    assert _stats(only_b) == after
    only_b.close()


def test_replacing_a_document_in_a_later_write_replaces_its_counts(store):
    with store.writing() as w:
        w.add(*_doc("a", A))
    assert store.term_df(["卢氏"]) == {"卢氏": 2}
    with store.writing() as w:
        w.add(*_doc("a", ["卢氏 新 文本"]))  # same id: the old version goes
    store.refresh()
    assert store.term_df(["卢氏", "模式"]) == {"卢氏": 1}
    assert len(store) == 1 and store.document_count() == 1
    assert [store.passages([p])[p].text for p, _ in store.lexical(["卢氏"], 5)] == ["卢氏 新 文本"]


def test_a_failed_write_changes_nothing(store):
    with store.writing() as w:
        w.add(*_doc("a", A))
    before = _stats(store)
    with pytest.raises(OSError), store.writing() as w:
        w.add(*_doc("b", B))
        w.remove("a")
        raise OSError("disk full")
    store.refresh()
    assert _stats(store) == before
    with store.writing() as w:  # the next write works
        w.add(*_doc("b", B))
    assert store.doc_ids() == ["a", "b"] and len(store) == 4


def test_near_duplicates_are_linked_both_ways_and_unlinked_when_removed(store):
    from qa.ingest.dedup import signature

    article = (CORPUS / f"{ARTICLE}.txt").read_text("utf-8")
    other = (CORPUS / f"{OTHER}.txt").read_text("utf-8")
    with store.writing() as w:
        w.add(*_doc("orig", A), signature(article))
        w.add(*_doc("other", B), signature(other))
    with store.writing() as w:  # a reprint, in a later write
        w.add(*_doc("reprint", A), signature(article + "\n责任编辑：王五"))
    store.refresh()
    assert store.duplicates(["orig", "reprint", "other"]) == {"orig": ["reprint"],
                                                               "reprint": ["orig"]}
    with store.writing() as w:
        w.remove("orig")
    store.refresh()
    assert store.duplicates(["orig", "reprint"]) == {}


def test_vectors_of_removed_passages_are_zero(store):
    with store.writing() as w:
        w.add(*_doc("a", A))
        w.add(*_doc("b", B))
    pids = {store.passages([p])[p].text: p for p, _ in store.lexical(["脱贫"], 10)}
    with store.writing() as w:
        w.remove("a")
    store.refresh()
    got = store.vectors([pids[A[0]], pids[B[1]]])
    assert got.shape == (2, DIM) and not got[0].any()
    assert np.allclose(got[1], _vector(B[1]), atol=1e-6)
    assert store.vectors([]).shape == (0, DIM)


# ---------------------------------------------------------------------- the shared parts
def test_rescore_ranks_matching_passages_best_first_and_drops_the_rest():
    candidates = [(1, ["鹅", "养殖"]), (2, ["鹅", "鹅", "种鹅"]), (3, ["脱贫"]), (4, [])]
    ranked = rescore(["鹅"], candidates, {"鹅": 2}, n=10, total_tokens=20, k=5)
    assert [p for p, _ in ranked] == [2, 1]  # twice in a longer passage beats once
    assert all(s > 0 for _, s in ranked)
    assert rescore(["鹅"], candidates, {"鹅": 2}, n=10, total_tokens=20, k=1)[0][0] == 2


def test_a_tally_taken_back_leaves_no_change():
    doc, kept = Tally(), Tally()
    doc.count(np.array([5, 5, 7], dtype=np.uint64), ["鹅", "鹅", "脱贫"])
    kept.count(np.array([7], dtype=np.uint64), ["脱贫"])
    total = Tally()
    total.merge(kept)
    total.merge(doc)
    assert total.grams[5] == 1 and total.grams[7] == 2 and total.terms["鹅"] == 1
    assert total.tokens == 4 and total.passages == 2
    total.merge(doc, -1)
    assert (+total.grams, +total.terms, total.passages, total.tokens) == \
        (kept.grams, kept.terms, 1, 1)
