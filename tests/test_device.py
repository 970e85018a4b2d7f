"""The embedding setting chosen for a machine, with faked CPU flags and a faked GPU."""

from __future__ import annotations

import pytest

from qa.embed.device import choose, cpu_flags
from qa.errors import ModelError

AVX2 = {"fpu", "sse4_2", "avx", "avx2", "fma"}
AVX512_BF16 = AVX2 | {"avx512f", "avx512bw", "avx512_bf16"}
AMX = AVX2 | {"avx512f", "amx_tile", "amx_bf16"}


def machine(flags, cuda=False, gpu_bf16=True, onnx=True, env=None):
    return choose(env=env or {}, flags=flags, cuda=lambda: cuda,
                  bf16_on_gpu=lambda: gpu_bf16, onnx=lambda: onnx, threads=2)


def test_avx2_only_cpu_never_gets_bfloat16():
    c = machine(AVX2)
    assert (c.device, c.dtype, c.backend, c.query_backend) == ("cpu", "float32", "onnx", "onnx")
    assert c.precision == "float32"
    assert any("no native bfloat16" in r for r in c.reasons)


@pytest.mark.parametrize("flags", [AVX512_BF16, AMX])
def test_native_bf16_cpu_embeds_documents_in_bfloat16(flags):
    c = machine(flags)
    assert (c.dtype, c.backend, c.query_backend) == ("bfloat16", "torch", "onnx")


def test_without_onnxruntime_the_cpu_falls_back_to_torch():
    assert machine(AVX2, onnx=False).backend == "torch"
    assert machine(AVX512_BF16, onnx=False).query_backend == "torch"


def test_gpu_gets_the_model_and_half_precision():
    c = machine(AVX2, cuda=True)
    assert (c.device, c.dtype, c.backend, c.batch_size) == ("cuda", "bfloat16", "torch", 64)
    assert machine(AVX2, cuda=True, gpu_bf16=False).dtype == "float16"


def test_overrides_win_and_say_so():
    c = machine(AVX512_BF16, env={"QA_EMBED_DTYPE": "float32", "QA_EMBED_BACKEND": "torch"})
    assert (c.dtype, c.backend, c.query_backend) == ("float32", "torch", "torch")
    assert any("QA_EMBED_BACKEND" in r for r in c.reasons)
    assert machine(AVX2, cuda=True, env={"QA_EMBED_DEVICE": "cpu"}).device == "cpu"
    assert machine(AVX2, env={"QA_EMBED_BACKEND": "onnx-int8"}).precision == "int8"


@pytest.mark.parametrize("env,match", [
    ({"QA_EMBED_DTYPE": "fp8"}, "QA_EMBED_DTYPE='fp8'"),
    ({"QA_EMBED_DEVICE": "tpu"}, "QA_EMBED_DEVICE"),
    ({"QA_EMBED_DEVICE": "cuda"}, "sees no CUDA GPU"),
    ({"QA_EMBED_BACKEND": "onnx"}, "needs onnxruntime"),
])
def test_bad_overrides_are_clear_errors(env, match):
    with pytest.raises(ModelError, match=match):
        machine(AVX2, onnx=False, env=env)


def test_cpu_flags_are_read_from_cpuinfo(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512_bf16\n\n")
    assert cpu_flags(info) == {"fpu", "avx2", "avx512_bf16"}
    assert cpu_flags(tmp_path / "missing") == set()
