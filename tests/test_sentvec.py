"""Sentence vectors (qa.answer.sentvec): embedded once at ingest, looked up at question time, and
used to choose the sentence that says what the question asks."""

from __future__ import annotations

import json

import numpy as np

from qa.answer.answerer import Answerer
from qa.answer.sentvec import SentenceVectors, passage_sentences, sentence_text
from qa.ingest.pipeline import ingest
from qa.store.index import open_index
from tests.test_grams_vcache import CountingEmbedder

DOCS = [
    {"id": "report", "title": "某县政府工作报告", "date": "2024-01-10",
     "text": "过去一年，全县地区生产总值增长6.1%。全县新增城镇就业4200人。\n"
             "今年的主要目标是：地区生产总值增长6%左右。"},
    {"id": "plan", "title": "某县乡村振兴规划",
     "text": "到2025年，建成美丽乡村示范村30个。培育家庭农场500家。"},
]


def _ingest(tmp_path, monkeypatch, embedder) -> Answerer:
    monkeypatch.setenv("QA_HOME", str(tmp_path / "home"))
    corpus = tmp_path / "docs.jsonl"
    corpus.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in DOCS), "utf-8")
    ingest([corpus], tmp_path / "idx", embedder=embedder, progress=False)
    return Answerer(open_index(tmp_path / "idx", embedder))


def test_ingest_embeds_every_sentence_so_questions_embed_none(tmp_path, monkeypatch):
    embedder = CountingEmbedder()
    answerer = _ingest(tmp_path, monkeypatch, embedder)
    passages = answerer.index.passages
    expected = {sentence_text(p, s) for p in passages for s in passage_sentences(p)}
    assert expected <= set(embedder.embedded)  # warmed at ingest
    embedder.embedded.clear()
    answerer.ask("全县新增城镇就业多少人")
    assert embedder.embedded == []  # the question's sentences came from the cache


def test_a_cold_cache_embeds_the_missing_sentences_once_in_one_batch(tmp_path, monkeypatch):
    monkeypatch.setenv("QA_HOME", str(tmp_path / "home"))
    embedder = CountingEmbedder()
    calls: list[int] = []
    original = embedder.embed_documents

    def counting(texts, progress=False):
        calls.append(len(texts))
        return original(texts, progress)

    embedder.embed_documents = counting
    vectors = SentenceVectors(embedder)
    texts = ["甲县新增就业4200人。", "乙县新增就业3100人。", "甲县新增就业4200人。"]
    q = embedder.embed_queries(["新增就业多少人"])[0]
    first = vectors.cosines(q, texts)
    assert calls == [2]  # one batch, each distinct text once
    again = SentenceVectors(embedder).cosines(q, texts)  # a new process: the disk cache
    assert calls == [2]
    np.testing.assert_allclose(first, again, rtol=1e-6)
    direct = embedder.embed_documents(texts[:2]) @ q
    np.testing.assert_allclose(first[:2], direct, rtol=1e-5)
    assert first[0] == first[2]


def test_sentence_vectors_can_be_left_to_question_time(tmp_path, monkeypatch):
    monkeypatch.setenv("QA_SENTENCE_VECTORS", "lazy")
    embedder = CountingEmbedder()
    answerer = _ingest(tmp_path, monkeypatch, embedder)
    passages = answerer.index.passages
    sentences = {sentence_text(p, s) for p in passages for s in passage_sentences(p)}
    assert not sentences & set(embedder.embedded)  # none at ingest
    answer = answerer.ask("全县新增城镇就业多少人", mode="dense")
    assert answer.found
    assert sentences & set(embedder.embedded)  # embedded when a question needed them
