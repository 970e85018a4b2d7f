"""Tokenisation, hybrid search and the index on disk, with the fake embedder."""

from __future__ import annotations

import json

import numpy as np
import pytest

from qa.embed.embedders import HashEmbedder, get_embedder
from qa.errors import IndexStateError, InputError
from qa.ingest.pipeline import ingest, remove
from qa.retrieve.search import FusionParams, fuse, search
from qa.store.index import SearchIndex, open_index
from qa.text.tokenize import ChineseTokenizer, mine_terms
from tests.paths import CORPUS


@pytest.fixture(scope="module")
def seed_index(tmp_path_factory):
    path = tmp_path_factory.mktemp("seed") / "idx"
    ingest([CORPUS], path, embedder=HashEmbedder(), progress=False)
    return open_index(path, HashEmbedder())


def test_domain_terms_stay_whole():
    text = "推广“卢氏模式”,实施“1461”行动计划,构建“3+10+N”政策体系,推行43222工作法。"
    terms = mine_terms([text], places=False)
    assert {"卢氏模式", "1461", "3+10+n", "43222"} <= set(terms)
    tok = ChineseTokenizer(terms)
    assert "卢氏模式" in tok("卢氏模式是什么")
    assert "3+10+n" in tok("绵阳的3+10+N政策体系")
    plain = ChineseTokenizer()
    assert "3+10+n" not in plain("绵阳的3+10+N政策体系")


def test_traditional_and_simplified_tokenise_alike():
    tok = ChineseTokenizer()
    trad, simp = "共青城市堅持把脫貧攻堅作為第一政治責任", "共青城市坚持把脱贫攻坚作为第一政治责任"
    assert tok(trad) == tok(simp)


def test_question_words_dropped_for_bm25_only():
    tok = ChineseTokenizer(["卢氏模式"])
    assert "什么" not in tok.query("卢氏模式是什么")
    assert "多少" not in tok.query("靖宇县有多少贫困人口")
    assert "卢氏模式" in tok.query("卢氏模式是什么")


def test_traditional_query_finds_simplified_text_and_the_reverse(seed_index):
    hits = search(seed_index, "卢氏縣委書記是誰", top_k=3, mode="bm25")
    assert hits[0].passage.doc_id == "003_7be028efea89ec43"
    hits = search(seed_index, "共青城的一个托底五个全覆盖", top_k=3, mode="bm25")
    assert hits[0].passage.doc_id == "004_02c3d19073bbefd4"
    assert "一個托底" in hits[0].passage.text  # original script kept for display


def test_spun_text_is_found_with_the_original_words(seed_index):
    hits = search(seed_index, "寻乌县县级领导包干贫困村", top_k=3, mode="bm25")
    assert hits[0].passage.doc_id == "000_7e6e3292d6c6a094"
    assert "贫窭" in hits[0].passage.text  # display text is never de-spun


def test_hybrid_ranks_are_unique_and_ordered(seed_index):
    hits = search(seed_index, "靖宇县2016年有多少贫困人口脱贫", top_k=8)
    assert [h.rank for h in hits] == list(range(1, 9))
    assert len({h.passage.id for h in hits}) == 8
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_fusion_keeps_what_both_modes_agree_on(seed_index):
    for q in ("共青城的一个托底五个全覆盖", "万泷牧业种鹅项目分红"):
        dense = search(seed_index, q, 3, "dense")[0].passage.id
        bm25 = search(seed_index, q, 3, "bm25")[0].passage.id
        assert dense == bm25, q  # the premise: both modes agree on the best passage
        assert search(seed_index, q, 3)[0].passage.id == dense


def test_a_far_candidate_does_not_change_the_order_of_the_two_best():
    """A short search query: the embedding prefers passage 0 by 0.1, passage 1 repeats the
    query's words more. Adding an unrelated candidate (cosine 0.02, a BM25-only match) must
    not reverse them, as stretching the cosines over the candidates' range did."""
    idf, df = np.array([6.0, 1.0]), np.array([2.0, 400.0])  # a rare word and a common one
    params = FusionParams(bm25_min=0.03, bm25_max=0.2, rare_frac=0.45)

    def order(dense, bm25):
        return list(np.argsort(-fuse(np.array(dense), np.array(bm25), idf, df, 2000, params)))

    assert order([0.58, 0.48], [15.0, 26.0])[0] == 0
    assert order([0.58, 0.48, 0.02], [15.0, 26.0, 3.0])[0] == 0
    # ... while words still decide between passages the embedding finds equally close
    assert order([0.49, 0.48, 0.02], [15.0, 26.0, 3.0])[0] == 1


def test_bad_mode_and_top_k(seed_index):
    with pytest.raises(InputError, match="accepted: hybrid, dense, bm25"):
        search(seed_index, "卢氏模式", mode="fuzzy")
    with pytest.raises(InputError, match="at least 1"):
        search(seed_index, "卢氏模式", top_k=0)


def test_manifest_describes_the_index(seed_index):
    m = json.loads((seed_index.path / "manifest.json").read_text())
    assert m["model"] == "hash-64" and m["dimension"] == 64
    assert m["passages"] == len(seed_index.passages) == len(seed_index)
    assert m["faiss_index"] == "flat"
    for key in ("model_fingerprint", "embedding", "versions", "built_at", "generation"):
        assert m[key]


def test_index_built_with_another_model_is_refused(seed_index):
    with pytest.raises(IndexStateError, match=r"hash-64.*hash-32"):
        open_index(seed_index.path, HashEmbedder(dim=32))


