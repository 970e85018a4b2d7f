"""The web UI through its real HTTP API (gradio_client), plus its HTML rendering.

Every test gets its own copy of an index built once from the seed corpus with the fake
embedder, and its own server on a free loopback port, so tests may run in any order.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from gradio_client.exceptions import AppError

from tests.checks import serve_copy
from tests.paths import CORPUS

BLUEBERRY = ("测试县蓝莓产业\n"
             "测试县位于虚构的山区，过去以种植玉米为主。\n"
             "测试县2023年种植了777亩蓝莓。\n"
             "蓝莓产业由合作社统一管理，带动了当地农户增收。\n"
             "县里还建设了冷库和分拣中心，方便蓝莓外销。\n")
EVIL = ("恶意文档测试\n"
        "这份恶意文档写着<script>alert(1)</script>和<img src=x onerror=alert(1)>两段代码。\n"
        "恶意文档的作者是张三丰，他在2023年写下了这些内容。\n")


@pytest.fixture(scope="session")
def base_index(tmp_path_factory) -> Path:
    from qa.embed.embedders import get_embedder
    from qa.ingest.pipeline import ingest

    path = tmp_path_factory.mktemp("ui") / "idx"
    report = ingest([CORPUS], path, embedder=get_embedder("hash"), progress=False)
    assert report.documents and not report.failures
    return path


@pytest.fixture
def server(base_index, tmp_path):
    """A running app on its own index copy; yields (app, url)."""
    from qa.embed.embedders import get_embedder

    with serve_copy(base_index, tmp_path / "idx", get_embedder("hash"),
                    max_upload_mb=1) as served:
        yield served


@pytest.fixture
def client(server):
    from gradio_client import Client

    return Client(server[1], verbose=False)


def _check_quotes(answer: dict) -> None:
    for c in answer["citations"]:
        assert c["quote"] in c["text"]
        assert c["text"][c["start"]:c["end"]] == c["quote"]


# ---------------------------------------------------------------------------- API
def test_ask_endpoint_returns_the_cli_json(client, server):
    from qa.answer.answerer import Answerer

    got = client.predict("卢氏模式是什么", api_name="/ask")
    assert got["found"] is True
    assert got["citations"]
    _check_quotes(got)
    assert "[1]" in got["answer"]
    # exactly what `qa ask --json` prints: Answer.to_dict() on the same index
    want = Answerer(server[0].qa_engine.index).ask("卢氏模式是什么").to_dict()
    assert got == want


def test_ask_endpoint_not_found_still_lists_passages(client):
    got = client.predict("北京市海淀区的扶贫政策是什么", api_name="/ask")
    assert got["found"] is False
    assert got["citations"] == []
    assert got["passages"]
    assert "资料中没有找到" in got["answer"]


def test_ask_endpoint_options_and_errors(client):
    got = client.predict("卢氏模式是什么", 3, "bm25", api_name="/ask")
    assert got["found"] is True
    assert len(got["passages"]) <= 8
    with pytest.raises(AppError, match=r"empty|问题"):
        client.predict("   ", api_name="/ask")


def test_only_ask_is_documented(client):
    api = client.view_api(print_info=False, return_format="dict")
    assert list(api["named_endpoints"]) == ["/ask"]
    assert not api["unnamed_endpoints"]


def test_upload_then_ask_finds_the_new_document(client, server, tmp_path):
    from gradio_client import handle_file

    doc = tmp_path / "blueberry.txt"
    doc.write_text(BLUEBERRY, encoding="utf-8")
    before = client.predict("测试县2023年种植了多少亩蓝莓", api_name="/ask")
    assert not any("777" in c["quote"] for c in before["citations"])

    status, table, _pick, _files = client.predict([handle_file(str(doc))],
                                                  api_name="/upload")
    assert "blueberry" in status and "✓" in status
    assert any("blueberry" in str(row) for row in table["data"])

    got = client.predict("测试县2023年种植了多少亩蓝莓", api_name="/ask")
    assert got["found"] is True
    assert any(c["doc_id"].startswith("blueberry") and "777" in c["quote"]
               for c in got["citations"])
    _check_quotes(got)


def test_upload_rejects_unsupported_and_oversize_files(client, server, tmp_path):
    from gradio_client import handle_file

    exe = tmp_path / "virus.exe"
    exe.write_bytes(b"MZ\x90\x00")
    big = tmp_path / "big.txt"  # the fixture's limit is 1 MB
    big.write_text("大文件。" * 200_000, encoding="utf-8")
    n_docs = len(server[0].qa_engine.documents)
    status, *_ = client.predict([handle_file(str(exe)), handle_file(str(big))],
                                api_name="/upload")
    assert "virus.exe" in status and "不支持" in status
    assert "big.txt" in status and "过大" in status
    assert len(server[0].qa_engine.documents) == n_docs


def test_remove_takes_effect_at_once(server):
    engine = server[0].qa_engine
    first = engine.ask("卢氏模式是什么")
    doc_id = first.citations[0].doc_id
    engine.remove(doc_id)
    assert doc_id not in engine.documents
    after = engine.ask("卢氏模式是什么")
    assert all(c.doc_id != doc_id for c in after.citations)


# ---------------------------------------------------------------------------- HTML
def test_document_html_is_escaped_in_the_panel(server, tmp_path):
    from qa.app.ui import render_answer, render_passage

    engine = server[0].qa_engine
    doc = tmp_path / "evil.txt"
    doc.write_text(EVIL, encoding="utf-8")
    report = engine.ingest([doc])
    assert not report.failures
    ans = engine.ask("恶意文档的作者是谁").to_dict()
    assert ans["found"], ans
    cited = [c for c in ans["citations"] if c["doc_id"].startswith("evil")]
    assert cited
    # the passage itself holds the markup, verbatim
    record = engine.documents[cited[0]["doc_id"]]
    assert "<script>" in record.raw
    panel = render_passage(ans, cited[0]["n"], engine.documents)
    assert "<script" not in panel and "<img" not in panel
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in panel
    assert "&lt;img src=x onerror=alert(1)&gt;" in panel
    assert "<mark>" in panel
    chat = render_answer(ans, 0, "恶意文档的作者是谁")
    assert "<script" not in chat and "<img" not in chat


def test_escaping_of_questions_and_nearest_passages():
    from qa.app.ui import render_answer, render_messages, render_user

    q = '<img src=x onerror=alert(1)>是什么'
    assert "<img" not in render_user(q)
    ans = {"question": q, "answer": "资料中没有找到关于“<b>x</b>”的内容。", "found": False,
           "citations": [], "searched": q,
           "passages": [{"rank": 1, "doc_id": "d", "title": "<script>t</script>",
                         "passage_id": "p", "text": "<script>alert(1)</script>正文",
                         "score": 0.1, "flags": ["censored"]}]}
    html_ = render_answer(ans, 0, q)
    assert "<script" not in html_ and "<b>x" not in html_ and "<img" not in html_
    assert "&lt;b&gt;x" in html_
    assert "资料中没有找到" in html_ and "<details" in html_
    assert "含屏蔽字" in html_
    msgs = render_messages([{"question": q, "searched": q, "answer": ans}])
    assert [m["role"] for m in msgs] == ["user", "assistant"]


def test_answer_badges_and_panel_highlight():
    from qa.app.ui import render_answer, render_passage

    text = "卢氏县创新金融扶贫，形成了“卢氏模式”。该模式在全省推广。"
    quote = "卢氏县创新金融扶贫，形成了“卢氏模式”。"
    ans = {"question": "卢氏模式是什么", "searched": "卢氏模式是什么", "found": True,
           "answer": f"{quote}[1]", "passages": [],
           "citations": [{"n": 1, "doc_id": "d1", "title": "金融扶贫", "passage_id": "p",
                          "text": text, "quote": quote, "start": 0, "end": len(quote),
                          "score": 0.9, "source": "河南日报", "flags": ["spun"]}]}
    chat = render_answer(ans, 3)
    assert 'qa-t-3 qa-n-1' in chat
    assert f"{quote}[1]" not in chat  # the marker became a badge
    assert chat.count('<a class="cite qa-ref') == 1
    panel = render_passage(ans, 1, {})
    assert f"<mark>{quote}</mark>" in panel
    assert "河南日报" in panel and "疑似同义词改写" in panel
    assert "qa-error" in render_passage(ans, 9, {})


def test_literal_bracket_numbers_in_a_quote_are_not_badges():
    """A quoted sentence holding [2] (a footnote in the source) shows [2] as text: only the
    answerer's own citation becomes a badge, even if the answer cites a passage [2]."""
    from qa.app.ui import render_answer

    quote = "统计口径见文献[2]。"
    cites = [{"n": n, "doc_id": f"d{n}", "title": f"t{n}", "passage_id": f"p{n}",
              "text": quote, "quote": quote, "start": 0, "end": len(quote), "score": 0.5,
              "source": "", "flags": []} for n in (1, 2)]
    ans = {"question": "q", "searched": "q", "found": True, "citations": cites,
           "passages": [], "answer": "统计口径见文献［2］。[1]另一句。[2]",
           "segments": [{"label": "", "text": "统计口径见文献［2］。", "n": 1, "line": 0},
                        {"label": "", "text": "另一句。", "n": 2, "line": 0}]}
    chat = render_answer(ans, 0)
    assert chat.count('<a class="cite qa-ref') == 2
    assert "文献［2］。<a" in chat  # the literal stays text, the badge follows the sentence
    raw = dict(ans, segments=[{"label": "", "text": "统计口径见文献[2]。", "n": 1, "line": 0}],
               citations=cites[:1])
    assert render_answer(raw, 0).count('<a class="cite qa-ref') == 1


