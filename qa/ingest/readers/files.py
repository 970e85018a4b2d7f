"""Which files the user's paths name: folders walked in sorted order, hidden files and the
catalog left out, every file that cannot be read reported rather than dropped."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from qa.errors import ReadError
from qa.ingest.readers.catalog import CATALOG_NAME

SUPPORTED = (".txt", ".md", ".html", ".htm", ".pdf", ".docx", ".jsonl")


def unsupported(suffix: str) -> str:
    """The message for a file type no reader takes, listing the ones that are taken."""
    shown = f"'{suffix}'" if suffix else "(no extension)"
    return f"unsupported file type {shown}; accepted: {', '.join(SUPPORTED)}"


def _is_hidden(path: Path) -> bool:
    return path.name.startswith(".")


def _walk(folder: Path, seen_dirs: set[Path]) -> Iterator[Path]:
    """Depth-first in sorted order; symlinked folders are followed once to avoid loops."""
    real = folder.resolve()
    if real in seen_dirs:
        return
    seen_dirs.add(real)
    for child in sorted(folder.iterdir(), key=lambda p: p.name):
        if _is_hidden(child) or child.name == CATALOG_NAME:
            continue
        if child.is_dir():
            yield from _walk(child, seen_dirs)
        else:
            yield child


def collect_files(paths: Iterable[str | Path]) -> tuple[list[Path], list[ReadError]]:
    """Expand the user's paths into readable files, reporting every problem instead of dropping it.

    Files named explicitly are taken as given; folders contribute their supported files
    (hidden files and catalog.toml are metadata, not documents). Other files found in a
    folder are reported, so a user is told why e.g. a `.doc` was not indexed.
    """
    files: list[Path] = []
    errors: list[ReadError] = []
    seen: set[Path] = set()

    def add(path: Path) -> None:
        key = path.resolve()
        if key not in seen:
            seen.add(key)
            files.append(path)

    for raw in paths:
        path = Path(raw)
        try:
            path.stat()  # is_dir/is_file raise, rather than say False, for e.g. a too-long name
        except FileNotFoundError:
            pass
        except OSError as exc:
            errors.append(ReadError(path, f"cannot access ({exc.strerror or exc})"))
            continue
        if path.is_dir():
            try:
                for child in _walk(path, set()):
                    if child.suffix.lower() in SUPPORTED:
                        add(child)
                    else:
                        errors.append(ReadError(child, unsupported(child.suffix.lower())))
            except OSError as exc:
                errors.append(ReadError(path, f"cannot list folder ({exc.strerror or exc})"))
        elif path.is_file():
            if path.suffix.lower() in SUPPORTED:
                add(path)
            else:
                errors.append(ReadError(path, unsupported(path.suffix.lower())))
        elif path.exists():
            errors.append(ReadError(path, "not a regular file or folder"))
        else:
            errors.append(ReadError(path, "no such file or folder"))
    return files, errors
