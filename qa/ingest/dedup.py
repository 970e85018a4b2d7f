"""Near-duplicate documents: the same article reprinted by several sites.

News and policy collections hold one article many times over: the county site, the city site
and a few portals each publish it with their own header and footer, line breaks, punctuation,
sometimes in Traditional script. Every copy takes a slot in the search results and looks like
independent support for an answer, so ingest and search should know which documents are copies.

The rule: two texts are near-duplicates when the Jaccard similarity of their sets of
5-character shingles is >= a threshold (0.8 by default). Shingles are read from the folded
text (qa.text.normalize.fold: NFKC, Simplified script, lower case) with everything but letters and
digits removed, and run across the removed characters, so whitespace, punctuation and script
do not count at all and site chrome counts only by its length. A shared paragraph or template
sentence adds only its own shingles, far below 0.8 of the union, so two reports that share a
boilerplate sentence stay apart. A scattered edit costs up to 5 shingles: 1% of the
characters changed at separate places leaves Jaccard >= ~0.9, 2.2% only >= ~0.8; an edited
span of 5% of the text costs few shingles and leaves ~0.9.

A `Signature` is a MinHash of that set: 128 fixed hash functions, the minimum of each over the
shingles; the share of equal minima estimates the Jaccard similarity (standard deviation
sqrt(J(1-J)/128), 0.035 at 0.8), capped by the ratio of the set sizes, an exact upper bound.
Everything is fixed by blake2b-derived constants and numpy integer arithmetic, so a signature
is the same in every process and on every machine and can be stored. MinHash rather than a
64-bit SimHash, by measurement on 20,000 news articles (bench/dedup.py): SimHash estimates the
cosine of the two sets, and with 64 bits coarsely; on pairs with exact Jaccard in [0.8, 0.9)
its mean error was 0.070 against MinHash's 0.024, and deciding "Jaccard >= 0.8" on 3,659
pairs it made 272 false positives and 267 false negatives against MinHash's 95 and 75, at
about the same cost (~0.4 ms a news article either way).

`DuplicateIndex` finds the near-duplicates of a document in O(its bands), not O(collection):
locality-sensitive hashing cuts a signature into bands of rows; two documents are compared
only when some band is equal, and the band width is chosen per threshold so that a pair at
exactly the threshold shares a band with probability >= 0.99.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from qa.text.normalize import fold

SHINGLE = 5  # characters per shingle (the packing in _shingle_keys assumes 5)
NUM_PERM = 128  # hash functions per signature
DEFAULT_THRESHOLD = 0.8
# Bump when signatures change for the same text: stored signatures and indexes then go stale.
SCHEME = "minhash-v1/fold-alnum/shingle5/perm128"

_CANDIDATE_RECALL = 0.99  # chance that a pair at exactly the threshold shares a band
_NON_WORD = re.compile(r"[\W_]+")
_CHUNK = 4096  # shingles hashed at once: bounds the (chunk, NUM_PERM) temporary to 4 MB


# ---------------------------------------------------------------- text -> shingles
_fold_uncached = getattr(fold, "__wrapped__", fold)


def _fold(text: str) -> str:
    """qa.text.normalize.fold without its cache: each document is folded once, and caching
    would only hold its text in memory (the Simplified fast path is in
    qa.text.normalize.to_simplified)."""
    return _fold_uncached(text)


def _normalize(text: str) -> str:
    """What shingles are read from: the folded text, letters and digits only."""
    return _NON_WORD.sub("", _fold(text))


def shingles(text: str) -> set[str]:
    """The exact 5-character shingle set of a text (a shorter text is its own shingle).

    Signatures estimate Jaccard similarity on these sets; use it to check an estimate.
    """
    s = _normalize(text)
    if len(s) < SHINGLE:
        return {s} if s else set()
    return {s[i:i + SHINGLE] for i in range(len(s) - SHINGLE + 1)}


def jaccard(a: str, b: str) -> float:
    """Exact Jaccard similarity of two texts' shingle sets (0.0 when either has none)."""
    sa, sb = shingles(a), shingles(b)
    if not sa or not sb:
        return 0.0
    return len(sa & sb) / len(sa | sb)


