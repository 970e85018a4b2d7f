"""Concurrent questions share one embedding call; each caller gets its own vectors."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from qa.embed.batcher import Batcher


def _encode(texts: list[str]) -> np.ndarray:
    time.sleep(0.05)  # a model call's fixed cost
    return np.array([[float(len(t)), float(sum(map(ord, t)) % 997)] for t in texts])


def test_a_lone_question_is_one_model_call_of_its_own():
    b = Batcher(_encode)
    out = b(["卢氏模式是什么"])
    assert b.calls == 1 and out.shape == (1, 2) and out[0, 0] == 7


def test_concurrent_callers_are_merged_and_get_their_own_rows():
    b = Batcher(_encode)
    questions = [f"问题{'长' * i}" for i in range(24)]
    with ThreadPoolExecutor(12) as pool:
        results = list(pool.map(lambda q: b([q]), questions))
    for q, r in zip(questions, results, strict=True):
        np.testing.assert_array_equal(r, _encode([q]))
    assert b.calls < len(questions) / 2  # merged, not one call per question


def test_batches_respect_the_limit_and_every_caller_finishes():
    sizes = []

    def encode(texts):
        sizes.append(len(texts))
        return _encode(texts)

    b = Batcher(encode, max_texts=4)
    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(lambda i: b([f"q{i}", f"p{i}"]), range(16)))
    assert all(r.shape == (2, 2) for r in results)
    assert max(sizes) <= 4


def test_a_failure_reaches_every_caller_of_that_batch_and_the_next_calls_work():
    calls = {"n": 0}
    gate = threading.Event()

    def encode(texts):
        calls["n"] += 1
        if calls["n"] == 1:
            gate.wait(1)
            raise RuntimeError("model crashed")
        return _encode(texts)

    b = Batcher(encode)
    errors = []

    def ask(q):
        try:
            b([q])
        except RuntimeError as e:
            errors.append(str(e))

    first = threading.Thread(target=ask, args=("a",))
    first.start()
    time.sleep(0.05)
    gate.set()
    first.join(5)
    assert errors == ["model crashed"]
    assert b(["again"]).shape == (1, 2)
    with pytest.raises(RuntimeError):
        Batcher(lambda t: (_ for _ in ()).throw(RuntimeError("x")))(["y"])
