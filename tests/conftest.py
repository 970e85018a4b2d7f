"""Shared fixtures: the fake embedder and a private index folder for every test."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

from tests.paths import CORPUS

# Property tests draw the same examples on every run and machine (derandomize: the seed is
# derived from each test's name), and no example database carries failures between runs, so
# `make test` on a fresh clone sees what CI sees. HYPOTHESIS_PROFILE=explore draws at random.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile("explore", derandomize=False, print_blob=True)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
settings.load_profile(PROFILE)


def pytest_sessionfinish(session, exitstatus) -> None:
    """With QA_REQUIRE_ALL=1 (`make test`, CI) a skipped test fails the run: a browser, font
    or data file missing on the machine must not pass for green."""
    if os.environ.get("QA_REQUIRE_ALL") != "1" or exitstatus != 0:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped:
        reporter.write_line(f"QA_REQUIRE_ALL: {len(skipped)} test(s) skipped; every test must "
                            "run here (see .ci/system-deps)", red=True)
        session.exitstatus = 1


def pytest_report_header(config) -> str:
    return (f"hypothesis profile: {PROFILE} (derandomize={settings.default.derandomize}; "
            "the seed is fixed per test name)")


@pytest.fixture(autouse=True)
def _isolated(tmp_path_factory, monkeypatch):
    """No test writes into the working tree or depends on the user's configuration."""
    monkeypatch.setenv("QA_INDEX_DIR", str(tmp_path_factory.mktemp("index")))
    monkeypatch.setenv("QA_EMBED_MODEL", "hash")
    for name in ("QA_LLM_URL", "QA_LLM_MODEL", "QA_LLM_API_KEY", "QA_LLM_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)  # no test talks to the user's model


@pytest.fixture(scope="session")
def seed_docs():
    from qa.ingest.readers import collect_files, read_file

    files, errors = collect_files([CORPUS])
    assert not errors
    return [doc for f in files for doc in read_file(f)]


@pytest.fixture(scope="session")
def seed_processed(seed_docs):
    from qa.ingest.corpus import process

    return {doc.doc_id: process(doc) for doc in seed_docs}


@pytest.fixture
def fake_fetched_model():
    """A stub default-model folder marked as verified, in the test's QA_HOME."""
    from qa.embed import models
    spec = models.DEFAULT_SPEC
    dest = models.model_dir()
    for rel in spec.file_sha256:
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        (dest / rel).write_bytes(b"stub")
    models._write_verified(dest, spec)
    return dest


@pytest.fixture(scope="module")
def index_path(tmp_path_factory):
    """The default corpus indexed with the fake embedder (one per test module)."""
    from qa.embed.embedders import HashEmbedder
    from qa.ingest.pipeline import ingest
    from tests.paths import CORPUS

    path = tmp_path_factory.mktemp("seed") / "idx"
    ingest([CORPUS], path, embedder=HashEmbedder(), progress=False)
    return path


@pytest.fixture(scope="module")
def answerer(index_path):
    from qa.answer.answerer import Answerer
    from qa.embed.embedders import HashEmbedder
    from qa.store.index import open_index

    return Answerer(open_index(index_path, HashEmbedder()))
