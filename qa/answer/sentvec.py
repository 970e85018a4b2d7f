"""Sentence vectors: how close each sentence of a retrieved passage is, in meaning, to the
question.

Choosing the answer sentence by shared words picks a sentence that repeats the question's
abbreviation but states something else; the embedding model reads what a sentence says.
Each sentence is embedded with its document's context line (title and main places) in front,
as passages are, because a sentence deep in an article (本作由光荣开发) does not repeat what
the article is about.

Vectors live in the vector cache (qa.embed.vcache, keyed by the text), so a sentence is embedded
once: ingest warms the cache for every passage it writes (`warm`), and at question time the
sentences of the retrieved passages are looked up; any the cache lacks (an index built before
sentence vectors, or ingested with them off) are embedded in one batch and cached.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from qa.ingest.corpus import Passage
from qa.ingest.flags import despin
from qa.settings import settings
from qa.text.normalize import normalize_query

# Above this many passages in one write, ingest leaves sentence vectors to question time
# (a bulk load of a news archive would take twice as long); QA_SENTENCE_VECTORS=always|lazy
WARM_LIMIT = 20_000
_MEMORY = 50_000  # vectors kept in memory per process


def sentence_text(passage: Passage, sentence: str) -> str:
    """What is embedded for one sentence: the context line, then the sentence (Simplified,
    NFKC, spun words mapped back), as qa.store.index.search_text does for a passage."""
    text = normalize_query(f"{passage.context}\n{sentence}" if passage.context else sentence)
    return despin(text) if "spun" in passage.flags else text


def passage_sentences(passage: Passage) -> list[str]:
    """The sentence texts of a passage, as the answerer splits them."""
    from qa.answer.sentences import split_sentences
    from qa.retrieve.search import Hit

    return [s.text for s in split_sentences(Hit(passage, 0.0, 0.0, 0.0))]


class SentenceVectors:
    """Sentence vectors of one embedder, from memory, the vector cache, or the model."""

    def __init__(self, embedder) -> None:
        self.embedder = embedder
        self._memory: OrderedDict[str, np.ndarray] = OrderedDict()

    def vectors(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors for `texts` (sentence_text results), embedding only what no cache
        holds, in one batch."""
        from qa.embed.vcache import embed_cached

        if not texts:
            return np.zeros((0, self.embedder.dim), np.float32)
        missing = list(dict.fromkeys(t for t in texts if t not in self._memory))
        if missing:
            vecs, _ = embed_cached(self.embedder, missing)
            for t, v in zip(missing, vecs, strict=True):
                self._memory[t] = v
            while len(self._memory) > _MEMORY:
                self._memory.popitem(last=False)
        return np.stack([self._memory[t] for t in texts])

    def cosines(self, qvec: np.ndarray, texts: Sequence[str]) -> np.ndarray:
        return self.vectors(texts) @ np.asarray(qvec, dtype=np.float32)


def warm(embedder, passages: Sequence[Passage], progress: bool = False) -> int:
    """Embed the sentences of `passages` into the vector cache now (ingest), so questions
    never wait for them. Returns how many were embedded (the rest were cached)."""
    from qa.embed.vcache import embed_cached, space_of

    mode = settings().sentence_vectors
    if space_of(embedder) is None or mode == "lazy" or (
            mode != "always" and len(passages) > WARM_LIMIT):
        return 0
    texts = list(dict.fromkeys(sentence_text(p, s) for p in passages
                               for s in passage_sentences(p)))
    if not texts:
        return 0
    _, fresh = embed_cached(embedder, texts, progress=progress, unit="sentence",
                            desc="句向量 sentences")
    return fresh
