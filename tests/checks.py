"""Assertions shared by several test files."""

from __future__ import annotations

from qa.clean import Cleaned
from qa.text import narrow


def assert_offsets_exact(raw: str, c: Cleaned) -> None:
    """Every cleaned character maps back to its raw character, in order, and nothing but
    whitespace and what cleaning reports as removed is dropped."""
    assert len(c.offsets) == len(c.text)
    assert c.offsets == sorted(c.offsets)
    for ch, off in zip(c.text, c.offsets, strict=True):
        if not ch.isspace():
            assert narrow(raw[off]) == ch
    kept = set(c.offsets)
    removed = {i for s, e, _ in c.removed for i in range(s, e)}
    for i, ch in enumerate(raw):
        assert i in kept or ch.isspace() or i in removed, (i, ch)


def read_passages(index_dir) -> list[dict]:
    """The passages as stored in an index folder, read straight from its SQLite file (not
    through the code under test), in the order they were added."""
    import json
    import sqlite3
    from pathlib import Path

    db = sqlite3.connect(f"file:{Path(index_dir) / 'store.sqlite'}?mode=ro", uri=True)
    try:
        return [json.loads(d) for (d,) in db.execute("SELECT data FROM passages ORDER BY pid")]
    finally:
        db.close()


def fail_after_first_add(monkeypatch, writer_class) -> list[str]:
    """Make a store's Writer.add write the first document's rows and then fail like a full
    disk; returns the ids of the documents it wrote before failing."""
    added: list[str] = []
    original = writer_class.add

    def boom(self, record, passages, *more):
        original(self, record, passages, *more)
        added.append(record.doc_id)
        raise OSError("disk full")

    monkeypatch.setattr(writer_class, "add", boom)
    return added