def test_partial_answer_shows_the_note_and_its_citation():
    from qa.app.ui import render_answer

    quote = "累计选派名第一书记。"
    ans = {"question": "q", "searched": "q", "found": False, "partial": True,
           "answer": f"资料中没有找到所问的数字。相关的内容：{quote}[1]", "passages": [],
           "citations": [{"n": 1, "doc_id": "d", "title": "t", "passage_id": "p",
                          "text": quote, "quote": quote, "start": 0, "end": len(quote),
                          "score": 0.5, "source": "", "flags": []}],
           "segments": [{"label": "", "text": "资料中没有找到所问的数字。相关的内容：", "n": None},
                        {"label": "", "text": quote, "n": 1, "line": 0}]}
    chat = render_answer(ans, 0)
    assert "qa-notfound-msg" in chat and "资料中没有找到所问的数字" in chat
    assert chat.count('<a class="cite qa-ref') == 1 and "来源" in chat


def test_rewritten_question_is_shown():
    from qa.app.ui import render_answer

    ans = {"question": "靖宇县委书记是谁", "searched": "靖宇县委书记是谁", "found": False,
           "answer": "资料中没有找到相关内容。", "citations": [], "passages": []}
    assert "检索问题: 靖宇县委书记是谁" in render_answer(ans, 1, "那靖宇县呢?")
    assert "检索问题" not in render_answer(ans, 1, "靖宇县委书记是谁")


