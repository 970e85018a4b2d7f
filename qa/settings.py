"""Every ``QA_*`` environment variable the product reads, in one place.

Modules ask `settings()` instead of reading ``os.environ`` themselves, so a newcomer finds
every knob here with its default and meaning, a bad value fails with the variable's name
wherever it is first needed, and nothing is read at import time (a test or the CLI may set
a variable after ``import qa``). `settings()` parses the environment once and reads it
again only when a ``QA_*`` value has changed.

The CLI's flags (--index, --store, --llm-url, --auth …) take precedence over these: they
are passed as arguments, never written back into the environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from qa.errors import InputError


def _number(env: Mapping[str, str], key: str, default: float, kind: type = int) -> float:
    """The variable as an int (or `kind`); its default when unset; an error naming it."""
    raw = (env.get(key) or "").strip()
    if not raw:
        return default
    try:
        return kind(raw)
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise InputError(f"{key}={raw!r} is not {what} (default {default})") from None


@dataclass(frozen=True)
class Settings:
    """The configuration from the environment: each field says its variable and default."""

    # where things live
    home: Path  # QA_HOME: models, vector cache, bench indexes (default ~/.cache/qa)
    index_dir: Path  # QA_INDEX_DIR: the index folder when --index is not given (./index)
    store: str  # QA_STORE: '' (local FAISS+SQLite) | milvus:PATH.db | milvus:http://HOST:PORT
    # the embedding model
    embed_model: str  # QA_EMBED_MODEL: '' = the default model
    model_wheels: str  # QA_MODEL_WHEELS: a folder of pre-downloaded model wheels
    vector_cache: bool  # QA_VECTOR_CACHE=0 turns the vector cache off
    sentence_vectors: str  # QA_SENTENCE_VECTORS: auto | always | lazy
    # the local FAISS store
    ivf_threshold: int  # QA_IVF_THRESHOLD: passages above which FAISS uses IVF, not Flat
    lexical_max_df: int  # QA_LEXICAL_MAX_DF: document frequency above which a term is not kept
    snapshot_min: int  # QA_SNAPSHOT_MIN: changes before the index is re-snapshotted
    lock_wait: float  # QA_LOCK_WAIT: seconds a writer waits for another writer's lock
    # Milvus
    milvus_token: str  # QA_MILVUS_TOKEN
    milvus_index: str  # QA_MILVUS_INDEX: a Milvus server's vector index type (AUTOINDEX)
    # the language model of generative answers
    llm_local: str  # QA_LLM_LOCAL: 1.5b | 0.5b, else chosen from the machine
    llm_model_wheels: str  # QA_LLM_MODEL_WHEELS: a folder holding the model's wheels
    auth: str  # QA_AUTH: user:password[,user2:password2] for qa serve
    # crash injection for the atomic-write tests (never set in use)
    crash_after: str  # QA_CRASH_AFTER
    crash_trace: str  # QA_CRASH_TRACE
    # the QA_* variables as read, for parsers that take a mapping (QA_EMBED_DEVICE/DTYPE/
    # BACKEND: qa.embed.device.choose; QA_LLM_URL/MODEL/API_KEY/TIMEOUT: LLMConfig.from_env)
    env: Mapping[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        def get(key: str, default: str = "") -> str:
            return (env.get(key) or default).strip()

        home = get("QA_HOME")
        return cls(
            home=Path(home).expanduser() if home else Path.home() / ".cache" / "qa",
            index_dir=Path(get("QA_INDEX_DIR", "index")),
            store=get("QA_STORE"),
            embed_model=get("QA_EMBED_MODEL"),
            model_wheels=get("QA_MODEL_WHEELS"),
            vector_cache=get("QA_VECTOR_CACHE", "1") != "0",
            sentence_vectors=get("QA_SENTENCE_VECTORS", "auto"),
            ivf_threshold=int(_number(env, "QA_IVF_THRESHOLD", 200_000)),
            lexical_max_df=int(_number(env, "QA_LEXICAL_MAX_DF", 5000)),
            snapshot_min=int(_number(env, "QA_SNAPSHOT_MIN", 1000)),
            lock_wait=_number(env, "QA_LOCK_WAIT", 600.0, float),
            milvus_token=get("QA_MILVUS_TOKEN"),
            milvus_index=get("QA_MILVUS_INDEX", "AUTOINDEX"),
            llm_local=get("QA_LLM_LOCAL"),
            llm_model_wheels=get("QA_LLM_MODEL_WHEELS"),
            auth=get("QA_AUTH"),
            crash_after=get("QA_CRASH_AFTER"),
            crash_trace=get("QA_CRASH_TRACE"),
            env={k: v for k, v in env.items() if k.startswith("QA_")},
        )


_cached: tuple[tuple, Settings] | None = None


def settings() -> Settings:
    """The settings of the current environment, parsed again only when a QA_* variable
    changed since the last call."""
    global _cached
    key = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("QA_")))
    if _cached is None or _cached[0] != key:
        _cached = (key, Settings.from_env(os.environ))
    return _cached[1]
