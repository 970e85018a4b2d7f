"""The QA_* variables (qa.settings): read where they are needed, never at import, and a bad
value names the variable and its default."""

from __future__ import annotations

import os

import pytest

from qa.errors import InputError
from qa.settings import Settings, settings


def test_defaults_without_any_variable(monkeypatch):
    for key in [k for k in os.environ if k.startswith("QA_")]:
        monkeypatch.delenv(key)
    s = settings()
    assert s.store == "" and s.ivf_threshold == 200_000 and s.lock_wait == 600.0
    assert s.index_dir.as_posix() == "index" and s.vector_cache is True


def test_a_changed_variable_is_seen_by_the_next_call(monkeypatch):
    monkeypatch.setenv("QA_STORE", "milvus:/tmp/a.db")
    assert settings().store == "milvus:/tmp/a.db"
    monkeypatch.setenv("QA_STORE", "local")
    assert settings().store == "local"


def test_a_bad_number_names_the_variable_and_its_default():
    with pytest.raises(InputError, match=r"QA_IVF_THRESHOLD='many'.*200000"):
        Settings.from_env({"QA_IVF_THRESHOLD": "many"})
    with pytest.raises(InputError, match=r"QA_LOCK_WAIT='soon'"):
        Settings.from_env({"QA_LOCK_WAIT": "soon"})


def test_the_store_flag_is_not_written_into_the_environment(tmp_path, monkeypatch, capsys):
    """`qa … --store X` passes X to whatever opens the index; a later call in the same
    process (a test, an embedding program) does not inherit it."""
    from qa.app.cli import main

    monkeypatch.delenv("QA_STORE", raising=False)
    monkeypatch.setenv("QA_EMBED_MODEL", "hash")
    monkeypatch.setenv("QA_HOME", str(tmp_path / "home"))
    doc = tmp_path / "a.txt"
    doc.write_text("靖宇县2016年实现1579户3182人脱贫。", encoding="utf-8")
    code = main(["ingest", str(doc), "--index", str(tmp_path / "idx"), "--store",
                 "nosuch:thing", "--quiet"])
    assert code != 0
    assert "nosuch:thing" in capsys.readouterr().err  # the flag reached the store
    assert "QA_STORE" not in os.environ
