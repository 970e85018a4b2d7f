"""Catalog metadata: a catalog.toml beside the files names each file's title, source, date
and format, and any other fields (kept in `Document.meta`)."""

from __future__ import annotations

import copy
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

from qa.errors import ReadError
from qa.ingest.documents import Document

CATALOG_NAME = "catalog.toml"
FORMATS = ("web", "pdf", "docx", "text", "markdown")
# Catalog/record keys that map onto Document fields rather than `meta`.
FIELD_KEYS = ("title", "source", "date", "format")


@lru_cache(maxsize=64)
def _load_catalog_cached(path: str, mtime_ns: int, size: int) -> dict[str, dict[str, Any]]:
    del mtime_ns, size  # only part of the cache key, so an edited catalog is re-read
    catalog_path = Path(path)
    try:
        with catalog_path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ReadError(catalog_path, f"malformed catalog: {exc}") from exc
    except OSError as exc:
        raise ReadError(catalog_path, f"cannot read catalog ({exc.strerror or exc})") from exc
    for name, entry in data.items():
        if not isinstance(entry, dict):
            raise ReadError(
                catalog_path, f"malformed catalog: entry '{name}' must be a table of metadata"
            )
        fmt = entry.get("format")
        if fmt is not None and fmt not in FORMATS:
            raise ReadError(
                catalog_path,
                f"malformed catalog: entry '{name}' has format {fmt!r}; "
                f"expected one of {', '.join(FORMATS)}",
            )
    return data


def catalog_entry(path: Path) -> dict[str, Any]:
    """Metadata for `path` from a catalog.toml beside it (empty if there is none)."""
    catalog_path = path.parent / CATALOG_NAME
    try:
        stat = catalog_path.stat()
    except OSError:
        return {}
    catalog = _load_catalog_cached(str(catalog_path), stat.st_mtime_ns, stat.st_size)
    # Deep copy: documents must not share (and mutate) the cached catalog's lists/tables.
    return copy.deepcopy(catalog.get(path.name, {}))


def as_text(value: Any) -> str:
    """TOML dates arrive as date objects; Document fields are ISO strings."""
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def apply_metadata(doc: Document, entry: dict[str, Any], *, overwrite: bool) -> None:
    """Put a catalog entry on `doc`: its fields over what the reader found (`overwrite`), or
    only where the reader found nothing (the defaults a catalog gives a .jsonl's records)."""
    for key, value in entry.items():
        if key in FIELD_KEYS:
            if overwrite or not getattr(doc, key):
                setattr(doc, key, as_text(value))
        elif overwrite or key not in doc.meta:
            doc.meta[key] = value