_U = np.uint64
_M1, _M2 = _U(0xBF58476D1CE4E5B9), _U(0x94D049BB133111EB)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: a bijection of 64-bit keys in which every output bit depends on
    every input bit (numpy wraps uint64 arithmetic modulo 2**64)."""
    x = x ^ (x >> _U(30))
    x = x * _M1
    x = x ^ (x >> _U(27))
    x = x * _M2
    return x ^ (x >> _U(31))


def _constants(tag: str, n: int) -> np.ndarray:
    """n fixed 64-bit numbers: blake2b, so the same on every machine and numpy version."""
    return np.array([int.from_bytes(hashlib.blake2b(f"qa.dedup/{tag}/{i}".encode(),
                                                    digest_size=8).digest(), "little")
                     for i in range(n)], dtype=np.uint64)


_A = _constants("a", NUM_PERM) | _U(1)  # odd multipliers: each h(x) = a*x + b is a bijection
_B = _constants("b", NUM_PERM)
_BAND_MUL = _constants("band-row", NUM_PERM) | _U(1)
_BAND_SALT = _constants("band", NUM_PERM)


def _shingle_keys(normalized: str) -> np.ndarray:
    """Sorted distinct 64-bit keys of the shingles: 5 code points of 21 bits packed exactly
    into 63 + 42 bits, then mixed into one 64-bit key (collisions ~2**-64 per pair)."""
    if not normalized:
        return np.zeros(0, dtype=np.uint64)
    c = np.frombuffer(normalized.encode("utf-32-le"), dtype="<u4").astype(np.uint64)
    if len(c) < SHINGLE:  # code point 0 never survives _normalize: safe padding
        c = np.concatenate([c, np.zeros(SHINGLE - len(c), dtype=np.uint64)])
    n = len(c) - SHINGLE + 1
    high = (c[:n] << _U(42)) | (c[1:n + 1] << _U(21)) | c[2:n + 2]
    low = (c[3:n + 3] << _U(21)) | c[4:n + 4]
    return np.unique(_mix(high ^ _mix(low)))


# ---------------------------------------------------------------- signatures
@dataclass(frozen=True, eq=False, slots=True)
class Signature:
    """MinHash of a text's shingle set: NUM_PERM uint32 minima, and the set's size."""

    values: np.ndarray  # uint32, shape (NUM_PERM,), read-only
    size: int  # distinct shingles; 0 for a text without letters or digits

    def jaccard(self, other: Signature) -> float:
        """Estimated Jaccard similarity; an empty text is similar to nothing."""
        if not self.size or not other.size:
            return 0.0
        agree = int(np.count_nonzero(self.values == other.values)) / NUM_PERM
        # |A∩B| / |A∪B| <= min/max size: exact, and it drops containment (a short text inside
        # a long one) that the estimate's noise could lift over the threshold
        return min(agree, min(self.size, other.size) / max(self.size, other.size))

    def to_bytes(self) -> bytes:
        """516 bytes for a SQLite blob: the size, then the values, little-endian."""
        return struct.pack("<I", self.size) + self.values.astype("<u4").tobytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> Signature:
        """The signature `to_bytes` wrote; ValueError when the length is wrong."""
        if len(data) != 4 + 4 * NUM_PERM:
            raise ValueError(f"a signature is {4 + 4 * NUM_PERM} bytes, got {len(data)}")
        values = np.frombuffer(data, dtype="<u4", offset=4).astype(np.uint32)
        values.flags.writeable = False
        return cls(values, struct.unpack_from("<I", data)[0])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Signature):
            return NotImplemented
        return self.size == other.size and bool(np.array_equal(self.values, other.values))


def signature(text: str) -> Signature:
    """The MinHash signature of a text: ~0.5 ms for 1,000 characters (bench/dedup.py)."""
    keys = _shingle_keys(_normalize(text))
    mins = np.full(NUM_PERM, np.iinfo(np.uint64).max, dtype=np.uint64)
    for start in range(0, len(keys), _CHUNK):
        # h_i(x) = a_i*x + b_i mod 2**64; its high 32 bits are a multiply-shift hash, and the
        # minimum of the high bits is the high bits of the minimum
        hashed = keys[start:start + _CHUNK, None] * _A
        hashed += _B
        np.minimum(mins, hashed.min(axis=0), out=mins)
    values = (mins >> _U(32)).astype(np.uint32)
    values.flags.writeable = False
    return Signature(values, len(keys))


# ---------------------------------------------------------------- the index
def _bands(threshold: float) -> tuple[int, int]:
    """(bands, rows): the widest bands that still make a pair at the threshold a candidate
    with probability >= 0.99. Wider bands mean fewer accidental candidates to verify."""
    for rows in range(NUM_PERM, 0, -1):
        bands = NUM_PERM // rows
        if 1 - (1 - threshold ** rows) ** bands >= _CANDIDATE_RECALL:
            return bands, rows
    return NUM_PERM, 1


def band_keys(sig: Signature, threshold: float = DEFAULT_THRESHOLD) -> list[int]:
    """One 64-bit key per LSH band, salted by the band's number (one table serves all
    bands): two documents at >= `threshold` share a key with probability >= 0.99. For stores
    that keep the buckets themselves (qa/store/local.py keeps them in SQLite)."""
    if not sig.size:
        return []
    bands, rows_per = _bands(threshold)
    rows = sig.values[: bands * rows_per].astype(np.uint64).reshape(bands, rows_per)
    keys = (rows * _BAND_MUL[:rows_per]).sum(axis=1, dtype=np.uint64)
    return _mix(keys ^ _BAND_SALT[:bands]).tolist()


class DuplicateIndex:
    """Documents' signatures, bucketed by LSH bands, to find near-duplicates of one document
    without comparing it to the whole collection.

    Buckets are in memory only and rebuilt on load; `to_bytes` keeps ids and signatures.
    """

    def __init__(self, threshold: float = DEFAULT_THRESHOLD) -> None:
        if not 0 < threshold <= 1:
            raise ValueError(f"threshold must be in (0, 1], got {threshold}")
        self.threshold = threshold
        self.bands, self.rows = _bands(threshold)
        self._sigs: dict[str, Signature] = {}
        # band key -> doc id, or a tuple of ids when several share it (a str is ~50 bytes
        # smaller than a one-element container, and most buckets hold one document)
        self._buckets: dict[int, str | tuple[str, ...]] = {}

    def __len__(self) -> int:
        return len(self._sigs)

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._sigs

    def _band_keys(self, sig: Signature) -> list[int]:
        return band_keys(sig, self.threshold)

    def add(self, doc_id: str, sig: Signature) -> None:
        """Add a document, or replace its signature if it is already there."""
        if doc_id in self._sigs:
            self.remove(doc_id)
        self._sigs[doc_id] = sig
        for key in self._band_keys(sig):
            held = self._buckets.get(key)
            if held is None:
                self._buckets[key] = doc_id
            else:
                self._buckets[key] = (*held, doc_id) if isinstance(held, tuple) \
                    else (held, doc_id)

    def remove(self, doc_id: str) -> bool:
        """Forget a document; False when it was not there."""
        sig = self._sigs.pop(doc_id, None)
        if sig is None:
            return False
        for key in self._band_keys(sig):
            held = self._buckets.get(key)
            if held == doc_id:
                del self._buckets[key]
            elif isinstance(held, tuple):
                rest = tuple(d for d in held if d != doc_id)
                self._buckets[key] = rest[0] if len(rest) == 1 else rest
        return True

    def signature_of(self, doc_id: str) -> Signature:
        """The stored signature of a document (KeyError when absent)."""
        return self._sigs[doc_id]

    def _candidates(self, sig: Signature) -> set[str]:
        found: set[str] = set()
        for key in self._band_keys(sig):
            held = self._buckets.get(key)
            if isinstance(held, tuple):
                found.update(held)
            elif held is not None:
                found.add(held)
        return found

    def query(self, sig: Signature, exclude: str | None = None) -> list[tuple[str, float]]:
        """Documents whose estimated Jaccard similarity with `sig` is >= the threshold, best
        first (ties by id). `exclude`: a doc id to leave out, e.g. the document itself."""
        hits = [(d, s) for d in self._candidates(sig) - {exclude}
                if (s := sig.jaccard(self._sigs[d])) >= self.threshold]
        return sorted(hits, key=lambda hit: (-hit[1], hit[0]))

    def groups(self) -> list[set[str]]:
        """Connected groups of near-duplicates (two or more documents), largest first.

        Connected: A~B and B~C put A, B, C in one group even when A and C are further apart,
        as successive edits of one article are.
        """
        return self._groups(lambda a, b: self._sigs[a].jaccard(self._sigs[b]) >= self.threshold)

    def _groups(self, similar: Callable[[str, str], bool]) -> list[set[str]]:
        """Union-find over candidate pairs; a pair already connected is not compared, so a
        group of n identical copies costs O(n * bands), not O(n**2)."""
        order = {doc_id: i for i, doc_id in enumerate(self._sigs)}
        parent: dict[str, str] = {}

        def find(x: str) -> str:
            while (p := parent.get(x, x)) != x:
                parent[x] = x = parent.get(p, p)
            return x

        for doc_id, sig in self._sigs.items():
            for other in sorted(self._candidates(sig), key=order.__getitem__):
                if order[other] >= order[doc_id]:
                    break  # each pair once, from its later document
                a, b = find(doc_id), find(other)
                if a != b and similar(doc_id, other):
                    parent[a] = b
        members: dict[str, set[str]] = {}
        for doc_id in parent:
            members.setdefault(find(doc_id), set()).add(doc_id)
        for root, group in members.items():
            group.add(root)
        return sorted(members.values(), key=lambda g: (-len(g), min(g)))

    _MAGIC = b"QADUP\x01"

    def to_bytes(self) -> bytes:
        """Ids, threshold and signatures (516 bytes a document) for a SQLite blob."""
        header = json.dumps({"scheme": SCHEME, "threshold": self.threshold,
                             "ids": list(self._sigs),
                             "sizes": [s.size for s in self._sigs.values()]},
                            ensure_ascii=False).encode()
        values = (np.stack([s.values for s in self._sigs.values()]) if self._sigs
                  else np.zeros((0, NUM_PERM), dtype=np.uint32))
        return (self._MAGIC + struct.pack("<I", len(header)) + header
                + values.astype("<u4").tobytes())

    @classmethod
    def from_bytes(cls, data: bytes) -> DuplicateIndex:
        """The index `to_bytes` wrote; ValueError when it is not one, or another scheme's."""
        magic = cls._MAGIC
        if data[: len(magic)] != magic or len(data) < len(magic) + 4:
            raise ValueError("not a DuplicateIndex")
        (n_header,) = struct.unpack_from("<I", data, len(magic))
        start = len(magic) + 4
        header = json.loads(data[start:start + n_header].decode())
        if header.get("scheme") != SCHEME:
            raise ValueError(f"signatures made by {header.get('scheme')!r}, this code makes "
                             f"{SCHEME!r}: recompute them from the texts")
        ids, sizes = header["ids"], header["sizes"]
        raw = data[start + n_header:]
        if len(ids) != len(sizes) or len(raw) != 4 * NUM_PERM * len(ids):
            raise ValueError("DuplicateIndex data is truncated or corrupt")
        matrix = np.frombuffer(raw, dtype="<u4").astype(np.uint32).reshape(len(ids), NUM_PERM)
        matrix.flags.writeable = False
        index = cls(header["threshold"])
        for doc_id, size, values in zip(ids, sizes, matrix, strict=True):
            index.add(doc_id, Signature(values, size))
        return index


# ---------------------------------------------------------------- batch rule
def near_duplicates(texts: Mapping[str, str], threshold: float = DEFAULT_THRESHOLD
                    ) -> list[set[str]]:
    """Groups of near-duplicate documents (doc id -> text), largest first.

    The batch form of the rule: LSH proposes pairs, the exact Jaccard similarity of the
    shingle sets decides, so the answer does not depend on the estimate's noise. Pairs whose
    estimate is more than 4 standard deviations below the threshold are not checked.
    """
    index = DuplicateIndex(threshold)
    for doc_id, text in texts.items():
        index.add(doc_id, signature(text))
    floor = threshold - 4 * math.sqrt(threshold * (1 - threshold) / NUM_PERM)
    cache: dict[str, set[str]] = {}

    def shingles_of(doc_id: str) -> set[str]:
        if doc_id not in cache:
            cache[doc_id] = shingles(texts[doc_id])
        return cache[doc_id]

    def similar(a: str, b: str) -> bool:
        if index.signature_of(a).jaccard(index.signature_of(b)) < floor:
            return False
        sa, sb = shingles_of(a), shingles_of(b)
        return len(sa & sb) >= threshold * len(sa | sb)

    return index._groups(similar)