def test_check_upload_limits(tmp_path):
    from qa.app.ui import check_upload

    small = tmp_path / "a.md"
    small.write_text("# 标题\n正文。", encoding="utf-8")
    big = tmp_path / "b.pdf"
    big.write_bytes(b"0" * 3 * 1024 * 1024)
    odd = tmp_path / "c.xlsx"
    odd.write_bytes(b"x")
    ok, rejected = check_upload([small, big, odd], max_mb=2)
    assert ok == [small]
    assert any(m.startswith("b.pdf") and "过大" in m for m in rejected)
    assert any(m.startswith("c.xlsx") and "不支持" in m for m in rejected)


def test_app_starts_without_an_index(tmp_path):
    from qa.app.ui import build_app
    from qa.embed.embedders import get_embedder
    from qa.errors import QAError

    app = build_app(tmp_path / "none", embedder=get_embedder("hash"))
    assert app.qa_engine.index is None
    with pytest.raises(QAError, match="上传"):
        app.qa_engine.ask("卢氏模式是什么")


# ---------------------------------------------------------------------------- generative
GEN_Q = "靖宇县2016年贫困发生率下降到多少"
GEN_TRUE = "2016年，靖宇县建档立卡贫困对象实现1579户3182人脱贫[1]。"


@pytest.fixture
def llm_server(base_index, tmp_path):
    """The app with a scripted language model; yields (app, url, handler)."""
    from qa.embed.embedders import get_embedder
    from qa.generate.client import LLMConfig
    from tests.checks import fake_llm_server, sse

    with fake_llm_server() as (llm_url, handler):
        handler.script = {"reply": (200, "text/event-stream",
                                    sse(GEN_TRUE[:10], GEN_TRUE[10:], "编造的一句[1]。"))}
        with serve_copy(base_index, tmp_path / "gen-idx", get_embedder("hash"),
                        llm=LLMConfig(llm_url, "tiny", "sk-ui-secret-key")) as (app, url):
            yield app, url, handler


