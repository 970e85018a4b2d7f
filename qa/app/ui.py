"""Web UI: chat with cited answers, a passage panel, document management and a JSON API.

This module lays the page out and serves it; the parts live beside it:
qa.app.render (answers and the passage panel as HTML), qa.app.assets (stylesheet and the
click-to-cite script), qa.app.chat (question handlers and the /ask endpoint),
qa.app.uploads (the documents tab's handlers and upload limits) and qa.app.engine (the
index, answered through qa.app.service as `qa ask` answers). The answers of the session live
in a ``gr.State`` so old turns stay clickable.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from qa.app.access import DEFAULT_MAX_FILES, DEFAULT_MAX_UPLOAD_MB, Access, exposure_warning
from qa.app.assets import CITE_JS, CONFIRM_DELETE_JS, CSS
from qa.app.chat import chat_handlers
from qa.app.engine import ANSWER_MODES, Engine
from qa.app.render import (
    PANEL_HINT,
    documents_table,
    render_answer,
    render_generating,
    render_messages,
    render_passage,
    render_user,
)
from qa.app.service import MODES as SEARCH_MODES
from qa.app.uploads import check_upload, document_handlers
from qa.embed.embedders import Embedder
from qa.generate.client import LLMConfig, LLMError
from qa.ingest.readers import SUPPORTED
from qa.store.legacy import default_index_dir

# Other code and the tests import these from here, where they lived before the split.
__all__ = ["CSS", "build_app", "check_upload", "render_answer", "render_generating",
           "render_messages", "render_passage", "render_user", "serve"]

log = logging.getLogger(__name__)

EXAMPLES = ["卢氏模式是什么", "靖宇县的五种帮扶模式分别是什么", "共青城的一个托底五个全覆盖是什么",
            "杨书春是谁", "靖宇县2016年有多少贫困人口脱贫"]
MODES = list(SEARCH_MODES)
ASK_CONCURRENCY = 8  # questions answered at once (chat and /ask together)


@dataclass
class _ChatTab:
    """The components of the 问答 tab that events are wired to."""

    chatbot: gr.Chatbot
    box: gr.Textbox
    send: gr.Button
    clear: gr.Button
    top_k: gr.Slider
    mode: gr.Radio
    strict: gr.Checkbox
    answer_mode: gr.Radio
    panel: gr.HTML


@dataclass
class _DocumentsTab:
    """The components of the 文档 tab; all but the table are absent on a read-only page."""

    table: gr.Dataframe
    pick: gr.Dropdown | None = None
    delete_btn: gr.Button | None = None
    files: gr.File | None = None
    upload_btn: gr.Button | None = None
    status: gr.Textbox | None = None


def _llm_from_env() -> LLMConfig | None:
    """QA_LLM_* as configured; a bad value disables generative answers with a log line (the
    page still serves extractive answers)."""
    try:
        return LLMConfig.from_env()
    except LLMError as e:
        log.warning("generative answers disabled: %s", e)
        return None


def _chat_tab(engine: Engine) -> _ChatTab:
    with gr.Tab("问答"), gr.Row(equal_height=False):
        with gr.Column(scale=3):
            chatbot = gr.Chatbot(value=[], label="对话", height=520,
                                 latex_delimiters=[], feedback_options=None,
                                 buttons=["copy"], elem_id="qa-chat")
            with gr.Row():
                box = gr.Textbox(placeholder="输入问题，例如：卢氏模式是什么",
                                 show_label=False, scale=5, autofocus=True,
                                 elem_id="qa-question")
                send = gr.Button("提问", variant="primary", scale=1, elem_id="qa-send")
                clear = gr.Button("清空", scale=1)
            gr.Examples(EXAMPLES, inputs=box, label="示例问题")
            with gr.Accordion("设置", open=False):
                top_k = gr.Slider(3, 20, value=8, step=1, label="检索段落数")
                mode = gr.Radio(MODES, value="hybrid", label="检索方式",
                                info="hybrid = 向量 + 关键词；dense = 向量；bm25 = 关键词")
                strict = gr.Checkbox(False, label="严格模式",
                                     info="资料只是相关但没有答案时，更常回答“没有找到”；"
                                          "也会漏掉少数能回答的问题")
                answer_mode = gr.Radio(
                    list(ANSWER_MODES), value="摘录", label="回答方式",
                    visible=engine.llm is not None, elem_id="qa-answer-mode",
                    info="摘录 = 原文句子；生成 = 语言模型撰写，每句与所引原文核对，"
                         "核对不通过的句子不显示")
        with gr.Column(scale=2):
            panel = gr.HTML(PANEL_HINT, js_on_load=CITE_JS, elem_id="qa-panel",
                            head=f"<style>{CSS}</style>", label="原文")
    return _ChatTab(chatbot, box, send, clear, top_k, mode, strict, answer_mode, panel)


def _documents_tab(engine: Engine, read_only: bool, max_upload_mb: float,
                   max_files: int) -> _DocumentsTab:
    with gr.Tab("文档"):
        table = gr.Dataframe(
            value=documents_table(engine.documents),
            headers=["文档ID", "标题", "来源", "日期", "段落数", "质量标记"],
            interactive=False, wrap=True, label="文档", elem_id="qa-docs")
        if read_only:
            gr.Markdown("只读模式：本页不能上传或删除文档。", elem_id="qa-read-only")
            return _DocumentsTab(table)
        with gr.Row():
            pick = gr.Dropdown(choices=list(engine.documents), value=None, scale=4,
                               label="选择文档（或点表格中的行）")
            delete_btn = gr.Button("删除文档", variant="stop", scale=1)
        files = gr.File(file_count="multiple", type="filepath", elem_id="qa-files",
                        label=f"上传文档（{' '.join(SUPPORTED)}；每个文件不超过 "
                              f"{max_upload_mb:g} MB，一次最多 {max_files} 个）")
        upload_btn = gr.Button("导入", variant="primary")
        status = gr.Textbox(label="结果", lines=3, interactive=False)
    return _DocumentsTab(table, pick, delete_btn, files, upload_btn, status)


def _wire_chat(chat: _ChatTab, turns: gr.State, respond: Callable[..., Any],
               show_citation: Callable[..., Any]) -> None:
    ask_inputs = [chat.box, turns, chat.top_k, chat.mode, chat.strict, chat.answer_mode]
    ask_outputs = [chat.box, chat.chatbot, turns]
    # questions run side by side (their embeddings are batched: qa.embed.batcher); writes
    # (upload, delete) one at a time
    chat.box.submit(respond, ask_inputs, ask_outputs, api_visibility="private",
                    concurrency_limit=ASK_CONCURRENCY, concurrency_id="ask")
    chat.send.click(respond, ask_inputs, ask_outputs, api_visibility="private",
                    concurrency_limit=ASK_CONCURRENCY, concurrency_id="ask")
    chat.clear.click(lambda: ([], [], PANEL_HINT), None, [chat.chatbot, turns, chat.panel],
                     api_visibility="private")
    chat.chatbot.clear(lambda: ([], PANEL_HINT), None, [turns, chat.panel],
                       api_visibility="private")
    chat.panel.click(show_citation, [turns], chat.panel, api_visibility="private")


def _wire_documents(docs: _DocumentsTab, engine: Engine, max_upload_mb: float,
                    max_files: int) -> None:
    upload, delete, pick_row = document_handlers(engine, max_upload_mb, max_files)
    docs.upload_btn.click(upload, docs.files, [docs.status, docs.table, docs.pick, docs.files],
                          api_name="upload", api_visibility="undocumented")
    docs.delete_btn.click(delete, docs.pick, [docs.status, docs.table, docs.pick],
                          api_visibility="private", js=CONFIRM_DELETE_JS)
    docs.table.select(pick_row, None, docs.pick, api_visibility="private")


def build_app(index_dir: str | Path, embedder: Embedder | None = None,
              max_upload_mb: float = DEFAULT_MAX_UPLOAD_MB, llm: LLMConfig | None = None,
              read_only: bool = False, max_files: int = DEFAULT_MAX_FILES,
              store: str | None = None) -> gr.Blocks:
    """The whole UI; the index and model are opened here, before the first question.
    `llm` (default: from QA_LLM_URL etc.) enables the 回答方式 switch and generative answers.
    `read_only`: no upload or delete controls and no upload endpoint (a public lookup page).
    `store`: the store spec (--store; None: QA_STORE)."""
    engine = Engine(index_dir, embedder, llm or _llm_from_env(), store=store)
    engine.warm_up()
    respond, show_citation, ask_api = chat_handlers(engine)
    with gr.Blocks(title="政策问答", analytics_enabled=False) as app:
        turns = gr.State([])
        gr.Markdown("## 政策问答 · 答案均引自原文，点击角标查看出处")
        chat = _chat_tab(engine)
        docs = _documents_tab(engine, read_only, max_upload_mb, max_files)
        _wire_chat(chat, turns, respond, show_citation)
        if not read_only:
            _wire_documents(docs, engine, max_upload_mb, max_files)
        gr.api(ask_api, api_name="ask", concurrency_limit=ASK_CONCURRENCY,
               concurrency_id="ask")
    app.qa_engine = engine  # for tests and for serve()
    app.max_upload_mb = max_upload_mb
    return app


def serve(host: str = "127.0.0.1", port: int = 7860, index_dir: str | Path | None = None,
          open_browser: bool = False, access: Access | None = None,
          llm: LLMConfig | None = None, store: str | None = None) -> None:
    """Open the index and load the model, then serve the UI on host:port (loopback default).
    `access`: login, read-only and upload limits (see qa.app.access); `llm`: the model for
    generative answers (default: from QA_LLM_URL etc.; `qa serve --local-llm` passes the
    local one)."""
    access = access or Access()
    index_dir = Path(index_dir) if index_dir else default_index_dir()
    warning = exposure_warning(host, access)
    if warning:
        log.warning(warning)
        print(warning, file=sys.stderr, flush=True)
    print(f"loading index {index_dir} and the embedding model …", flush=True)
    app = build_app(index_dir, max_upload_mb=access.max_upload_mb, read_only=access.read_only,
                    max_files=access.max_files, llm=llm, store=store)
    engine: Engine = app.qa_engine
    if engine.index is None:
        print(f"no index yet ({engine.error}); upload documents in the 文档 tab", flush=True)
    else:
        print(f"{len(engine.documents)} documents, {len(engine.index)} passages",
              flush=True)
    if engine.llm is not None:
        print(f"generative answers on: {engine.llm!r}", flush=True)  # the key shows as ***
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{port}/"
    print(f"serving on {url}", flush=True)
    hard_cap = f"{int(app.max_upload_mb * 4) + 1}mb"  # our own check names the file
    print(f"access: {access!r}", flush=True)
    app.queue(default_concurrency_limit=1).launch(
        server_name=host, server_port=port, inbrowser=open_browser, show_error=True,
        max_file_size=hard_cap, footer_links=["api"], css=CSS, quiet=True,
        auth=list(access.auth) if access.auth else None,
        auth_message="请登录 / Please log in" if access.auth else None)


if __name__ == "__main__":  # pragma: no cover
    serve(port=int(os.environ.get("PORT", "7860")))
