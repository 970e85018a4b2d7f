"""Crash safety and one writer at a time, with real processes.

An ingest is killed (SIGKILL, as `kill -9`) at 20 points spread over its whole write path:
between passage inserts, before and after the commit, while the FAISS snapshot and the
manifest are written. After each kill the index must load, answer, and hold exactly the old
or exactly the new documents, and no temporary file may survive the next write.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from qa.answer.answerer import Answerer
from qa.embed.embedders import HashEmbedder
from qa.retrieve.search import search
from qa.store.index import open_index
from tests.checks import read_passages
from tests.paths import CORPUS, REPO

OLD = ["001_b251bfdd5ef11c19.txt", "004_02c3d19073bbefd4.txt"]
NEW = ["000_7e6e3292d6c6a094.txt", "002_7466b54d2739728f.txt", "003_7be028efea89ec43.txt"]


def qa_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "qa.app.cli", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)


def base_env(tmp_path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_CRASH")}
    env.update(QA_EMBED_MODEL="hash", QA_HOME=str(tmp_path / "home"), QA_SNAPSHOT_MIN="1")
    return env


def state(index) -> set[str]:
    return {r["doc_id"] for r in read_passages(index)}


@pytest.fixture(scope="module")
def trial(tmp_path_factory):
    """The old index, the folder of new documents, and the write path's number of crash
    points (counted on one uninterrupted run)."""
    root = tmp_path_factory.mktemp("crash")
    old, new = root / "old", root / "new"
    old.mkdir()
    new.mkdir()
    for name in OLD:
        (old / name).write_bytes((CORPUS / name).read_bytes())
    for name in NEW:
        (new / name).write_bytes((CORPUS / name).read_bytes())
    env = base_env(root)
    assert qa_cli("ingest", str(old), "--index", str(root / "template"), "-q", env=env
                  ).returncode == 0
    counted = root / "counted"
    subprocess.run(["cp", "-r", str(root / "template"), str(counted)], check=True)
    trace = root / "trace"
    done = qa_cli("ingest", str(new), "--index", str(counted), "-q",
                  env={**env, "QA_CRASH_TRACE": str(trace)})
    assert done.returncode == 0, done.stderr
    return root, int(trace.read_text()), env


def test_twenty_kills_leave_the_old_or_the_new_state(trial, tmp_path):
    root, points, env = trial
    assert points >= 20, points
    old_docs = {n.removesuffix(".txt") for n in OLD}
    new_docs = old_docs | {n.removesuffix(".txt") for n in NEW}
    outcomes = []
    for n in sorted({round(1 + i * (points - 1) / 19) for i in range(20)}):
        index = tmp_path / f"idx{n}"
        subprocess.run(["cp", "-r", str(root / "template"), str(index)], check=True)
        killed = qa_cli("ingest", str(root / "new"), "--index", str(index), "-q",
                        env={**env, "QA_CRASH_AFTER": str(n)})
        assert killed.returncode == -9, (n, killed.returncode, killed.stderr[-500:])
        docs = state(index)
        assert docs in (old_docs, new_docs), (n, docs)
        outcomes.append(docs == new_docs)
        idx = open_index(index, HashEmbedder())  # loads: snapshot + journal, or a rebuild
        assert len(idx) == len(read_passages(index)) == idx.store.faiss.ntotal
        hits = search(idx, "共青城的一个托底五个全覆盖", 3)
        assert hits and hits[0].passage.doc_id == "004_02c3d19073bbefd4"
        assert Answerer(idx).ask("共青城的一个托底五个全覆盖是什么").found
        idx.store.close()
        # the next write completes the change and leaves no debris behind
        again = qa_cli("ingest", str(root / "new"), "--index", str(index), "-q", env=env)
        assert again.returncode == 0, again.stderr
        assert state(index) == new_docs
        assert not [p.name for p in index.iterdir() if p.name.endswith(".tmp")]
    assert len(outcomes) >= 20
    assert any(outcomes) and not all(outcomes)  # kills landed before and after the commit


def test_two_concurrent_writers_never_lose_a_document(tmp_path):
    env = base_env(tmp_path)
    index = tmp_path / "idx"
    folders = []
    for i, name in enumerate(OLD + NEW):
        folder = tmp_path / f"src{i}"
        folder.mkdir()
        (folder / name).write_bytes((CORPUS / name).read_bytes())
        folders.append(folder)
    results = {}

    def run(folder):
        results[folder.name] = qa_cli("ingest", str(folder), "--index", str(index), "-q",
                                      env=env)

    threads = [threading.Thread(target=run, args=(f,)) for f in folders]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r.returncode == 0 for r in results.values()), \
        [r.stderr[-300:] for r in results.values() if r.returncode]
    assert state(index) == {n.removesuffix(".txt") for n in OLD + NEW}


def test_a_second_writer_that_cannot_wait_fails_clearly(tmp_path):
    from qa.errors import QAError
    from qa.store.local import WriteLock

    (tmp_path / "idx").mkdir()
    with WriteLock(tmp_path / "idx"), pytest.raises(QAError, match="another process is writing"), \
            WriteLock(tmp_path / "idx", wait=0.3):
        pass


def test_a_reader_sees_a_write_from_another_process_without_reopening(tmp_path):
    env = base_env(tmp_path)
    index = tmp_path / "idx"
    first = tmp_path / "a"
    first.mkdir()
    (first / OLD[0]).write_bytes((CORPUS / OLD[0]).read_bytes())
    assert qa_cli("ingest", str(first), "--index", str(index), "-q", env=env).returncode == 0
    reader = open_index(index, HashEmbedder())
    assert {h.passage.doc_id for h in search(reader, "共青城的一个托底五个全覆盖", 5)} == \
        {"001_b251bfdd5ef11c19"}
    second = tmp_path / "b"
    second.mkdir()
    (second / OLD[1]).write_bytes((CORPUS / OLD[1]).read_bytes())
    assert qa_cli("ingest", str(second), "--index", str(index), "-q", env=env).returncode == 0
    assert reader.refresh()
    hits = search(reader, "共青城的一个托底五个全覆盖", 3)
    assert hits[0].passage.doc_id == "004_02c3d19073bbefd4"
    manifest = json.loads((index / "manifest.json").read_text("utf-8"))
    assert manifest["documents"] == 2


def _open_new_store(path: str) -> str:
    from qa.store.local import _connect

    try:
        db = _connect(Path(path))
        db.execute("CREATE TABLE IF NOT EXISTS t (x)")
        db.close()
        return "ok"
    except Exception as e:  # reported, not raised: the parent counts the failures
        return repr(e)


def test_processes_opening_a_new_index_together_all_succeed(tmp_path):
    """Two `qa ingest` started together both switch the new SQLite file to WAL; SQLite
    answers 'database is locked' without waiting there (it failed 6 of 800 openings before
    the switch was retried)."""
    import multiprocessing as mp

    ctx = mp.get_context("fork")
    with ctx.Pool(4) as pool:
        for i in range(40):
            path = str(tmp_path / f"db{i}" / "store.sqlite")
            Path(path).parent.mkdir()
            assert pool.map(_open_new_store, [path] * 4) == ["ok"] * 4