def _answer_switch(app) -> dict:
    [switch] = [c for c in app.config["components"]
                if c.get("props", {}).get("elem_id") == "qa-answer-mode"]
    return switch["props"]


def test_answer_switch_only_with_a_language_model(server, llm_server):
    assert _answer_switch(server[0])["visible"] is False
    props = _answer_switch(llm_server[0])
    assert props["visible"] is True and props["label"] == "回答方式"


def test_ask_endpoint_generative(llm_server):
    from gradio_client import Client

    _app, url, handler = llm_server
    client = Client(url, verbose=False)
    got = client.predict(GEN_Q, 8, "hybrid", False, "generative", api_name="/ask")
    assert got["mode"] == "generative" and got["found"] is True
    # the invented sentence is dropped; the source sentence with the asked rate is kept
    assert got["answer"].startswith(GEN_TRUE[:-4] + "。[1]\n原文：")
    assert "15.2%" in got["answer"] and "示范县" not in got["answer"]
    assert all(c["verified"] for c in got["citations"])
    _check_quotes(got)
    assert any("1 句未能在原文中核实" in w for w in got["warnings"])
    assert "sk-ui-secret-key" not in str(got)
    assert len(handler.seen) == 1
    plain = client.predict(GEN_Q, api_name="/ask")  # the default stays extractive
    assert plain["mode"] == "extractive" and len(handler.seen) == 1


def test_ask_endpoint_generative_without_a_model(client):
    with pytest.raises(AppError, match="QA_LLM_URL"):
        client.predict(GEN_Q, 8, "hybrid", False, "generative", api_name="/ask")


def test_generative_answer_streams_and_renders(llm_server):
    from qa.app.ui import render_answer, render_generating

    engine = llm_server[0].qa_engine
    first, *events = list(engine.answer(GEN_Q, answer="生成"))
    assert len(events) >= 3 and events[-1].answer.mode == "generative"
    # the quoted answer is there before the model writes a word, and stays above its text
    quoted = render_answer(first.extractive.to_dict(), 0)
    assert first.answer is None and first.extractive.mode == "extractive" and "cite" in quoted
    partial = render_generating(events[0].text, events[0].checked, first=quoted)
    assert partial.startswith(quoted) and "生成中" in partial
    assert GEN_TRUE[:10] in partial.removeprefix(quoted)
    assert "qa-pending" not in partial  # no badge before the sentence is checked
    done = next(e for e in events if len(e.checked) == 2)
    shown = render_generating(done.text, done.checked)
    assert shown.count('class="cite qa-pending"') == 1 and "未能在原文中核实" in shown
    final = render_answer(events[-1].answer.to_dict(), 0)
    assert "由语言模型生成" in final and final.count('<a class="cite qa-ref') == 2
    assert "<b>原文</b>：" in final  # the kept source sentence, on its own line
    assert "已略去" in final
    # the dropped sentence is not in the answer text, only struck through in the fold
    text, fold = final.split('<details class="qa-unverified-list">')
    assert "编造" not in text and "编造" in fold and "未核实：" in fold


def test_ask_endpoint_completes_a_follow_up_from_the_previous_question(client):
    got = client.predict("那共青城呢", 8, "hybrid", False, "extractive", "卢氏模式是什么",
                         api_name="/ask")
    assert got["searched"] != "那共青城呢" and "共青城" in got["searched"]
    alone = client.predict("那共青城呢", api_name="/ask")
    assert alone["searched"] in ("", "那共青城呢")


def test_serve_local_llm_hands_the_local_model_to_the_page(index_path, monkeypatch, capsys):
    """`qa serve --local-llm` (and `app.py --local-llm`): the page gets the local model's
    config. The model server is replaced by a config for a port nobody listens on, and the
    page is not launched; everything between the flag and the page runs for real."""
    from contextlib import contextmanager

    import gradio as gr

    import qa.generate.local
    from qa.app.cli import main
    from qa.generate.client import LLMConfig

    @contextmanager
    def fake_local_llm():
        yield LLMConfig(url="http://127.0.0.1:9/v1", model="local-test")

    monkeypatch.setattr(qa.generate.local, "local_llm", fake_local_llm)
    monkeypatch.setattr(gr.Blocks, "launch", lambda self, **kwargs: None)
    assert main(["serve", "--local-llm", "--index", str(index_path)]) == 0
    out = capsys.readouterr().out
    assert "generative answers on: LLMConfig(url='http://127.0.0.1:9/v1', model='local-test'" \
        in out
