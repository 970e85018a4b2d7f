"""Text embedders: the real sentence-transformers model and a deterministic fake for tests.

torch and sentence-transformers are imported lazily so that `import qa.embed.embedders` stays
fast (the CLI, tests and the index code import it without ever encoding anything).
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from qa.embed.batcher import Batcher
from qa.embed.models import DEFAULT_MODEL, KNOWN_MODELS, is_fetched, model_dir, model_fingerprint
from qa.errors import ModelError
from qa.settings import settings

# Device, precision, backend, threads and batch size are chosen per machine (qa/embed/device.py).
# Small, length-sorted batches are fastest on CPU (batches of 32-64 long texts fall out of
# cache), and the char budget keeps long texts in small batches. Truncating to 512 tokens is
# faster on long texts but is left off to keep their tails.
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


class SentenceTransformerEmbedder:
    """A sentence-transformers model, loaded on first use (or via `load()` to warm up), run
    with torch or, on CPUs where that is faster, with its ONNX export (qa/embed/onnx_backend.py).
    Unset options are chosen for the machine (qa/embed/device.py)."""

    def __init__(
        self,
        model: str,
        dtype: str | None = None,
        batch_size: int | None = None,
        max_seq_length: int | None = DEFAULT_MAX_SEQ_LENGTH,
        max_batch_chars: int | None = DEFAULT_MAX_BATCH_CHARS,
        *,
        name: str | None = None,
        device: str | None = None,
        threads: int | None = None,
        backend: str | None = None,
    ) -> None:
        from qa.embed.device import choose

        if dtype is not None and dtype not in _DTYPES:
            raise ModelError(f"dtype={dtype!r} is not supported; use one of {', '.join(_DTYPES)}")
        if batch_size is not None and batch_size < 1:
            raise ModelError(f"batch_size={batch_size} must be at least 1")
        self.model_path = model
        self.name = name or model
        env = dict(settings().env)
        for key, value in (("QA_EMBED_DTYPE", dtype), ("QA_EMBED_DEVICE", device),
                           ("QA_EMBED_BACKEND", backend)):
            if value is not None:
                env[key] = value
        if not self.is_local and env.get("QA_EMBED_BACKEND", "auto") in ("auto", ""):
            env["QA_EMBED_BACKEND"] = "torch"  # an export needs the weights on disk
        self.choice = choose(env=env, threads=threads)
        self.dtype = self.choice.dtype
        self.device = self.choice.device
        self.backend = self.choice.backend
        self.query_backend = self.choice.query_backend
        self.batch_size = batch_size or self.choice.batch_size
        self.max_seq_length = max_seq_length
        self.max_batch_chars = max_batch_chars if self.device == "cpu" else None
        self.threads = self.choice.threads
        self._model: Any = None
        self._onnx: dict[str, Any] = {}
        # one encode at a time: a fast tokenizer shared across threads can fail with
        # "Already borrowed" (the page answers several users at once)
        self._lock = threading.Lock()
        self._dim: int | None = _KNOWN_DIMS.get(self.name)
        self._queries = Batcher(lambda texts: self._encode("query", texts, progress=False))

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
            model = self._torch_model()
            if hasattr(model, "get_embedding_dimension"):
                dim = model.get_embedding_dimension()
            else:  # sentence-transformers < 5.2
                dim = model.get_sentence_embedding_dimension()
            if dim is None:
                dim = int(model.encode(["x"]).shape[1])
            self._dim = int(dim)
        return self._dim

    def load(self) -> Any:
        """Load what answering questions needs now, so the first question is not slow."""
        if self.query_backend != "torch":
            return self._onnx_encoder(self.query_backend)
        return self._torch_model()

    def _torch_model(self) -> Any:
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
        """What a document vector depends on (qa.embed.vcache keys on it): weights, backend,
        precision."""
        return f"{self.name}|{self.fingerprint}|{self.choice.precision}|{self.backend}"

    @property
    def family(self) -> str:
        """Vectors of one family can share an index: float32, bfloat16 and float16 of the same
        weights agree to a cosine of 0.9999; int8 does not (about 0.97)."""
        return "int8" if self.backend == "onnx-int8" else "float"

    def _onnx_encoder(self, backend: str):
        if backend not in self._onnx:
            from qa.embed.onnx_backend import OnnxEncoder, ensure_exported

            path = Path(self.model_path).expanduser()
            folder = ensure_exported(path, self.fingerprint, int8=backend == "onnx-int8")
            self._onnx[backend] = OnnxEncoder(path, folder, self.threads)
        return self._onnx[backend]

    def prepare(self, progress: bool = True) -> None:
        """Make what the chosen backends need (the ONNX export) now, e.g. at `make setup`."""
        from qa.embed.onnx_backend import ensure_exported

        for backend in {self.backend, self.query_backend} - {"torch"}:
            ensure_exported(Path(self.model_path).expanduser(), self.fingerprint,
                            int8=backend == "onnx-int8", progress=progress)

    def _encode(self, kind: str, texts: Sequence[str], progress: bool) -> np.ndarray:
        backend = self.query_backend if kind == "query" else self.backend
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if backend != "torch":
            encoder = self._onnx_encoder(backend)
            vectors = encode_length_sorted(
                lambda batch: encoder.encode(batch, kind), texts, self.batch_size, progress,
                f"向量化 embed {kind}", self.max_batch_chars)
            return _normalise(vectors)
        model = self._torch_model()
        method = getattr(model, f"encode_{kind}", None)
        if method is not None:

            def encode(batch: list[str]) -> Any:
                return method(batch, batch_size=len(batch), normalize_embeddings=True,
                              show_progress_bar=False)  # our own bar counts the texts

        else:  # older sentence-transformers: fall back to the named prompt if the model has one
            prompt_name = kind if kind in (getattr(model, "prompts", None) or {}) else None

            def encode(batch: list[str]) -> Any:
                return model.encode(
                    batch, batch_size=len(batch), prompt_name=prompt_name,
                    normalize_embeddings=True, show_progress_bar=False,
                )

        def locked(batch: list[str]) -> Any:  # per batch: a question waits for one batch only
            with self._lock:
                return encode(batch)

        vectors = encode_length_sorted(
            locked, texts, self.batch_size, progress, f"向量化 embed {kind}", self.max_batch_chars
        )
        return _normalise(vectors)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Uses the model's query prompt (EmbeddingGemma: ``task: search result | query: ``).
        Questions asked at the same moment by several threads are embedded in one batch."""
        return self._queries(texts)

    def embed_documents(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        """Uses the model's document prompt (EmbeddingGemma: ``title: none | text: ``)."""
        return self._encode("document", texts, progress)

    def __repr__(self) -> str:
        return (
            f"SentenceTransformerEmbedder({self.name!r}, device={self.device!r}, "
            f"backend={self.backend!r}, query_backend={self.query_backend!r}, "
            f"dtype={self.dtype!r}, batch_size={self.batch_size}, "
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
    name = (name or settings().embed_model or DEFAULT_MODEL).strip()
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
