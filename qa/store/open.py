"""The configured store for an index folder: QA_STORE (or an explicit spec) picks the local
store (default) or Milvus. Kept apart from the protocol so that the stores import the
protocol and this module imports the stores, never the other way round."""

from __future__ import annotations

from pathlib import Path

from qa.errors import InputError
from qa.settings import settings
from qa.store.protocol import Store


def store_spec(spec: str | None = None) -> str:
    """`spec` (--store) when given, else QA_STORE (qa.settings)."""
    return (spec if spec is not None else settings().store).strip()


def open_store(folder: Path, dim: int, create: bool, spec: str | None = None) -> Store:
    """The configured store for the index folder `folder` (which always keeps the manifest)."""
    spec = store_spec(spec)
    if spec in ("", "local"):
        from qa.store.local import LocalStore

        return LocalStore(folder, dim, create=create)
    if spec.startswith("milvus:"):
        from qa.store.milvus import MilvusStore

        return MilvusStore(spec[len("milvus:"):], folder, dim, create=create)
    raise InputError(f"QA_STORE={spec!r} is not understood; use 'local' (the default) or "
                     "'milvus:PATH.db' (Milvus Lite) or 'milvus:http://HOST:19530'")


def has_store(folder: Path, spec: str | None = None) -> bool:
    spec = store_spec(spec)
    if spec in ("", "local"):
        from qa.store.local import DB

        return (folder / DB).exists()
    return (folder / "manifest.json").exists()
