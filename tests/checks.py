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
