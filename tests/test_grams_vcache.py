"""Bigram statistics and the vector cache."""

from __future__ import annotations

import numpy as np

from qa.embed.embedders import HashEmbedder
from qa.embed.vcache import embed_cached
from qa.text.grams import BigramStats, bigrams


def test_bigrams_stay_inside_word_runs():
    assert bigrams("卢氏模式,是") == {"卢氏", "氏模", "模式"}
    assert bigrams("a") == set()


def test_counts_follow_adds_and_removes(tmp_path):
    stats = BigramStats.from_texts(["卢氏模式", "卢氏县", "寻乌县"])
    assert stats.df(["卢氏", "县x", "乌县"]) == {"卢氏": 2, "县x": 0, "乌县": 1}
    idf = stats.idf(["卢氏", "乌县", "没有"])
    assert idf["没有"] > idf["乌县"] > idf["卢氏"]
    stats.remove(["卢氏县"])
    assert stats.df(["卢氏", "氏县"]) == {"卢氏": 1, "氏县": 0}
    assert stats.n_docs == 2
    stats.save(tmp_path / "g.npz")
    again = BigramStats.load(tmp_path / "g.npz")
    assert again.df(["卢氏", "乌县"]) == {"卢氏": 1, "乌县": 1} and again.n_docs == 2


class CountingEmbedder(HashEmbedder):
    """A cacheable fake: counts what it really embeds."""

    vector_space = "counting-fake"

    def __init__(self) -> None:
        super().__init__(16)
        self.embedded: list[str] = []

    def embed_documents(self, texts, progress=False):
        self.embedded += list(texts)
        return super().embed_documents(texts)


def test_same_text_is_never_embedded_twice(tmp_path, monkeypatch):
    monkeypatch.setenv("QA_HOME", str(tmp_path))
    emb = CountingEmbedder()
    first, n1 = embed_cached(emb, ["甲乙丙", "丁戊己", "甲乙丙"])
    assert n1 == 2 and emb.embedded == ["甲乙丙", "丁戊己"]
    second, n2 = embed_cached(CountingEmbedder(), ["丁戊己", "甲乙丙", "庚辛"])
    assert n2 == 1
    np.testing.assert_allclose(second[0], first[1])
    np.testing.assert_allclose(second[1], first[0])


def test_other_vector_spaces_do_not_share_rows(tmp_path, monkeypatch):
    monkeypatch.setenv("QA_HOME", str(tmp_path))
    embed_cached(CountingEmbedder(), ["甲乙丙"])
    other = CountingEmbedder()
    other.vector_space = "counting-fake|float32"
    _, n = embed_cached(other, ["甲乙丙"])
    assert n == 1


def test_fakes_without_a_vector_space_are_not_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("QA_HOME", str(tmp_path))
    embed_cached(HashEmbedder(), ["甲乙丙"])
    assert not (tmp_path / "vectors").exists()