def test_missing_index_has_a_helpful_error(tmp_path):
    with pytest.raises(IndexStateError, match="qa ingest"):
        open_index(tmp_path / "nothing", HashEmbedder())


def test_failed_build_leaves_the_old_index_loadable(tmp_path, monkeypatch):
    path = tmp_path / "idx"
    ingest([CORPUS / "001_b251bfdd5ef11c19.txt"], path, embedder=HashEmbedder(), progress=False)
    before = open_index(path, HashEmbedder())

    def broken(self, texts, progress=False):
        raise RuntimeError("model crashed mid-way")

    monkeypatch.setattr(HashEmbedder, "embed_documents", broken)
    with pytest.raises(RuntimeError):
        ingest([CORPUS / "003_7be028efea89ec43.txt"], path, embedder=HashEmbedder(),
               progress=False)
    monkeypatch.undo()
    after = open_index(path, HashEmbedder())
    assert [p.id for p in after.passages] == [p.id for p in before.passages]
    assert search(after, "靖宇县下派了多少名第一书记", 1)[0].passage.doc_id == \
        "001_b251bfdd5ef11c19"


def test_incremental_add_and_remove_reuse_vectors(tmp_path, monkeypatch):
    path = tmp_path / "idx"
    emb = HashEmbedder()
    ingest([CORPUS / "001_b251bfdd5ef11c19.txt"], path, embedder=emb, progress=False)
    first = open_index(path, emb)
    calls = []
    original = HashEmbedder.embed_documents
    monkeypatch.setattr(HashEmbedder, "embed_documents",
                        lambda self, texts, progress=False: calls.append(len(texts))
                        or original(self, texts))
    report = ingest([CORPUS / "004_02c3d19073bbefd4.txt"], path, embedder=emb, progress=False)
    assert calls == [report.passages]  # only the new document was embedded
    both = open_index(path, emb)
    pid_of = {p.id: pid for pid, p in both.all_passages()}
    for pid, p in first.all_passages():
        assert np.allclose(first.vectors_of([pid]), both.vectors_of([pid_of[p.id]]))
    remove("004_02c3d19073bbefd4", path, embedder=emb)
    assert calls == [report.passages]
    left = open_index(path, emb)
    assert {p.doc_id for p in left.passages} == {"001_b251bfdd5ef11c19"}
    hits = search(left, "共青城的一个托底五个全覆盖", 5)
    assert all(h.passage.doc_id == "001_b251bfdd5ef11c19" for h in hits)


def test_ivf_above_threshold_deletes_and_readds(tmp_path, monkeypatch):
    monkeypatch.setenv("QA_IVF_THRESHOLD", "10")
    path = tmp_path / "idx"
    emb = HashEmbedder()
    ingest([CORPUS], path, embedder=emb, progress=False)
    idx = open_index(path, emb)
    assert idx.manifest["faiss_index"] == "ivf"
    remove("003_7be028efea89ec43", path, embedder=emb)
    idx = open_index(path, emb)
    hits = search(idx, "卢氏模式是什么", 8, mode="dense")
    assert hits and all(h.passage.doc_id != "003_7be028efea89ec43" for h in hits)
    # the same document added again gets new passage ids: never hidden by its tombstones
    ingest([CORPUS / "003_7be028efea89ec43.txt"], path, embedder=emb, progress=False)
    idx = open_index(path, emb)
    hits = search(idx, "卢氏模式是什么", 8, mode="dense")
    assert any(h.passage.doc_id == "003_7be028efea89ec43" for h in hits)


def test_get_embedder_uses_environment(monkeypatch):
    monkeypatch.setenv("QA_EMBED_MODEL", "hash-32")
    assert get_embedder().dim == 32


def test_reingesting_an_unchanged_file_writes_nothing(tmp_path):
    path = tmp_path / "idx"
    one = CORPUS / "001_b251bfdd5ef11c19.txt"
    ingest([one], path, embedder=HashEmbedder(), progress=False)
    generation = SearchIndex(path, HashEmbedder()).store.generation
    report = ingest([one], path, embedder=HashEmbedder(), progress=False)
    assert report.embedded == 0
    assert SearchIndex(path, HashEmbedder()).store.generation == generation


def test_a_reprinted_article_is_shown_once_and_says_where_else_it_appears(tmp_path):
    """The same article from two sites (different chrome around it) is one result."""
    article = (CORPUS / "001_b251bfdd5ef11c19.txt").read_text(encoding="utf-8")
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "site_a.txt").write_text("网站首页 > 新闻中心\n" + article, encoding="utf-8")
    (docs / "site_b.txt").write_text(article + "\n责任编辑：王五\n分享到：微信 微博",
                                      encoding="utf-8")
    (docs / "other.txt").write_bytes((CORPUS / "004_02c3d19073bbefd4.txt").read_bytes())
    path = tmp_path / "idx"
    ingest([docs], path, embedder=HashEmbedder(), progress=False)
    idx = open_index(path, HashEmbedder())
    assert idx.duplicates(["site_a"]) == {"site_a": ["site_b"]}
    assert idx.duplicates(["other"]) == {}
    hits = search(idx, "靖宇县下派了多少名第一书记", 8)
    reprints = [h for h in hits if h.passage.doc_id in ("site_a", "site_b")]
    assert len({h.passage.doc_id for h in reprints}) == 1
    assert reprints[0].also_in == ["site_b" if reprints[0].passage.doc_id == "site_a"
                                   else "site_a"]
    remove("site_b", path, embedder=HashEmbedder())
    idx = open_index(path, HashEmbedder())
    assert idx.duplicates(["site_a"]) == {}
