"""Embedder interface: the hash fake, length-sorted batching and model-name resolution."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from qa.embed import embedders as embed
from qa.embed import models
from qa.embed.embedders import HashEmbedder, SentenceTransformerEmbedder, get_embedder
from qa.errors import ModelError


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path, monkeypatch):
    monkeypatch.setenv("QA_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("QA_EMBED_MODEL", raising=False)


# --------------------------------------------------------------------------- HashEmbedder


def test_hash_embedder_shape_dtype_norm():
    emb = HashEmbedder()
    vecs = emb.embed_documents(["住房公积金怎么提取", "", "a", "社保卡补办需要什么材料？"])
    assert emb.name == "hash-64"
    assert emb.fingerprint == "hash-64"
    assert vecs.shape == (4, 64)
    assert vecs.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, rtol=1e-5)
    assert emb.embed_queries([]).shape == (0, 64)


def test_hash_embedder_is_deterministic_across_instances_and_processes():
    texts = ["居民身份证", "", "x"]
    a = HashEmbedder(32).embed_queries(texts)
    b = HashEmbedder(32).embed_documents(texts)
    np.testing.assert_array_equal(a, b)
    code = (
        "from qa.embed.embedders import HashEmbedder;"
        "print(HashEmbedder(32).embed_queries(['居民身份证'])[0].tolist())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    np.testing.assert_allclose(np.array(eval(out)), a[0], rtol=1e-6)


def test_hash_embedder_empty_text_is_fixed_unit_vector():
    e1 = HashEmbedder().embed_queries([""])[0]
    e2 = HashEmbedder().embed_documents([""])[0]
    np.testing.assert_array_equal(e1, e2)
    assert abs(float(np.linalg.norm(e1)) - 1) < 1e-5


def test_hash_embedder_similar_texts_are_closer():
    q, near, far = HashEmbedder().embed_documents(
        ["如何申请住房公积金贷款", "住房公积金贷款的申请条件", "今天天气晴朗适合爬山"]
    )
    assert float(q @ near) > float(q @ far) + 0.2


# --------------------------------------------------------------------------- length sorting


class StubModel:
    """Mimics the SentenceTransformer calls we use; records batches to check the sorting."""

    prompts = {"query": "q: ", "document": "d: "}  # noqa: RUF012

    def __init__(self) -> None:
        self.batches: list[tuple[str, list[str]]] = []

    def _vecs(self, texts):
        # Not normalised on purpose: the embedder must normalise.
        return np.array([[len(t), 1.0, 2.0] for t in texts], dtype=np.float32)

    def encode_query(self, texts, batch_size=32, normalize_embeddings=False, **_):
        self.batches.append(("query", list(texts)))
        return self._vecs(texts)

    def encode_document(self, texts, batch_size=32, normalize_embeddings=False, **_):
        self.batches.append(("document", list(texts)))
        return self._vecs(texts)

    def get_embedding_dimension(self):
        return 3


def _stub_embedder(batch_size=2):
    emb = SentenceTransformerEmbedder("stub/model", batch_size=batch_size, backend="torch")
    emb._model = StubModel()
    return emb


def test_encode_length_sorted_restores_order():
    texts = ["ccc", "a", "eeeee", "bb", "dddd", "ffffff", ""]
    seen = []

    def encode(batch):
        seen.append(batch)
        return np.array([[len(t)] for t in batch], dtype=np.float32)

    out = embed.encode_length_sorted(encode, texts, batch_size=3)
    assert out[:, 0].tolist() == [len(t) for t in texts]
    assert seen == [["ffffff", "eeeee", "dddd"], ["ccc", "bb", "a"], [""]]


def test_char_budget_splits_long_batches_and_keeps_order():
    texts = ["a" * 100, "b" * 10, "c" * 60, "d" * 10, "e" * 55, "f" * 10]
    batches = embed.length_sorted_batches(texts, batch_size=3, max_batch_chars=120)
    # 100 alone; 60 and 55 pad to 2 x 60 = 120 (fits); the short ones fill up to batch_size.
    assert batches == [[0], [2, 4], [1, 3, 5]]
    seen = []

    def encode(batch):
        seen.append(batch)
        return np.array([[len(t), ord(t[0])] for t in batch], dtype=np.float32)

    out = embed.encode_length_sorted(encode, texts, 3, max_batch_chars=120)
    assert out[:, 1].tolist() == [ord(t[0]) for t in texts]
    assert embed.length_sorted_batches(texts, batch_size=2) == [[0, 2], [4, 1], [3, 5]]


def test_sentence_transformer_embedder_sorts_batches_and_restores_order():
    emb = _stub_embedder(batch_size=2)
    texts = ["aaaa", "b", "cccccc", "dd", "eee"]
    vecs = emb.embed_documents(texts)
    stub = emb._model
    assert [b for kind, b in stub.batches] == [["cccccc", "aaaa"], ["eee", "dd"], ["b"]]
    assert {kind for kind, _ in stub.batches} == {"document"}
    expected = embed._normalise(stub._vecs(texts))
    np.testing.assert_allclose(vecs, expected, rtol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, rtol=1e-5)
    assert vecs.dtype == np.float32


def test_sentence_transformer_embedder_queries_and_dim():
    emb = _stub_embedder()
    assert emb.dim == 3
    assert emb.embed_queries(["问"]).shape == (1, 3)
    assert emb._model.batches == [("query", ["问"])]
    assert emb.embed_documents([]).shape == (0, 3)


def test_sentence_transformer_embedder_rejects_bad_options():
    with pytest.raises(ModelError, match="dtype"):
        SentenceTransformerEmbedder("x", dtype="int3")
    with pytest.raises(ModelError, match="batch_size"):
        SentenceTransformerEmbedder("x", batch_size=0)


def test_default_model_dim_known_without_loading():
    emb = SentenceTransformerEmbedder("/nowhere", name=models.DEFAULT_MODEL)
    assert emb.dim == 768
    assert emb._model is None


# --------------------------------------------------------------------------- get_embedder


def test_get_embedder_hash_names(monkeypatch):
    assert get_embedder("hash").dim == 64
    e = get_embedder("hash-16")
    assert isinstance(e, HashEmbedder)
    assert (e.dim, e.name) == (16, "hash-16")
    monkeypatch.setenv("QA_EMBED_MODEL", "hash-8")
    assert get_embedder().dim == 8


def test_get_embedder_default_not_fetched_says_how_to_fix():
    with pytest.raises(ModelError, match="qa models fetch"):
        get_embedder()
    with pytest.raises(ModelError, match="make setup"):
        get_embedder(models.DEFAULT_MODEL)


def test_get_embedder_default_fetched_points_at_cache(fake_fetched_model):
    dest = fake_fetched_model
    spec = models.DEFAULT_SPEC
    e = get_embedder()
    assert isinstance(e, SentenceTransformerEmbedder)
    assert e.name == models.DEFAULT_MODEL
    assert e.model_path == str(dest)
    assert e.dim == 768
    assert e.fingerprint == f"sha256:{spec.file_sha256['model.safetensors']}"
    assert e._model is None  # lazy


def test_get_embedder_other_names_are_sentence_transformers(tmp_path):
    e = get_embedder("BAAI/bge-small-zh-v1.5")
    assert isinstance(e, SentenceTransformerEmbedder)
    assert e.name == e.fingerprint == "BAAI/bge-small-zh-v1.5"
    local = get_embedder(str(tmp_path))
    assert local.model_path == str(tmp_path)


def test_import_is_light():
    code = (
        "import sys, qa.embed.embedders;"
        "print('torch' in sys.modules, 'sentence_transformers' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


# --------------------------------------------------------------------------- real model


@pytest.mark.integration
def test_real_default_model_encodes(monkeypatch):
    monkeypatch.delenv("QA_HOME")  # the real cache
    if not models.is_fetched():
        pytest.skip("default model not fetched (run `qa models fetch`)")
    emb = get_embedder()
    emb.batch_size = 4
    docs = emb.embed_documents(
        ["锣鼓经是大陆传统器乐及戏曲里面常用的打击乐记谱方法。", "今天天气晴朗。", "住房公积金"]
    )
    q = emb.embed_queries(["锣鼓经是什么？"])
    assert docs.shape == (3, 768)
    assert q.shape == (1, 768)
    assert docs.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(docs, axis=1), 1.0, rtol=1e-3)
    scores = (q @ docs.T)[0]
    assert int(np.argmax(scores)) == 0


@pytest.mark.integration
def test_real_model_is_safe_to_call_from_many_threads(monkeypatch):
    """The page answers several users at once while one uploads: questions from 8 threads
    and documents from another must neither raise (a shared fast tokenizer can fail with
    "Already borrowed") nor mix up their vectors."""
    from concurrent.futures import ThreadPoolExecutor

    monkeypatch.delenv("QA_HOME")  # the real cache
    monkeypatch.setenv("QA_VECTOR_CACHE", "0")
    if not models.is_fetched():
        pytest.skip("default model not fetched (run `qa models fetch`)")
    emb = get_embedder()
    questions = [f"{place}{year}年有多少贫困人口脱贫" for place in ("靖宇县", "卢氏县", "寻乌县",
                 "共青城", "绵阳市", "平武县") for year in (2015, 2016, 2017, 2018)]
    docs = [f"第{i}段：全县建设了{i * 3}个蓝莓基地，带动{i * 11}户贫困户增收。" for i in range(16)]
    alone_q = emb.embed_queries(questions)
    alone_d = emb.embed_documents(docs)
    with ThreadPoolExecutor(9) as pool:
        upload = pool.submit(emb.embed_documents, docs)
        answers = list(pool.map(lambda q: emb.embed_queries([q])[0], questions))
        together_d = upload.result()
    np.testing.assert_allclose(np.stack(answers), alone_q, atol=2e-2)
    np.testing.assert_allclose(together_d, alone_d, atol=2e-2)
    # each thread got its own question's vector, not a neighbour's
    assert (np.argmax(np.stack(answers) @ alone_q.T, axis=1) == np.arange(len(questions))).all()


class Int8Fake(embed.HashEmbedder):
    """A fake whose vectors are of the int8 family (as QA_EMBED_BACKEND=onnx-int8 makes)."""

    family = "int8"
    backend = "onnx-int8"


def test_index_of_another_vector_family_is_refused(tmp_path):
    from qa.errors import IndexStateError
    from qa.ingest.pipeline import ingest
    from qa.store.index import open_index

    doc = tmp_path / "a.txt"
    doc.write_text("靖宇县2016年脱贫3182人。该县发展黑木耳产业。", encoding="utf-8")
    ingest([doc], tmp_path / "idx", embedder=Int8Fake(), progress=False)
    manifest = json.loads((tmp_path / "idx" / "manifest.json").read_text("utf-8"))
    assert manifest["embedding"]["family"] == "int8"
    assert manifest["embedding"]["backend"] == "onnx-int8"
    with pytest.raises(IndexStateError, match=r"not comparable.*--rebuild"):
        open_index(tmp_path / "idx", embed.HashEmbedder())
    assert open_index(tmp_path / "idx", Int8Fake()).passages
