"""Shared helpers for the benchmarks: cached benchmark indexes and cached query embeddings.

Embedding is slow on CPU (1-3 passages/s), so every benchmark index is built once into
``$QA_HOME/bench-index/<name>-<corpus hash>-<model fingerprint>-<ingest code hash>``
(QA_HOME defaults to ~/.cache/qa) and reused; it is rebuilt only when that folder has no
manifest, so a change to the ingest code gets a fresh index (vectors come from the cache).
Query embeddings are cached next to it, keyed by the same model fingerprint, so reruns only
need numpy.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from qa.embed.models import qa_home  # noqa: E402


def cache_root() -> Path:
    path = qa_home() / "bench-index"
    path.mkdir(parents=True, exist_ok=True)
    return path


def source_hash(path: Path) -> str:
    """Hash of a corpus file, or of the files of a corpus folder (names and bytes, sorted)."""
    h = hashlib.sha256()
    if path.is_dir():
        for f in sorted(p for p in path.rglob("*") if p.is_file()):
            h.update(f.read_bytes())
    else:
        h.update(path.read_bytes())
    return h.hexdigest()[:12]


def model_tag(embedder) -> str:
    fp = embedder.fingerprint
    return re.sub(r"[^0-9A-Za-z]", "", fp.split(":")[-1])[:8] or "model"


# The code that turns a file into passages and tokens (every module of qa/ingest and
# qa/text): an index built by other versions of it is not reused (a stale index once hid a
# gold paragraph the current cleaning keeps).
INGEST_CODE = ("ingest", "text")


def ingest_code_hash() -> str:
    h = hashlib.sha256()
    for folder in INGEST_CODE:
        for f in sorted((ROOT / "qa" / folder).rglob("*.py")):
            h.update(f.relative_to(ROOT).as_posix().encode())
            h.update(f.read_bytes())
    return h.hexdigest()[:8]


def index_dir(name: str, source: Path, embedder) -> Path:
    return cache_root() / (f"{name}-{source_hash(source)}-{model_tag(embedder)}-"
                           f"{ingest_code_hash()}")


def ensure_index(name: str, source: Path, embedder, log=print) -> Path:
    """The cached index of `source`, built with `qa ingest` first if it is missing."""
    folder = index_dir(name, source, embedder)
    if (folder / "manifest.json").exists():
        return folder
    log(f"building the {name} index in {folder} (slow: 1-3 passages/s with the real model; "
        "better run it in the background with nohup)")
    t0 = time.perf_counter()
    subprocess.run([str(ROOT / ".venv" / "bin" / "qa"), "ingest", str(source), "--index",
                    str(folder), "-q"], check=True)
    n = json.loads((folder / "manifest.json").read_text("utf-8"))["passages"]
    dt = time.perf_counter() - t0
    log(f"built {name}: {n} passages in {dt:.0f}s ({n / dt:.2f} passages/s)")
    return folder


def cached_query_vectors(name: str, questions: list[str], embedder) -> np.ndarray:
    """Query embeddings (as search() computes them), cached per set and model by text."""
    from qa.text.normalize import normalize_query

    stem = cache_root() / "queries" / f"{name}-{model_tag(embedder)}"
    stem.parent.mkdir(parents=True, exist_ok=True)
    texts_file, vec_file = stem.with_suffix(".json"), stem.with_suffix(".npy")
    known: dict[str, int] = {}
    vectors = np.zeros((0, 0), dtype=np.float32)
    if texts_file.exists() and vec_file.exists():
        texts = json.loads(texts_file.read_text("utf-8"))
        vectors = np.load(vec_file)
        if len(texts) == len(vectors):
            known = {t: i for i, t in enumerate(texts)}
    queries = [normalize_query(q) for q in questions]
    missing = list(dict.fromkeys(q for q in queries if q not in known))
    for start in range(0, len(missing), 64):  # saved in chunks: a long run can be resumed
        chunk = missing[start:start + 64]
        new = embedder.embed_queries(chunk)
        texts = [*known, *chunk]
        vectors = new if not len(vectors) else np.concatenate([vectors, new])
        known = {t: i for i, t in enumerate(texts)}
        np.save(vec_file, vectors)
        texts_file.write_text(json.dumps(texts, ensure_ascii=False), "utf-8")
    return vectors[[known[q] for q in queries]]


EXT = Path("/work/shared/eval/external") if Path("/work/shared").exists() else \
    ROOT.parent / "shared" / "eval" / "external"


def dureader_mix() -> Path:
    """DuReader's 100 paragraphs with the CMRC and DRCD paragraphs as distractors, as one
    corpus file (written to the cache; its vectors mostly come from the vector cache)."""
    mix = cache_root() / "dureader-mix.jsonl"
    parts = ("dureader_demo_train", "cmrc2018_dev", "drcd_dev")
    text = "".join((EXT / f"{p}.corpus.jsonl").read_text("utf-8") for p in parts)
    if not mix.exists() or mix.read_text("utf-8") != text:
        mix.write_text(text, "utf-8")
    return mix


def machine_info() -> str:
    """One line for every benchmark table: CPU, the flags that decide embedding speed, cores,
    device (these machines differ between sessions, so numbers are only comparable with it)."""
    import os
    import platform

    model, flags = platform.processor() or platform.machine(), set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and model in ("", platform.machine()):
                model = line.split(":", 1)[1].strip()
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                break
    except OSError:
        pass
    wanted = ("avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile")
    shown = " ".join(f for f in wanted if f in flags) or "none of avx2/avx512/amx"
    device = "cpu"
    try:
        import torch

        device = "cuda" if torch.cuda.is_available() else "cpu"
    except ImportError:
        pass
    return (f"{model}; flags: {shown}; {os.cpu_count()} cores; device {device}; "
            f"Python {platform.python_version()}; {time.strftime('%Y-%m-%d')}")


def percentile(values: list[float], q: float) -> float:
    """The value at rank int(q * n) of the sorted values (nan for none)."""
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def report(text: str, out: str | None, title: str | None = None) -> None:
    """Print a benchmark's table and, with --out, write it (markdown) under that title."""
    print(text)
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text((f"# {title}\n\n" if title else "") + text + "\n", "utf-8")


def stored_passages(folder: Path) -> list:
    """The passages of a cached benchmark index, in either layout, without opening it as an
    index (which would check the configured embedding against the one it was built with)."""
    if (folder / "store.sqlite").exists():
        from qa.store.local import LocalStore

        store = LocalStore(folder, 0)
        store.open()
        try:
            return [p for _, p in store.all_passages()]
        finally:
            store.close()
    from qa.store.legacy import Collection

    return Collection(folder).passages
