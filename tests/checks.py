"""Assertions shared by several test files."""

from __future__ import annotations

import contextlib
import shutil
import socket
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

from qa.ingest.clean import Cleaned
from qa.text.normalize import narrow


def assert_offsets_exact(raw: str, c: Cleaned) -> None:
    """Every cleaned character maps back to its raw character, in order, and nothing but
    whitespace and what cleaning reports as removed is dropped."""
    assert len(c.offsets) == len(c.text)
    assert c.offsets == sorted(c.offsets)
    for ch, off in zip(c.text, c.offsets, strict=True):
        if not ch.isspace():
            assert narrow(raw[off]) == ch
    kept = set(c.offsets)
    removed = {i for s, e, _ in c.removed for i in range(s, e)}
    for i, ch in enumerate(raw):
        assert i in kept or ch.isspace() or i in removed, (i, ch)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve_copy(seed_index: Path, index: Path, embedder: Any, auth: Any = None,
               **build: Any) -> Iterator[tuple[Any, str]]:
    """The page built on a copy of `seed_index` at `index` (nothing served ever writes to the
    seed), launched on a free loopback port until the block ends; yields (app, url).
    `build`: more build_app options (max_upload_mb, read_only, llm...)."""
    from qa.app.ui import CSS, build_app

    shutil.copytree(seed_index, index)
    app = build_app(index, embedder=embedder, **build)
    port = free_port()
    app.queue().launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True,
                       quiet=True, css=CSS, auth=auth)
    try:
        yield app, f"http://127.0.0.1:{port}/"
    finally:
        app.close()


def read_passages(index_dir) -> list[dict]:
    """The passages as stored in an index folder, read straight from its SQLite file (not
    through the code under test), in the order they were added."""
    import json
    import sqlite3
    from pathlib import Path

    db = sqlite3.connect(f"file:{Path(index_dir) / 'store.sqlite'}?mode=ro", uri=True)
    try:
        return [json.loads(d) for (d,) in db.execute("SELECT data FROM passages ORDER BY pid")]
    finally:
        db.close()


def fail_after_first_add(monkeypatch, writer_class) -> list[str]:
    """Make a store's Writer.add write the first document's rows and then fail like a full
    disk; returns the ids of the documents it wrote before failing."""
    added: list[str] = []
    original = writer_class.add

    def boom(self, record, passages, *more):
        original(self, record, passages, *more)
        added.append(record.doc_id)
        raise OSError("disk full")

    monkeypatch.setattr(writer_class, "add", boom)
    return added


# ---------------------------------------------------------------- a scripted chat server
def sse(*chunks: str) -> bytes:
    """An OpenAI-style streamed reply whose deltas are `chunks`."""
    import json

    lines = [f"data: {json.dumps({'choices': [{'delta': {'content': c}}]})}\n\n"
             for c in chunks]
    return ("".join(lines) + "data: [DONE]\n\n").encode()


class FakeLLMHandler(BaseHTTPRequestHandler):
    """An OpenAI-compatible /chat/completions that replies as the test's `script` says:
    {"reply": (status, content type, body)} or {"mode": "sleep" | "trickle" | "echo"}.
    Every request is recorded in `seen`."""

    script: ClassVar[dict] = {}
    seen: ClassVar[list] = []

    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:
        import json
        import time

        length = int(self.headers.get("Content-Length", 0))
        body = json.loads(self.rfile.read(length) or b"{}")
        self.seen.append({"path": self.path, "auth": self.headers.get("Authorization"),
                          "body": body})
        mode = self.script.get("mode", "stream")
        if mode == "sleep":
            time.sleep(self.script["delay"])
        if mode == "trickle":  # keep-alive comments, never any content
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            try:
                for _ in range(100):
                    self.wfile.write(b": ping\n\n")
                    self.wfile.flush()
                    time.sleep(0.05)
            except OSError:
                pass
            return
        if mode == "echo":  # a careless server that puts the credentials in its error
            payload = json.dumps({"error": {"message": f"bad key {self.headers['Authorization']}"}})
            self._reply(401, "application/json", payload.encode())
            return
        status, kind, data = self.script.get("reply", (200, "text/event-stream", sse("好")))
        self._reply(status, kind, data)

    def _reply(self, status: int, kind: str, data: bytes) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            pass  # the client gave up (timeout test)


@contextlib.contextmanager
def fake_llm_server() -> Iterator[tuple[str, type[FakeLLMHandler]]]:
    """A scripted server on a free loopback port: yields (base URL ending in /v1, handler
    class whose `script` the test sets and whose `seen` lists the requests)."""
    import threading

    class Scripted(FakeLLMHandler):
        script: ClassVar[dict] = {}
        seen: ClassVar[list] = []

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Scripted)
    httpd.daemon_threads = True
    httpd.block_on_close = False
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/v1", Scripted
    finally:
        httpd.shutdown()
        httpd.server_close()
