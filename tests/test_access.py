"""Serving beyond loopback: login, read-only page, upload limits, the start-up warning."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time

import pytest

from qa.app.access import Access, auth_from, exposure_warning, parse_auth
from qa.errors import InputError
from tests.checks import free_port, serve_copy
from tests.test_ui import base_index  # noqa: F401  (a session fixture)


def test_auth_values_parse_and_bad_ones_name_the_entry_not_the_password():
    assert parse_auth("alice:s3cret") == (("alice", "s3cret"),)
    assert parse_auth(" alice:a:b , bob:x ") == (("alice", "a:b"), ("bob", "x"))
    assert parse_auth("") is None and parse_auth(None) is None
    for bad in ("pw-hidden", "alice:", ":pw-hidden", "alice:ok,pw-hidden"):
        with pytest.raises(InputError) as e:
            parse_auth(bad)
        assert "USER:PASSWORD" in str(e.value)
        assert "pw-hidden" not in str(e.value)
    assert auth_from(None, {"QA_AUTH": "u:p"}) == (("u", "p"),)
    assert auth_from("a:b", {"QA_AUTH": "u:p"}) == (("a", "b"),)


def test_access_repr_never_shows_passwords_and_limits_are_checked():
    text = repr(Access(auth=(("alice", "topsecret"),)))
    assert "alice" in text and "topsecret" not in text
    with pytest.raises(InputError, match="above 0"):
        Access(max_upload_mb=0)
    with pytest.raises(InputError, match="at least 1"):
        Access(max_files=0)


def test_exposed_without_login_warns():
    assert exposure_warning("127.0.0.1", Access()) is None
    assert exposure_warning("localhost", Access()) is None
    assert exposure_warning("::1", Access()) is None
    warning = exposure_warning("0.0.0.0", Access())
    assert warning and "--auth" in warning and "upload" in warning
    assert "upload" not in exposure_warning("192.168.1.5", Access(read_only=True))
    assert exposure_warning("0.0.0.0", Access(auth=(("a", "b"),))) is None


def test_upload_count_limit_takes_nothing(tmp_path):
    from qa.app.ui import check_upload

    paths = []
    for i in range(4):
        paths.append(tmp_path / f"d{i}.txt")
        paths[-1].write_text("测试县有蓝莓。", "utf-8")
    ok, msgs = check_upload(paths, max_mb=1, max_files=3)
    assert ok == [] and "最多导入 3 个文件" in msgs[0] and "4 个" in msgs[0]
    ok, msgs = check_upload(paths[:3], max_mb=1, max_files=3)
    assert len(ok) == 3 and not msgs


def _launch(base_index, tmp_path, **kwargs):  # noqa: F811
    from qa.embed.embedders import get_embedder

    return serve_copy(base_index, tmp_path / "idx", get_embedder("hash"), max_upload_mb=1,
                      **kwargs)


def test_login_is_required_when_set(base_index, tmp_path):  # noqa: F811
    import httpx
    from gradio_client import Client

    with _launch(base_index, tmp_path, auth=[("alice", "s3cret")]) as (_app, url):
        assert httpx.get(url + "config", timeout=10).status_code == 401
        with pytest.raises(Exception):  # noqa: B017 - gradio_client's own error types vary
            Client(url, verbose=False, auth=("alice", "wrong"))
        got = Client(url, verbose=False, auth=("alice", "s3cret")).predict(
            "卢氏模式是什么", api_name="/ask")
        assert got["found"] is True


def test_read_only_page_has_no_upload_or_delete(base_index, tmp_path):  # noqa: F811
    from gradio_client import Client

    with _launch(base_index, tmp_path, read_only=True) as (app, url):
        before = sorted(app.qa_engine.documents)
        client = Client(url, verbose=False)
        api = client.view_api(return_format="dict", print_info=False)
        names = set(api["named_endpoints"]) | set(api.get("unnamed_endpoints", {}))
        assert "/upload" not in names
        doc = tmp_path / "new.txt"
        doc.write_text("只读测试县\n只读测试县2023年种植了555亩茶叶。\n", "utf-8")
        with pytest.raises(Exception):  # noqa: B017
            client.predict([{"path": str(doc)}], api_name="/upload")
        assert sorted(app.qa_engine.documents) == before
        assert client.predict("卢氏模式是什么", api_name="/ask")["found"] is True


def test_serve_exposed_without_login_prints_the_warning(base_index, tmp_path):  # noqa: F811
    """`qa serve --host 0.0.0.0` on a real process: the warning comes before serving."""
    index = tmp_path / "idx"
    shutil.copytree(base_index, index)
    port = free_port()
    env = {**os.environ, "QA_EMBED_MODEL": "hash"}
    env.pop("QA_AUTH", None)
    proc = subprocess.Popen([sys.executable, "-m", "qa.app.cli", "serve", "--host", "0.0.0.0",
                             "--port", str(port), "--index", str(index), "--read-only"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=env)
    lines: list[str] = []

    def read():
        for line in proc.stdout:
            lines.append(line)

    threading.Thread(target=read, daemon=True).start()
    try:
        deadline = time.monotonic() + 120
        while not any(x.startswith("access:") for x in lines):
            assert proc.poll() is None, "".join(lines)
            assert time.monotonic() < deadline, "".join(lines)
            time.sleep(0.2)
        text = "".join(lines)
        assert "WARNING" in text and "without a login" in text and "--auth" in text
        assert text.index("WARNING") < text.index("\naccess:")
        assert "read_only=True" in text
    finally:
        proc.terminate()
        proc.wait(20)


def test_serve_refuses_a_malformed_login_with_exit_code_2(capsys):
    from qa.app.cli import main

    assert main(["serve", "--auth", "alice-no-colon-hidden"]) == 2
    err = capsys.readouterr().err
    assert "USER:PASSWORD" in err and "Traceback" not in err
