"""Chinese tokenisation for BM25: NFKC, Traditional->Simplified, jieba, stopwords.

Domain terms (“卢氏模式”, 43222, 1+5, X工作法, place names) must stay whole or BM25 cannot
match them exactly, so a user dictionary is mined from the collection itself and saved with
the index. Each index gets its own jieba.Tokenizer so collections never share words.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from qa.text.normalize import normalize_query

STOPWORDS = frozenset(
    "的 了 是 在 和 与 及 等 对 把 被 将 从 向 为 以 于 也 都 而 并 或 这 那 其 之 个 着 过 "
    "就 又 还 让 使 由 给 到 该 此 各 每 所 中 上 下 里 内 我 你 他 她 它 们 我们 你们 他们 "
    "有 没有 不 很 更 最 已 已经 要 会 能 可 可以 则 即 但 却 且 如 若 因 因为 所以 "
    "一个 一些 这个 那个 这些 那些 这样 那样 以及 通过 进行 其中 同时 目前 啊 呀 吧 "
    "年 月 日".split()
)
# Words that make a sentence a question but carry no topic: dropped from BM25 queries only
# (the dense side sees the whole question).
QUESTION_WORDS = (
    "是什么", "什么样", "什么", "怎么样", "怎么", "怎样", "如何", "多少", "几个", "几名",
    "为什么", "为何", "是否", "有没有", "是不是", "请问", "分别", "哪些", "哪个", "哪里",
    "哪儿", "哪", "谁", "何时", "什么时候", "多大", "多长", "多久", "吗", "呢", "么",
)
_QUESTION_RE = re.compile("|".join(sorted(map(re.escape, QUESTION_WORDS), key=len,
                                          reverse=True)))
_TOKEN_OK = re.compile(r"[\w\u4e00-\u9fff]")
_QUOTED = re.compile(r"[“「『\"]([^”」』\"\n]{2,12})[”」』\"]")
_SCHEME = re.compile(r"(?<![\d.])\d+(?:\+(?:\d+|N|n))+"
                     r"|(?<![\d.%])\d{4,6}(?=工作法|模式|计划|工程|行动)")
_BOUNDARY = r"(?:(?<=[“「『\"，,。；;：:、（(\s的了出和与及])|^)"
_NAMED = re.compile(_BOUNDARY + r"[\u4e00-\u9fff\d+]{2,8}?(?:模式|工作法|计划|工程|机制)",
                    re.MULTILINE)
_PLACE_SUFFIX = tuple("县市镇乡村州区")


def mine_terms(texts: Iterable[str], places: bool = True) -> list[str]:
    """Domain terms worth keeping whole: quoted terms, number-named schemes, named methods
    and (with jieba's part-of-speech tagger, the slow part: off for bulk loads) place names.
    Input should be Simplified."""
    terms: set[str] = set()
    for text in texts:
        for m in _QUOTED.finditer(text):
            term = m.group(1).strip()
            if not re.search(r"[，,。；;：:、\s]", term):
                terms.add(term)
        terms.update(m.group(0) for m in _SCHEME.finditer(text))
        terms.update(m.group(0) for m in _NAMED.finditer(text))
    if places:
        terms.update(_place_names(texts))
    return sorted(t.lower() for t in terms if len(t) >= 2)


def _place_names(texts: Iterable[str]) -> set[str]:
    import jieba.posseg

    found = set()
    for text in texts:
        for word, flag in jieba.posseg.cut(text):
            if flag == "ns" and len(word) >= 3 and word.endswith(_PLACE_SUFFIX):
                found.add(word)
    return found


class ChineseTokenizer:
    """Callable text -> tokens; `user_words` stay whole (search mode also yields their parts)."""

    def __init__(self, user_words: Iterable[str] = (), stopwords: frozenset[str] = STOPWORDS):
        import jieba

        jieba.setLogLevel(60)
        self._jieba = jieba.Tokenizer()
        self.user_words = sorted(set(user_words))
        for word in self.user_words:
            self._jieba.add_word(word, freq=2000)
        self.stopwords = stopwords

    def __call__(self, text: str) -> list[str]:
        text = normalize_query(text).lower()
        return [t for t in self._jieba.cut_for_search(text)
                if t.strip() and _TOKEN_OK.search(t) and t not in self.stopwords]

    def words(self, text: str) -> list[str]:
        """Plain segmentation (not search mode): each word once, in order."""
        return list(self._jieba.cut(text))

    def add_words(self, words: Iterable[str]) -> None:
        """More user words, to this tokenizer in place (no reload of jieba's dictionary)."""
        new = sorted(set(words) - set(self.user_words))
        for word in new:
            self._jieba.add_word(word, freq=2000)
        self.user_words = sorted({*self.user_words, *new})

    def known(self, word: str) -> bool:
        """In jieba's dictionary (or ours): 䲟 is not, so 短/䲟 is an unknown name."""
        self._jieba.check_initialized()
        return self._jieba.FREQ.get(word, 0) > 0

    def query(self, question: str) -> list[str]:
        """Tokens of a question without its question words."""
        return self(_QUESTION_RE.sub(" ", normalize_query(question)))

    def save(self, path: Path) -> None:
        path.write_text("".join(f"{w}\n" for w in self.user_words), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> ChineseTokenizer:
        words = path.read_text(encoding="utf-8").split("\n") if path.exists() else []
        return cls([w for w in words if w])


# Bulk tokenising on every core: jieba is pure Python, so one process uses one core. Worker
# processes are forked (they inherit the tokenizer with its user words; nothing is pickled but
# the texts and tokens), and only for bulk writes, where the fork costs little.
PARALLEL_MIN = 2000
_WORKER: ChineseTokenizer | None = None


def _work(text: str) -> list[str]:
    assert _WORKER is not None
    return _WORKER(text)


def tokenize_many(tokenizer: ChineseTokenizer, texts: Sequence[str], progress: bool = False
                  ) -> list[list[str]]:
    import multiprocessing as mp

    from tqdm import tqdm

    bar = {"desc": "分词 tokenising", "unit": "passage", "total": len(texts),
           "disable": not progress or len(texts) < 200}
    workers = min(os.cpu_count() or 1, 8)
    if workers < 2 or len(texts) < PARALLEL_MIN or "fork" not in mp.get_all_start_methods():
        return [tokenizer(t) for t in tqdm(texts, **bar)]
    global _WORKER
    _WORKER = tokenizer
    try:
        with mp.get_context("fork").Pool(workers) as pool:
            return list(tqdm(pool.imap(_work, texts, chunksize=64), **bar))
    finally:
        _WORKER = None
