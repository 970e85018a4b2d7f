"""What the local store (qa/store/local.py) and the Milvus store (qa/store/milvus.py) share:
the one-writer lock and the all-or-nothing `writing()` skeleton, what a writer is given per
passage, batching of long key lists, 64-bit key conversion, vectors by pid, near-duplicate
pairing, and the crash points the crash tests kill a writer at.

The stores differ in how they make a write atomic (one SQLite transaction; rows tagged with
their write's generation in Milvus), so each supplies the four steps of `StoreCore.writing`;
the order of the steps, and that a failure anywhere leaves the previous state, live here.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qa.errors import QAError
from qa.ingest.corpus import Passage
from qa.settings import settings

LOCK = "write.lock"

_crash_count = 0


def crashpoint() -> None:
    """Where tests kill a writer (`QA_CRASH_AFTER=N`: the N-th call sends SIGKILL to this
    process, as `kill -9` would; `QA_CRASH_TRACE=FILE` counts the calls). No-op otherwise."""
    global _crash_count
    after, trace = settings().crash_after, settings().crash_trace
    if not after and not trace:
        return
    _crash_count += 1
    if trace:
        Path(trace).write_text(str(_crash_count))
    if after and _crash_count >= int(after):
        import signal

        os.kill(os.getpid(), signal.SIGKILL)


@dataclass
class NewPassage:
    """What a writer stores per passage."""

    passage: Passage
    vector: np.ndarray
    tokens: list[str]
    grams: np.ndarray  # uint64 bigram keys (qa.text.grams) of the passage's match text


class WriteLock:
    """An exclusive lock on the store's folder across processes (flock: released by the OS
    when the process dies, so a crashed writer never blocks the next one)."""

    def __init__(self, folder: Path, wait: float | None = None) -> None:
        self.path = folder / LOCK
        self.wait = settings().lock_wait if wait is None else wait
        self._fh = None

    def __enter__(self) -> WriteLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(self.path, "a+")  # held until __exit__
        deadline = time.monotonic() + self.wait
        while True:
            try:
                fcntl.flock(self._fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return self
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    self._fh.close()
                    raise QAError(f"another process is writing to {self.path.parent} "
                                  f"(waited {self.wait:.0f}s); try again when it has "
                                  "finished, or raise QA_LOCK_WAIT") from None
                time.sleep(0.2)

    def __exit__(self, *exc: object) -> None:
        if self._fh is not None:
            fcntl.flock(self._fh, fcntl.LOCK_UN)
            self._fh.close()


class StoreCore:
    """The write skeleton of a store: `with store.writing() as w: w.add(...); w.remove(...)`.

    One writer at a time across processes (WriteLock on the folder) and threads (`_lock`);
    the writer first catches up with what others committed, so it builds on the newest
    state. Then either every change of the block is committed, or none is: an exception
    anywhere, the block's own or the commit's, goes through `_abort` and is raised again."""

    folder: Path
    _lock: threading.RLock

    def refresh(self) -> bool:
        raise NotImplementedError

    def _begin(self) -> Any:
        """Prepare the write (clean up after a crashed one) and return its writer."""
        raise NotImplementedError

    def _commit(self, writer: Any) -> None:
        """Make the finished write visible at once (the one step that publishes it)."""
        raise NotImplementedError

    def _abort(self, writer: Any) -> None:
        """Undo whatever the write did; the previous state is the current one again."""
        raise NotImplementedError

    def _committed(self, writer: Any) -> None:
        """Bring this process's view up to the committed write (indexes, counts, clean-up)."""
        raise NotImplementedError

    @contextlib.contextmanager
    def writing(self) -> Iterator[Any]:
        """One all-or-nothing write: `with store.writing() as w: w.add(...); w.remove(...)`."""
        with WriteLock(self.folder), self._lock:
            self.refresh()
            writer = self._begin()
            try:
                yield writer
                writer.finish()
                self._commit(writer)
            except BaseException:
                self._abort(writer)
                raise
            self._committed(writer)


# ---------------------------------------------------------------------- small helpers
def chunks(items: list, size: int) -> Iterator[list]:
    """`items` in lists of at most `size`: a query names at most that many keys (SQLite's
    variable limit, Milvus's filter length)."""
    for i in range(0, len(items), size):
        yield items[i:i + size]


def signed(key: int) -> int:
    """A 64-bit unsigned key as a signed INT64 (SQLite INTEGER, Milvus INT64)."""
    key = int(key)
    return key - (1 << 64) if key >= 1 << 63 else key


def unique_ints(values: Iterable) -> list[int]:
    """`values` as ints, each once, in their first order."""
    return list(dict.fromkeys(int(v) for v in values))


def stack_vectors(pids: Sequence[int], found: Mapping[int, np.ndarray], dim: int) -> np.ndarray:
    """The vectors of `pids` in their order, a zero vector for a pid not found (removed)."""
    if not pids:
        return np.zeros((0, dim), dtype=np.float32)
    zero = np.zeros(dim, dtype=np.float32)
    return np.stack([np.asarray(found[p], dtype=np.float32) if p in found else zero
                     for p in pids])


def fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fsync(path)


# ---------------------------------------------------------------------- near-duplicates
def signed_bands(sig: Any) -> list[int]:
    """The LSH band keys of a document's signature (qa.ingest.dedup), as stored: signed."""
    from qa.ingest.dedup import band_keys

    return [signed(k) for k in band_keys(sig)]


def duplicate_pairs(doc_id: str, sig: Any, others: Iterable[tuple[str, Any]]
                    ) -> list[tuple[str, str, float]]:
    """The links to store for a new document: (doc_id, other, similarity) and the reverse,
    for each candidate (other, its Signature) at least as similar as DEFAULT_THRESHOLD (LSH
    candidates share a band, which does not make them similar)."""
    from qa.ingest.dedup import DEFAULT_THRESHOLD

    out: list[tuple[str, str, float]] = []
    for other, other_sig in others:
        similarity = sig.jaccard(other_sig)
        if similarity >= DEFAULT_THRESHOLD:
            out += [(doc_id, other, similarity), (other, doc_id, similarity)]
    return out


def group_duplicates(rows: Iterable[tuple[str, str, float]]) -> dict[str, list[str]]:
    """doc_id -> the other documents with (nearly) the same text, most similar first, from
    stored (doc_id, other, similarity) links."""
    out: dict[str, list[str]] = {}
    for doc_id, other, _ in sorted(rows, key=lambda r: -r[2]):
        if other not in out.setdefault(doc_id, []):
            out[doc_id].append(other)
    return out
