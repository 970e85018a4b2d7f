"""Which device, precision and backend embed fastest on the machine at hand, and why.

Measured (bench/embed_speed.py): on a CPU with native bfloat16 (avx512_bf16 or amx_bf16)
torch in bfloat16 is the fastest for documents (~1.6x float32); on an AVX2-only CPU the same
bfloat16 is 6x *slower* than float32, and ONNX Runtime in float32 beats torch float32 on
documents and answers a short query in about 40 ms instead of ~110 ms. So nothing is fixed:
the choice is made at run time from the CPU flags and from whether torch sees a GPU, and
every part can be overridden: QA_EMBED_DEVICE (auto|cpu|cuda), QA_EMBED_DTYPE
(auto|float32|bfloat16|float16), QA_EMBED_BACKEND (auto|torch|onnx|onnx-int8).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from qa.errors import ModelError
from qa.settings import settings

DEVICES = ("auto", "cpu", "cuda")
DTYPES = ("auto", "float32", "bfloat16", "float16")
BACKENDS = ("auto", "torch", "onnx", "onnx-int8")
NATIVE_BF16 = ("avx512_bf16", "amx_bf16")


@dataclass(frozen=True)
class Choice:
    device: str  # cpu | cuda
    dtype: str  # of the torch model: float32 | bfloat16 | float16
    backend: str  # for documents: torch | onnx | onnx-int8
    query_backend: str  # for questions (one short text: latency matters most)
    threads: int
    batch_size: int
    reasons: tuple[str, ...] = field(default=())

    @property
    def precision(self) -> str:
        """What the document vectors are computed in (ONNX exports are float32)."""
        if self.backend == "onnx-int8":
            return "int8"
        return "float32" if self.backend == "onnx" else self.dtype

    def describe(self) -> str:
        lines = [f"device {self.device}, documents: {self.backend} {self.precision}, "
                 f"questions: {self.query_backend}, {self.threads} threads, "
                 f"batches of {self.batch_size}"]
        return "\n".join(lines + [f"  - {r}" for r in self.reasons])


def cpu_flags(path: Path = Path("/proc/cpuinfo")) -> set[str]:
    """The CPU's feature flags (Linux); empty when unknown, which means: no bf16 assumed."""
    try:
        for line in path.read_text().splitlines():
            if line.startswith(("flags", "Features")):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def cuda_available() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def cuda_bf16() -> bool:
    import torch

    return bool(torch.cuda.is_bf16_supported())


def onnxruntime_available() -> bool:
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def _env(env: Mapping[str, str], key: str, allowed: tuple[str, ...]) -> str:
    value = (env.get(key) or "auto").strip().lower()
    if value not in allowed:
        raise ModelError(f"{key}={value!r} is not accepted; use one of {', '.join(allowed)}")
    return value


def choose(env: Mapping[str, str] | None = None, flags: set[str] | None = None,
           cuda: Callable[[], bool] = cuda_available,
           bf16_on_gpu: Callable[[], bool] = cuda_bf16,
           onnx: Callable[[], bool] = onnxruntime_available,
           threads: int | None = None) -> Choice:
    """The setting for this machine; the arguments exist so tests can fake a machine."""
    env = settings().env if env is None else env
    flags = cpu_flags() if flags is None else flags
    reasons: list[str] = []
    device = _env(env, "QA_EMBED_DEVICE", DEVICES)
    dtype = _env(env, "QA_EMBED_DTYPE", DTYPES)
    backend = _env(env, "QA_EMBED_BACKEND", BACKENDS)

    if device == "auto":
        device = "cuda" if cuda() else "cpu"
        reasons.append("torch sees a CUDA GPU" if device == "cuda" else "no CUDA GPU: CPU")
    else:
        reasons.append(f"device {device} from QA_EMBED_DEVICE")
        if device == "cuda" and not cuda():
            raise ModelError("QA_EMBED_DEVICE=cuda but torch sees no CUDA GPU; "
                             "unset it or use QA_EMBED_DEVICE=cpu")
    native = sorted(set(NATIVE_BF16) & flags)
    if dtype == "auto":
        if device == "cuda":
            dtype = "bfloat16" if bf16_on_gpu() else "float16"
            reasons.append(f"{dtype} on the GPU")
        elif native:
            dtype = "bfloat16"
            reasons.append(f"CPU has native bfloat16 ({', '.join(native)}): bfloat16")
        else:
            dtype = "float32"
            reasons.append("CPU has no native bfloat16 (no avx512_bf16/amx_bf16): float32 "
                           "(bfloat16 is emulated there, several times slower)")
    else:
        reasons.append(f"dtype {dtype} from QA_EMBED_DTYPE")

    have_onnx = device == "cpu" and onnx()
    if backend == "auto":
        if device == "cuda":
            backend = query = "torch"
        elif dtype == "bfloat16":
            backend = "torch"  # native bf16 beats ONNX Runtime float32 on documents
            query = "onnx" if have_onnx else "torch"
            reasons.append("documents in torch bfloat16; questions in ONNX Runtime float32 "
                           "(lower latency for one short text)" if have_onnx else
                           "documents and questions in torch (onnxruntime not installed)")
        elif dtype == "float32" and have_onnx:
            backend = query = "onnx"
            reasons.append("ONNX Runtime float32 for documents and questions (faster than "
                           "torch float32 on CPU, same vectors)")
        else:
            backend = query = "torch"
            reasons.append("torch (onnxruntime not installed)" if dtype == "float32"
                           else f"torch ({dtype} requested)")
    else:
        if backend.startswith("onnx") and device != "cpu":
            raise ModelError(f"QA_EMBED_BACKEND={backend} runs on the CPU only; "
                             "unset QA_EMBED_DEVICE or use QA_EMBED_BACKEND=torch")
        if backend.startswith("onnx") and not have_onnx:
            raise ModelError(f"QA_EMBED_BACKEND={backend} needs onnxruntime: "
                             "pip install 'onnxruntime>=1.20,<2' (or `make setup`)")
        query = backend
        reasons.append(f"backend {backend} from QA_EMBED_BACKEND")
    n = threads or cpu_count()
    batch = 64 if device == "cuda" else 8
    reasons.append(f"{n} threads (the CPUs this process may use); batches of {batch}, "
                   "length-sorted" + ("" if device == "cuda" else
                                      ", at most 2400 characters (long batches fall out of "
                                      "cache on CPU)"))
    return Choice(device, dtype, backend, query, n, batch, tuple(reasons))
