"""Bulk tokenising on several processes gives exactly the tokens of one process."""

from __future__ import annotations

import qa.text.tokenize as tk


def test_parallel_tokens_equal_serial_tokens_and_keep_user_words(monkeypatch):
    monkeypatch.setattr(tk, "PARALLEL_MIN", 10)
    monkeypatch.setattr(tk.os, "cpu_count", lambda: 2)
    tok = tk.ChineseTokenizer(["卢氏模式"])
    texts = [f"第{i}段：卢氏模式推进金融扶贫，覆盖{i}个村。" for i in range(40)]
    many = tk.tokenize_many(tok, texts)
    assert many == [tok(t) for t in texts]
    assert all("卢氏模式" in t for t in many)  # the user word reached the worker processes
