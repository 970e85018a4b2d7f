"""Text embedders: the real sentence-transformers model and a deterministic fake for tests.

torch and sentence-transformers are imported lazily so that `import qa.embed` stays fast (the
CLI, tests and the index code import it without ever encoding anything).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from qa.errors import ModelError
from qa.models import DEFAULT_MODEL, KNOWN_MODELS, is_fetched, model_dir, model_fingerprint

# Chosen from bench/embed_speed.py on the 2-core target machine (AVX512-BF16): bf16 is ~2-3x
# fp32 with the same top-1 on 50/50 test queries; small, length-sorted batches are fastest on CPU
# (batches of 32-64 long texts fall out of cache), and the char budget keeps long texts in small
# batches. Truncating to 512 tokens is faster on long texts but is left off to keep their tails.
DEFAULT_DTYPE = "bfloat16"
DEFAULT_BATCH_SIZE = 8
DEFAULT_MAX_SEQ_LENGTH: int | None = None  # the model's own (2048 for EmbeddingGemma)
DEFAULT_MAX_BATCH_CHARS: int | None = 2400

# Output dims of known models, so `dim` is available before the 1 GB model is loaded.
_KNOWN_DIMS = {DEFAULT_MODEL: 768}
_DTYPES = ("float32", "bfloat16", "float16")
_INSTALL_HINT = "pip install 'sentence-transformers>=5.0,<7' torch (or `make setup`)"


class Embedder(Protocol):
    """What the index and the retriever need from a model."""

    name: str  # model id/path as configured
    dim: int

    @property
    def fingerprint(self) -> str:
        """Identifies the exact weights, stored in the index manifest."""
        ...

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """float32, L2-normalised, shape (n, dim)."""
        ...

    def embed_documents(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        """float32, L2-normalised, shape (n, dim)."""
        ...


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def length_sorted_batches(
    texts: Sequence[str], batch_size: int, max_batch_chars: int | None = None
) -> list[list[int]]:
    """Index batches, longest texts first, so a batch is only padded to similar lengths.

    ``max_batch_chars`` caps the padded size (longest text x count) of a batch: on CPU a
    batch of long texts is slower per text than a few small ones (it falls out of cache).
    """
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
    batches: list[list[int]] = []
    for i in order:
        batch = batches[-1] if batches else None
        if (
            batch is None
            or len(batch) >= batch_size
            or (
                max_batch_chars is not None
                and len(texts[batch[0]]) * (len(batch) + 1) > max_batch_chars
            )
        ):
            batches.append([i])
        else:
            batch.append(i)
    return batches


def encode_length_sorted(
    encode: Callable[[list[str]], Any],
    texts: Sequence[str],
    batch_size: int,
    progress: bool = False,
    desc: str = "embed",
    max_batch_chars: int | None = None,
) -> np.ndarray:
    """Encode in batches of similar length so short texts are not padded to a long neighbour.

    Returns rows in the original order of ``texts``.
    """
    texts = list(texts)
    if not texts:
        return np.zeros((0, 0), dtype=np.float32)
    batches = length_sorted_batches(texts, batch_size, max_batch_chars)
    order = [i for batch in batches for i in batch]
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(texts), desc=desc, unit="text")
    parts = []
    try:
        for batch in batches:
            out = encode([texts[i] for i in batch])
            if hasattr(out, "float"):  # a torch tensor (e.g. bf16) rather than numpy
                out = out.float().cpu().numpy()
            parts.append(np.asarray(out, dtype=np.float32))
            if bar is not None:
                bar.update(len(batch))
    finally:
        if bar is not None:
            bar.close()
    sorted_vectors = np.concatenate(parts, axis=0)
    result = np.empty_like(sorted_vectors)
    result[np.asarray(order)] = sorted_vectors
    return result


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


class SentenceTransformerEmbedder:
    """A sentence-transformers model on CPU, loaded on first use (or via `load()` to warm up)."""

    def __init__(
        self,
        model: str,
        dtype: str = DEFAULT_DTYPE,
        batch_size: int = DEFAULT_BATCH_SIZE,
        max_seq_length: int | None = DEFAULT_MAX_SEQ_LENGTH,
        max_batch_chars: int | None = DEFAULT_MAX_BATCH_CHARS,
        *,
        name: str | None = None,
        device: str = "cpu",
        threads: int | None = None,
    ) -> None:
        if dtype not in _DTYPES:
            raise ModelError(f"dtype={dtype!r} is not supported; use one of {', '.join(_DTYPES)}")
        if batch_size < 1:
            raise ModelError(f"batch_size={batch_size} must be at least 1")
        self.model_path = model
        self.name = name or model
        self.dtype = dtype
        self.batch_size = batch_size
        self.max_seq_length = max_seq_length
        self.max_batch_chars = max_batch_chars
        self.device = device
        self.threads = threads or _cpu_count()
        self._model: Any = None
        self._dim: int | None = _KNOWN_DIMS.get(self.name)

    @property
    def is_local(self) -> bool:
        return Path(self.model_path).expanduser().is_dir()

    @property
    def fingerprint(self) -> str:
        """Weights identity for the index manifest; a cheap lookup, never a full re-hash."""
        return model_fingerprint(self.model_path)

    @property
    def dim(self) -> int:
        """Known without loading for the default model; otherwise asks the loaded model."""
        if self._dim is None:
            model = self.load()
            if hasattr(model, "get_embedding_dimension"):
                dim = model.get_embedding_dimension()
            else:  # sentence-transformers < 5.2
                dim = model.get_sentence_embedding_dimension()
            if dim is None:
                dim = int(model.encode(["x"]).shape[1])
            self._dim = int(dim)
        return self._dim

    def load(self) -> Any:
        """Load the model now; servers call this at start so the first question is not slow."""
        if self._model is not None:
            return self._model
        local = self.is_local
        if local:
            # Never reach for the Hub when the model is on disk (it would only time out).
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            import torch
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise ModelError(f"cannot load {self.name}: {exc}; {_INSTALL_HINT}") from exc
        torch.set_num_threads(self.threads)
        try:
            model = SentenceTransformer(
                str(Path(self.model_path).expanduser()) if local else self.model_path,
                device=self.device,
                local_files_only=local,
                model_kwargs={"dtype": getattr(torch, self.dtype)},
            )
        except Exception as exc:  # OSError, ValueError, safetensors errors...
            hint = (
                "delete it and run `qa models fetch`"
                if local
                else "check the model id, or pass a local directory"
            )
            raise ModelError(
                f"cannot load embedding model {self.model_path}: {exc}; {hint}"
            ) from exc
        if self.max_seq_length is not None:
            model.max_seq_length = min(self.max_seq_length, model.max_seq_length or 10**9)
        model.eval()
        self._model = model
        return model

    @property
    def vector_space(self) -> str:
        """What makes two vectors comparable (see qa.vcache): weights, precision, device kind."""
        return f"{self.name}|{self.fingerprint}|{self.dtype}|torch"

    def _encode(self, kind: str, texts: Sequence[str], progress: bool) -> np.ndarray:
        model = self.load()
        method = getattr(model, f"encode_{kind}", None)
        if method is not None:

            def encode(batch: list[str]) -> Any:
                return method(batch, batch_size=len(batch), normalize_embeddings=True)

        else:  # older sentence-transformers: fall back to the named prompt if the model has one
            prompt_name = kind if kind in (getattr(model, "prompts", None) or {}) else None

            def encode(batch: list[str]) -> Any:
                return model.encode(
                    batch, batch_size=len(batch), prompt_name=prompt_name, normalize_embeddings=True
                )

        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = encode_length_sorted(
            encode, texts, self.batch_size, progress, f"embed {kind}", self.max_batch_chars
        )
        return _normalise(vectors)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Uses the model's query prompt (EmbeddingGemma: ``task: search result | query: ``)."""
        return self._encode("query", texts, progress=False)

    def embed_documents(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        """Uses the model's document prompt (EmbeddingGemma: ``title: none | text: ``)."""
        return self._encode("document", texts, progress)

    def __repr__(self) -> str:
        return (
            f"SentenceTransformerEmbedder({self.name!r}, dtype={self.dtype!r}, "
            f"batch_size={self.batch_size}, max_seq_length={self.max_seq_length}, "
            f"max_batch_chars={self.max_batch_chars})"
        )


@lru_cache(maxsize=65536)
def _gram_vector(gram: str, dim: int) -> np.ndarray:
    seed = int.from_bytes(hashlib.sha256(gram.encode("utf-8")).digest()[:8], "little")
    vec = np.random.default_rng(seed).standard_normal(dim).astype(np.float32)
    vec.setflags(write=False)
    return vec


class HashEmbedder:
    """Deterministic character-n-gram fake: fast, no model, same vectors on every machine.

    Texts sharing characters get similar vectors, which is enough to test retrieval plumbing.
    """

    def __init__(self, dim: int = 64) -> None:
        if dim < 1:
            raise ModelError(f"hash embedder dim={dim} must be at least 1")
        self.dim = dim
        self.name = f"hash-{dim}"

    @property
    def fingerprint(self) -> str:
        return self.name

    def _embed_one(self, text: str) -> np.ndarray:
        grams = list(text) + [text[i : i + 2] for i in range(len(text) - 1)]
        vec = np.zeros(self.dim, dtype=np.float32)
        for gram in grams:
            vec += _gram_vector(gram, self.dim)
        norm = float(np.linalg.norm(vec))
        if norm == 0.0:  # empty text: a fixed unit vector
            vec = _gram_vector("\0empty", self.dim).copy()
            norm = float(np.linalg.norm(vec))
        return vec / np.float32(norm)

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._embed_one(t) for t in texts]).astype(np.float32)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts)

    def embed_documents(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        return self._embed(texts)

    def __repr__(self) -> str:
        return f"HashEmbedder(dim={self.dim})"


_HASH_RE = re.compile(r"^hash(?:-(\d+))?$")


def get_embedder(name: str | None = None) -> Embedder:
    """Resolve a configured model name: arg, then ``$QA_EMBED_MODEL``, then the default."""
    name = (name or os.environ.get("QA_EMBED_MODEL") or DEFAULT_MODEL).strip()
    match = _HASH_RE.match(name)
    if match:
        return HashEmbedder(int(match.group(1)) if match.group(1) else 64)
    if name in KNOWN_MODELS:
        if not is_fetched(spec=KNOWN_MODELS[name]):
            raise ModelError(
                f"embedding model {name} is not in {model_dir(name=name)}; "
                "run `qa models fetch` (or `make setup`) first"
            )
        return SentenceTransformerEmbedder(str(model_dir(name=name)), name=name)
    return SentenceTransformerEmbedder(name)
