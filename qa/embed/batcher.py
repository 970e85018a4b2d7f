"""Questions asked at the same moment are embedded together.

On a busy page many threads ask at once; embedding one short question costs nearly as much as
embedding eight, because the model's fixed cost per call dominates. The first caller embeds
what is waiting; callers that arrive meanwhile queue, and the next one to wake embeds the
whole queue in one call. No timer: a lone question is never delayed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import numpy as np


class _Slot:
    __slots__ = ("error", "result", "texts")

    def __init__(self, texts: list[str]) -> None:
        self.texts = texts
        self.result: np.ndarray | None = None
        self.error: BaseException | None = None

    @property
    def done(self) -> bool:
        return self.result is not None or self.error is not None


class Batcher:
    """`batcher(texts)` returns `encode(texts)`, merging concurrent calls (at most
    `max_texts` texts per call of `encode`)."""

    def __init__(self, encode: Callable[[list[str]], np.ndarray], max_texts: int = 32) -> None:
        self._encode = encode
        self._max = max_texts
        self._cond = threading.Condition()
        self._queue: list[_Slot] = []
        self._busy = False
        self.calls = 0  # encode calls made (for tests and benchmarks)

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        slot = _Slot(list(texts))
        with self._cond:
            self._queue.append(slot)
        while True:
            with self._cond:
                while self._busy and not slot.done:
                    self._cond.wait()
                if slot.done:
                    return self._take(slot)
                self._busy = True  # this caller embeds the queue (its own slot among it)
                batch, n = [], 0
                while self._queue and (not batch or n + len(self._queue[0].texts) <= self._max):
                    batch.append(self._queue.pop(0))
                    n += len(batch[-1].texts)
            self._run(batch)

    def _run(self, batch: list[_Slot]) -> None:
        try:
            vectors = self._encode([t for s in batch for t in s.texts])
            self.calls += 1
            start = 0
            for s in batch:
                s.result = vectors[start:start + len(s.texts)]
                start += len(s.texts)
        except BaseException as e:  # every waiting caller gets the failure, not a hang
            for s in batch:
                s.error = e
        finally:
            with self._cond:
                self._busy = False
                self._cond.notify_all()

    @staticmethod
    def _take(slot: _Slot) -> np.ndarray:
        if slot.error is not None:
            raise slot.error
        return slot.result
