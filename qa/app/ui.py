"""Web UI: chat with cited answers, a passage panel, document management and a JSON API.

Click-to-cite: answers are rendered as HTML in the chat, every [n] marker becoming a badge
``<a class="cite qa-ref qa-k-passage qa-t-T qa-n-N">`` (classes, not data-* attributes:
the chat's HTML sanitizer keeps classes and drops data-*). The passage panel is a
``gr.HTML`` whose ``js_on_load`` installs one document-level click listener; a click on any
``.qa-ref`` element calls the panel's ``trigger('click', {turn, n, kind})`` and the
Python handler renders that turn's passage (quotes in ``<mark>``) into the panel. The answers
of the session live in a ``gr.State`` so old turns stay clickable.

Everything taken from documents or typed by the user goes through `esc` before it becomes
HTML: a document holding ``<script>`` shows the tag as text.
"""

from __future__ import annotations

import html
import logging
import os
import re
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import gradio as gr

from qa.answer.answerer import Answer, Answerer, clean_question
from qa.answer.followup import rewrite
from qa.app.access import DEFAULT_MAX_FILES, DEFAULT_MAX_UPLOAD_MB, Access, exposure_warning
from qa.embed.embedders import Embedder, get_embedder
from qa.errors import IndexStateError, QAError
from qa.generate.client import LLMConfig, LLMError
from qa.ingest.flags import LABELS
from qa.ingest.pipeline import IngestReport, ingest, remove
from qa.ingest.readers import MAX_HTML_MB, SUPPORTED
from qa.store.index import SearchIndex, open_index
from qa.store.legacy import default_index_dir

log = logging.getLogger(__name__)

EXAMPLES = ["卢氏模式是什么", "靖宇县的五种帮扶模式分别是什么", "共青城的一个托底五个全覆盖是什么",
            "杨书春是谁", "靖宇县2016年有多少贫困人口脱贫"]
MODES = ["hybrid", "dense", "bm25"]
ANSWER_MODES = {"摘录": "extractive", "生成": "generative"}  # the page's labels -> API values
GENERATING = "生成中…"
SEARCHING = "检索中…"
NOT_FOUND = "资料中没有找到"
PANEL_HINT = ('<div class="qa-panel-empty">点击答案中的角标（如 <span class="cite">1</span>）'
              "或答案下方的来源，在这里查看原文段落。</div>")
SNIPPET_CHARS = 90
ASK_CONCURRENCY = 8  # questions answered at once (chat and /ask together)

# Badges, passage panel, chips. Injected into <head> by the panel component, so the app built
# by `build_app` is styled however it is launched (tests launch it themselves).
CSS = """
.qa-answer { line-height: 1.75; }
.qa-answer .cite { display: inline-block; min-width: 1.25em; padding: 0 .3em; margin: 0 1px;
  border-radius: .7em; background: #2563eb; color: #fff !important; font-size: .72em;
  font-weight: 600; line-height: 1.5; text-align: center; vertical-align: super;
  text-decoration: none !important; cursor: pointer; user-select: none; }
.qa-answer .cite:hover, .qa-answer .cite:focus { background: #1d4ed8; outline: none; }
.qa-panel-empty .cite { display: inline-block; padding: 0 .3em; border-radius: .7em;
  background: #2563eb; color: #fff; font-size: .72em; vertical-align: super; }
.qa-searched { color: #6b7280; font-size: .85em; margin-bottom: .35em; }
.qa-status { color: #6b7280; font-style: italic; }
.qa-srcs { margin-top: .6em; padding-top: .4em; border-top: 1px solid rgba(127,127,127,.25);
  font-size: .85em; }
.qa-src { cursor: pointer; padding: 1px 0; }
.qa-src:hover .qa-src-title { text-decoration: underline; }
.qa-src-n { color: #2563eb; font-weight: 600; margin-right: .3em; }
.qa-chip { display: inline-block; margin-left: .35em; padding: 0 .45em; border-radius: .6em;
  background: #fef3c7; color: #92400e; border: 1px solid #f59e0b; font-size: .78em;
  cursor: help; white-space: nowrap; }
.qa-notfound-msg { padding: .45em .7em; border-left: 4px solid #f59e0b; background: #fffbeb;
  color: #92400e; border-radius: 4px; }
.qa-near { margin-top: .5em; font-size: .88em; }
.qa-near summary { cursor: pointer; color: #374151; }
.qa-near ol { margin: .3em 0 0 1.2em; padding: 0; }
.qa-near li { margin: .25em 0; cursor: pointer; }
.qa-near .qa-snip { color: #4b5563; }
.qa-panel { padding: .8em 1em; border: 1px solid rgba(127,127,127,.3); border-radius: 8px; }
.qa-panel h3 { margin: 0 0 .3em 0; font-size: 1.05em; }
.qa-panel .qa-meta { color: #6b7280; font-size: .82em; margin-bottom: .4em; }
.qa-panel .qa-passage { white-space: pre-wrap; line-height: 1.8; font-size: .95em;
  max-height: 60vh; overflow-y: auto; }
.qa-panel mark { background: #fde047; color: #111827; padding: 0 1px; border-radius: 2px; }
.qa-error { color: #b91c1c; }
.qa-note { margin-top: .4em; padding: .3em .6em; border-left: 3px solid #9ca3af;
  color: #4b5563; font-size: .85em; }
.qa-mode { color: #6b7280; font-size: .8em; margin-bottom: .3em; }
.qa-answer .cite.qa-pending { background: #9ca3af; cursor: default; }
.qa-unverified { color: #9ca3af; text-decoration: line-through; }
.qa-unverified-mark { color: #b45309; font-size: .78em; margin-left: .2em; }
"""

# Runs when the panel mounts: one listener for every .qa-ref element, present or future
# (chat messages are re-rendered all the time). The reference is read from its classes
# qa-k-<kind> qa-t-<turn> qa-n-<n>.
CITE_JS = """
window.__qaCiteTrigger = trigger;
if (!window.__qaCiteBound) {
  window.__qaCiteBound = true;
  const ref = (e) => e.target && e.target.closest ? e.target.closest('.qa-ref') : null;
  const fire = (el) => {
    const get = (p) => { const c = [...el.classList].find((x) => x.startsWith(p));
                         return c ? c.slice(p.length) : null; };
    window.__qaCiteTrigger('click', {kind: get('qa-k-'), turn: get('qa-t-'), n: get('qa-n-')});
  };
  document.addEventListener('click', (e) => {
    const el = ref(e);
    if (!el) return;
    e.preventDefault();
    e.stopPropagation();
    fire(el);
  }, true);
  document.addEventListener('keydown', (e) => {
    if (e.key !== 'Enter' && e.key !== ' ') return;
    const el = ref(e);
    if (el) { e.preventDefault(); fire(el); }
  }, true);
}
"""

# Asks before deleting; a cancelled dialog sends no id and the handler does nothing.
CONFIRM_DELETE_JS = ("(doc) => (doc && confirm('删除文档 ' + doc + '？此操作不可撤销。'))"
                     " ? doc : null")

_MARKER = re.compile(r"\[(\d+)\]")
# html.escape leaves these alone; they mean something to Markdown, KaTeX or the HTML
# component's template engines, so they become entities too (they display the same).
_EXTRA = str.maketrans({"{": "&#123;", "}": "&#125;", "$": "&#36;", "`": "&#96;",
                        "*": "&#42;", "_": "&#95;", "~": "&#126;", "\\": "&#92;",
                        "[": "&#91;", "]": "&#93;", "|": "&#124;", "#": "&#35;"})


def esc(text: Any) -> str:
    """HTML-escape text from documents or users, so it can never become markup."""
    return html.escape("" if text is None else str(text), quote=True).translate(_EXTRA)


def _ref(kind: str, turn: int, n: Any) -> str:
    """Classes that tell the click handler which passage an element refers to."""
    return f"qa-ref qa-k-{kind} qa-t-{int(turn)} qa-n-{int(n)}"


def _snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit] + "…"


# ---------------------------------------------------------------------------- engine
class Engine:
    """The open index and its answerer; swapped for a fresh one after every ingest/remove,
    so the chat answers from the new content at once."""

    def __init__(self, index_dir: str | Path, embedder: Embedder | None = None,
                 llm: LLMConfig | None = None) -> None:
        self.index_dir = Path(index_dir)
        self.embedder = embedder or get_embedder()
        self.llm = llm  # the model for generative answers; None: extractive only
        self.lock = threading.Lock()  # one writer at a time; readers use the last snapshot
        self.index: SearchIndex | None = None
        self.answerer: Answerer | None = None
        self.strict_answerer: Answerer | None = None
        self.error = ""
        self.reload()

    def warm_up(self) -> None:
        """Load the model now (about 10 s for the real one) so the first question is fast."""
        load = getattr(self.embedder, "load", None)
        if callable(load):
            load()
        else:
            self.embedder.embed_queries(["预热"])

    def reload(self) -> None:
        """Open the index from disk; no index yet is not an error (upload documents first)."""
        try:
            index = open_index(self.index_dir, self.embedder)
        except IndexStateError as e:
            self.index, self.answerer, self.strict_answerer = None, None, None
            self.error = str(e)
            return
        self.index, self.error = index, ""
        self.answerer, self.strict_answerer = Answerer(index), Answerer(index, strict=True)

    @property
    def documents(self) -> DocumentLookup:
        return DocumentLookup(self.index)

    def ask(self, question: str, top_k: int = 8, mode: str = "hybrid",
            strict: bool = False) -> Answer:
        """Answer from the index as it is now: documents another process (the CLI) added or
        removed since the last question are seen without a restart."""
        if self.index is None:
            self.reload()
        elif self.index.refresh():
            self.answerer = Answerer(self.index)
            self.strict_answerer = Answerer(self.index, strict=True)
        answerer = self.strict_answerer if strict else self.answerer
        if answerer is None:
            raise QAError("还没有可检索的文档：请先在“文档”页上传文档。"
                          f"（{self.error or 'no index'}）")
        if mode not in MODES:
            raise QAError(f"unknown search mode {mode!r}; use one of {', '.join(MODES)}")
        return answerer.ask(question, top_k=int(top_k), mode=mode)

    def answer(self, question: str, top_k: int = 8, mode: str = "hybrid",
               strict: bool = False, answer: str = "extractive",
               history: Sequence[tuple[str, str]] = ()) -> Iterator[Any]:
        """Progress events of qa.generate.written for a generative answer (tokens as they come), or
        one event holding the extractive answer; the last event's `answer` is the answer."""
        from qa.generate.written import Progress, stream_generative

        answer = ANSWER_MODES.get(answer, answer)
        if answer not in ANSWER_MODES.values():
            raise QAError(f"unknown answer mode {answer!r}; use extractive or generative")
        if answer == "generative" and self.llm is None:
            raise QAError("生成回答需要语言模型：请设置 QA_LLM_URL / generative answers need "
                          "QA_LLM_URL")
        extractive = self.ask(question, top_k, mode, strict)
        if answer == "extractive":
            yield Progress(answer=extractive)
            return
        yield from stream_generative(extractive, self.llm, history)

    def ingest(self, paths: Sequence[str | Path], progress: bool = False) -> IngestReport:
        with self.lock:
            report = ingest(list(paths), self.index_dir, embedder=self.embedder,
                            progress=progress)
            self.reload()
        return report

    def remove(self, doc_id: str) -> None:
        with self.lock:
            remove(doc_id, self.index_dir, embedder=self.embedder)
            self.reload()


class DocumentLookup:
    """Documents by id for the renderers, fetched one at a time (a collection may hold tens
    of thousands); `values()` lists them all for the documents tab."""

    def __init__(self, index: SearchIndex | None) -> None:
        self.index = index

    def get(self, doc_id: Any, default: Any = None) -> Any:
        if self.index is None or not isinstance(doc_id, str):
            return default
        return self.index.document(doc_id) or default

    def __getitem__(self, doc_id: str) -> Any:
        found = self.get(doc_id)
        if found is None:
            raise KeyError(doc_id)
        return found

    def values(self):
        return self.index.documents.values() if self.index is not None else []

    def __iter__(self):
        return iter(self.index.store.doc_ids() if self.index is not None else [])

    def __len__(self) -> int:
        return self.index.store.document_count() if self.index is not None else 0


# ---------------------------------------------------------------------------- rendering
def _flag_chips(names: Sequence[str], record: Any = None) -> str:
    evidence = {}
    for f in getattr(record, "flags", None) or []:
        if isinstance(f, dict):
            evidence[f.get("name")] = f.get("evidence", "")
    chips = []
    for name in names:
        if name == "caption":
            continue
        tip = evidence.get(name) or LABELS.get(name, name)
        chips.append(f'<span class="qa-chip" title="{esc(tip)}">⚠ {esc(LABELS.get(name, name))}'
                     "</span>")
    return "".join(chips)


def _also_in(others: Sequence[str] | None) -> str:
    """A reprinted text is cited once; the note says where else it appears."""
    if not others:
        return ""
    names = "、".join(others[:5]) + ("…" if len(others) > 5 else "")
    return (f'<span class="qa-also" title="{esc(names)}">（同样内容还见于另外 {len(others)} 篇'
            "文档）</span>")


def render_user(question: str) -> str:
    """A user's message as shown in the chat (escaped: it is the user's text)."""
    return f'<div class="qa-user">{esc(question)}</div>'


def render_status(text: str = SEARCHING, searched: str = "", question: str = "") -> str:
    """The placeholder shown while an answer is being looked up."""
    return (f'<div class="qa-answer">{_searched_line(searched, question)}'
            f'<span class="qa-status">{esc(text)}</span></div>')


def _searched_line(searched: str, question: str) -> str:
    if not searched or searched.strip() == (question or "").strip():
        return ""
    return f'<div class="qa-searched">检索问题: {esc(searched)}</div>'


def render_answer(ans: dict, turn: int, question: str = "", documents: dict | None = None
                  ) -> str:
    """One answer as chat HTML: text with [n] badges, then its sources or nearest passages.

    `ans` is an `Answer.to_dict()`; `turn` is its index in the session, carried by every
    clickable element so the panel shows the passage of this answer, not the latest one.
    `documents` (doc_id -> record) supplies the flags' evidence for their tooltips.
    """
    documents = documents or {}
    searched = _searched_line(ans.get("searched") or ans.get("question", ""), question)
    notes = _notes(ans)
    cited = {c["n"]: c for c in ans.get("citations", [])}
    if not ans.get("found") and not (ans.get("partial") and cited):
        return (f'<div class="qa-answer qa-notfound">{searched}'
                f"{_render_not_found(ans, turn, documents)}{notes}</div>")

    def badge(n: int) -> str:
        title = esc(cited[n].get("title", ""))
        return (f'<a class="cite {_ref("passage", turn, n)}" role="button" tabindex="0" '
                f'title="[{n}] {title}">{n}</a>')

    body = _render_segments(ans, cited, badge)
    if not ans.get("found"):  # partial: the topic is there, the asked value is not
        body = f'<div class="qa-notfound-msg">⚠ {body}</div>'
    sources = []
    for n, c in sorted(cited.items()):
        sources.append(
            f'<div class="qa-src {_ref("passage", turn, n)}" role="button" tabindex="0">'
            f'<span class="qa-src-n">[{n}]</span>'
            f'<span class="qa-src-title">{esc(c.get("title") or c.get("doc_id"))}</span>'
            f"{_flag_chips(c.get('flags') or [], documents.get(c.get('doc_id')))}"
            f"{_also_in(c.get('also_in'))}</div>")
    srcs = f'<div class="qa-srcs"><div>来源：</div>{"".join(sources)}</div>' if sources else ""
    mode = ('<div class="qa-mode">由语言模型生成 · 每句已与所引原文核对</div>'
            if ans.get("mode") == "generative" else "")
    return (f'<div class="qa-answer">{searched}{mode}<div class="qa-text">{body}</div>{notes}'
            f"{_unverified(ans)}{srcs}</div>")


def _unverified(ans: dict) -> str:
    """The sentences the model wrote that failed the verifier: never part of the answer, but
    listed (struck through, with the reason) under a closed 未核实 fold, so a user can see
    what the model claimed and why it is not shown as an answer."""
    failed = [c for c in ans.get("checks") or [] if not c.get("verified")]
    if not failed:
        return ""
    rows = "".join(f'<li><span class="qa-unverified">{esc(c["text"])}</span>'
                   f'<span class="qa-unverified-mark">未核实：{esc(c["reason"])}</span></li>'
                   for c in failed)
    return (f'<details class="qa-unverified-list"><summary>模型另写了 {len(failed)} 句'
            f"未能核实的话（未作为回答）</summary><ul>{rows}</ul></details>")


def _notes(ans: dict) -> str:
    """The notes of a generative answer (fell back to extractive, sentences dropped)."""
    from qa.generate.written import notes

    return "".join(f'<div class="qa-note">ⓘ {esc(n)}</div>'
                   for n in notes(ans.get("warnings") or []))


def render_generating(text: str, checked: Sequence[Any], searched: str = "",
                      question: str = "", first: str = "") -> str:
    """A generative answer while it streams, under `first` (the extractive answer's HTML,
    shown at once): each complete sentence with grey badges once it is verified, or struck
    through and marked 未能在原文中核实 (it will be dropped); the sentence still being
    written as plain text. The final answer replaces all of it."""
    from qa.generate.verify import CITATION, split_generated

    parts = []
    for item in checked:
        s, ok = item.sentence, item.verdict.ok
        if ok:
            marks = "".join(f'<span class="cite qa-pending">{int(n)}</span>'
                            for n in s.citations)
            parts.append(f"{esc(s.text)}{marks}")
        else:
            parts.append(f'<span class="qa-unverified">{esc(s.text)}</span>'
                         '<span class="qa-unverified-mark">未能在原文中核实</span>')
    tail = "".join(x.text for x in split_generated(text)[len(checked):])
    if not tail and not checked:
        tail = CITATION.sub("", text)
    parts.append(esc(tail))
    return (f'{first}<div class="qa-answer qa-writing">{_searched_line(searched, question)}'
            f'<div class="qa-mode">语言模型正在撰写 · 每句写完即与原文核对</div>'
            f'<div class="qa-text">{"".join(parts)}</div>'
            f'<span class="qa-status">{esc(GENERATING)}</span></div>')


def _render_segments(ans: dict, cited: dict, badge) -> str:
    """The answer as HTML from its segments: a badge only where the answerer put a citation,
    so a literal [2] inside a quoted sentence stays text. Answers without segments (older
    JSON) fall back to the [n] markers of the answer text."""
    segments = ans.get("segments") or []
    if not segments:
        def marker(m: re.Match) -> str:
            n = int(m.group(1))
            return badge(n) if n in cited else m.group(0)
        lines = [_MARKER.sub(marker, html.escape(line, quote=True).translate(_EXTRA_NO_BRACKETS))
                 for line in ans.get("answer", "").split("\n")]
        return "<br>".join(lines)
    lines: list[str] = []
    previous_line = None
    for seg in segments:
        label, n, line = seg.get("label") or "", seg.get("n"), seg.get("line")
        piece = esc(seg.get("text", "")) + (badge(n) if n in cited else "")
        if line is None or line != previous_line or not lines:
            lines.append((f"<b>{esc(label)}</b>：" if label else "") + piece)
        else:
            lines[-1] += piece
        previous_line = line
    return "<br>".join(lines)


# Answer text keeps [ ] so the markers can be found; every other special character is escaped.
_EXTRA_NO_BRACKETS = {k: v for k, v in _EXTRA.items() if chr(k) not in "[]"}


def _render_not_found(ans: dict, turn: int, documents: dict) -> str:
    msg = f'<div class="qa-notfound-msg">⚠ {esc(ans.get("answer") or NOT_FOUND)}</div>'
    passages = ans.get("passages") or []
    if not passages:
        return msg
    items = "".join(
        f'<li class="{_ref("nearest", turn, p.get("rank", i + 1))}" '
        f'role="button" tabindex="0"><b>{esc(p.get("title") or p.get("doc_id"))}</b>'
        f'{_flag_chips(p.get("flags") or [], documents.get(p.get("doc_id")))}<br>'
        f'<span class="qa-snip">'
        f"{esc(_snippet(p.get('text', '')))}</span></li>"
        for i, p in enumerate(passages))
    return (f'{msg}<details class="qa-near"><summary>最接近的段落（{len(passages)}），'
            f"仅供参考</summary><ol>{items}</ol></details>")


def _highlight(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """Escape `text`, wrapping each [start, end) span (merged, clipped) in <mark>."""
    merged: list[list[int]] = []
    for start, end in sorted((max(0, s), min(len(text), e)) for s, e in spans):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out, pos = [], 0
    for start, end in merged:
        out.append(esc(text[pos:start]))
        out.append(f"<mark>{esc(text[start:end])}</mark>")
        pos = end
    out.append(esc(text[pos:]))
    return "".join(out)


def render_passage(ans: dict, n: int, documents: dict | None = None, kind: str = "passage"
                   ) -> str:
    """The side panel for citation `n` of `ans` (or nearest passage `n` when kind="nearest"):
    title, source, date, quality-flag chips, and the passage with the quoted spans marked."""
    documents = documents or {}
    if kind == "nearest":
        rows = [p for p in ans.get("passages", []) if p.get("rank") == n]
        if not rows:
            return f'<div class="qa-panel qa-error">没有第 {int(n)} 个段落。</div>'
        p = rows[0]
        doc_id, title, text, flags, spans = (p.get("doc_id"), p.get("title"), p.get("text", ""),
                                             p.get("flags") or [], [])
        heading = f"段落 {int(n)}"
        source = ""
    else:
        cites = [c for c in ans.get("citations", []) if c.get("n") == n]
        if not cites:
            return f'<div class="qa-panel qa-error">没有引用 [{int(n)}]。</div>'
        c = cites[0]
        doc_id, title, text, flags = c.get("doc_id"), c.get("title"), c.get("text", ""), \
            c.get("flags") or []
        spans = [(x["start"], x["end"]) for x in cites]
        heading = f"[{int(n)}]"
        source = c.get("source", "")
    record = documents.get(doc_id)
    source = source or getattr(record, "source", "")
    date = getattr(record, "date", "") or ""
    meta = [f"来源：{esc(source)}" if source else "", f"日期：{esc(date)}" if date else "",
            f"文档：{esc(doc_id)}"]
    chips = _flag_chips([f for f in flags if f != "caption"], record)
    return (f'<div class="qa-panel" data-doc="{esc(doc_id)}"><h3>{heading} {esc(title)}</h3>'
            f'<div class="qa-meta">{" · ".join(m for m in meta if m)}</div>'
            f'{f"<div class=qa-chips>{chips}</div>" if chips else ""}'
            f'<div class="qa-passage">{_highlight(text, spans)}</div></div>')


def render_messages(turns: list[dict], documents: dict | None = None) -> list[dict]:
    """The chat history (messages format) for the answers of this session."""
    messages: list[dict] = []
    for i, t in enumerate(turns):
        messages.append({"role": "user", "content": render_user(t["question"])})
        if "answer" in t:
            content = render_answer(t["answer"], i, t["question"], documents)
        else:
            content = f'<div class="qa-answer qa-error">⚠ {esc(t.get("error", ""))}</div>'
        messages.append({"role": "assistant", "content": content})
    return messages


def documents_table(documents: dict) -> list[list]:
    """Rows for the documents tab: id, title, source, date, passages, flag labels."""
    rows = []
    for d in documents.values():
        labels = "、".join(f.get("label") or LABELS.get(f.get("name"), f.get("name"))
                          for f in d.flags if isinstance(f, dict))
        rows.append([d.doc_id, d.title, d.source, d.date, d.passages, labels])
    return rows


# ---------------------------------------------------------------------------- uploads
def check_upload(paths: Sequence[str | Path], max_mb: float,
                 max_files: int = DEFAULT_MAX_FILES) -> tuple[list[Path], list[str]]:
    """Split uploads into acceptable files and messages naming each rejected file and why.
    More than `max_files` at once: nothing is taken (the user picks again)."""
    if len(paths) > max_files:
        return [], [f"一次最多导入 {max_files} 个文件，本次选择了 {len(paths)} 个；请分批上传"]
    ok, rejected = [], []
    for p in paths:
        path = Path(p)
        name = path.name
        if path.suffix.lower() not in SUPPORTED:
            rejected.append(f"{name}：不支持的文件类型（{path.suffix or '无扩展名'}），"
                            f"支持 {' '.join(SUPPORTED)}")
            continue
        try:
            size = path.stat().st_size
        except OSError as e:
            rejected.append(f"{name}：无法读取（{e.strerror or e}）")
            continue
        if size > max_mb * 1024 * 1024:
            rejected.append(f"{name}：文件过大（{size / 1024 / 1024:.1f} MB，上限 {max_mb:g} MB）")
            continue
        if path.suffix.lower() in (".html", ".htm") and size > MAX_HTML_MB * 1_000_000:
            rejected.append(f"{name}：网页文件过大（{size / 1_000_000:.1f} MB，网页上限 "
                            f"{MAX_HTML_MB} MB），请拆分后上传")
            continue
        ok.append(path)
    return ok, rejected


def _upload_paths(files: Any) -> list[str]:
    if not files:
        return []
    if not isinstance(files, list):
        files = [files]
    out = []
    for f in files:
        if isinstance(f, dict):
            f = f.get("path") or f.get("name")
        out.append(str(getattr(f, "name", f)))
    return out


# ---------------------------------------------------------------------------- the app
def _llm_from_env() -> LLMConfig | None:
    """QA_LLM_* as configured; a bad value disables generative answers with a log line (the
    page still serves extractive answers)."""
    try:
        return LLMConfig.from_env()
    except LLMError as e:
        log.warning("generative answers disabled: %s", e)
        return None


def _history(turns: Sequence[dict], limit: int = 3) -> list[tuple[str, str]]:
    """The last answered turns as (question, answer text), for a follow-up's prompt."""
    done = [(t["question"], t["answer"].get("answer", "")) for t in turns if "answer" in t]
    return done[-limit:]


def build_app(index_dir: str | Path, embedder: Embedder | None = None,
              max_upload_mb: float = DEFAULT_MAX_UPLOAD_MB, llm: LLMConfig | None = None,
              read_only: bool = False, max_files: int = DEFAULT_MAX_FILES) -> gr.Blocks:
    """The whole UI; the index and model are opened here, before the first question.
    `llm` (default: from QA_LLM_URL etc.) enables the 回答方式 switch and generative answers.
    `read_only`: no upload or delete controls and no upload endpoint (a public lookup page)."""
    engine = Engine(index_dir, embedder, llm or _llm_from_env())
    engine.warm_up()

    def respond(message: str, turns: list[dict], top_k: float, mode: str,
                strict: bool = False, answer_mode: str = "摘录") -> Iterator[tuple]:
        question = (message or "").strip()
        if not question:
            gr.Warning("请输入问题，例如：卢氏模式是什么")
            yield message, render_messages(turns, engine.documents), turns
            return
        searched = rewrite(question, [t.get("searched", t["question"]) for t in turns])
        pending = [*render_messages(turns, engine.documents),
                   {"role": "user", "content": render_user(question)},
                   {"role": "assistant", "content": render_status(SEARCHING, searched, question)}]
        yield "", pending, turns
        try:
            clean_question(searched)
            final, shown, first = None, 0.0, ""
            for event in engine.answer(searched, int(top_k), mode, bool(strict), answer_mode,
                                       _history(turns)):
                if event.answer is not None:
                    final = event.answer
                    continue
                if event.extractive is not None:  # the quoted answer first, at once
                    first = render_answer(event.extractive.to_dict(), len(turns), question,
                                          engine.documents)
                elif time.monotonic() - shown <= 0.1 and event.text[-1:] not in "。！？]":
                    continue
                shown = time.monotonic()  # tokens as they come, a few updates a second
                pending[-1] = {"role": "assistant", "content": render_generating(
                    event.text, event.checked, searched, question, first)}
                yield "", pending, turns
            if final is None:
                raise QAError("no answer")
            ans = final.to_dict()
            turn = {"question": question, "searched": searched, "answer": ans}
        except QAError as e:
            turn = {"question": question, "searched": searched, "error": str(e)}
        except Exception as e:  # a bug must not leave "检索中…" on screen forever
            log.exception("answering %r failed", searched)
            turn = {"question": question, "searched": searched, "error": f"内部错误：{e}"}
        turns = [*turns, turn]
        yield "", render_messages(turns, engine.documents), turns

    def show_citation(turns: list[dict], evt: gr.EventData) -> str:
        data = getattr(evt, "_data", None) or {}
        try:
            t, n = int(data.get("turn")), int(data.get("n"))
            ans = turns[t]["answer"]
        except (TypeError, ValueError, IndexError, KeyError):
            return PANEL_HINT
        kind = "nearest" if data.get("kind") == "nearest" else "passage"
        return render_passage(ans, n, engine.documents, kind)

    def ask_api(question: str, top_k: int = 8, mode: str = "hybrid", strict: bool = False,
                answer: str = "extractive", previous: str = "") -> dict:
        """Same JSON object as `qa ask --json`: the Answer as a dict. `answer`: extractive
        (default) or generative (when the server has QA_LLM_URL). `previous`: the question
        before this one, so a follow-up (那共青城呢) is completed as in the page; the dict's
        `searched` says what was searched."""
        try:
            searched = rewrite(question or "", [previous] if previous else [])
            final = None
            for event in engine.answer(searched, int(top_k), mode, bool(strict), answer):
                final = event.answer or final
            if final is None:
                raise QAError("no answer")
            return final.to_dict()
        except QAError as e:
            raise gr.Error(str(e)) from e

    def refresh_docs() -> tuple:
        rows = documents_table(engine.documents)
        ids = [r[0] for r in rows]
        return rows, gr.update(choices=ids, value=None)

    def upload(files: Any, progress: gr.Progress = gr.Progress(track_tqdm=True)) -> tuple:  # noqa: B008
        paths = _upload_paths(files)
        if not paths:
            return ("请先选择要上传的文件。", *refresh_docs(), gr.update())
        ok, messages = check_upload(paths, max_upload_mb, max_files)
        lines = [f"✗ {m}" for m in messages]
        if ok:
            progress(0, desc="读取与索引…")
            try:
                report = engine.ingest(ok, progress=True)
            except QAError as e:
                lines.append(f"✗ 导入失败：{e}")
            else:
                for d in report.documents:
                    lines.append(f"✓ {d.doc_id}：{d.title}（{d.passages} 个段落）")
                for f in report.failures:
                    lines.append(f"✗ {Path(f.path).name}：{f.reason}")
        return ("\n".join(lines) or "没有可导入的文件。", *refresh_docs(), None)

    def delete(doc_id: str | None) -> tuple:
        if not doc_id:
            return ("请先选择要删除的文档。", *refresh_docs())
        try:
            engine.remove(doc_id)
            msg = f"已删除 {doc_id}"
        except QAError as e:
            msg = f"删除失败：{e}"
        return (msg, *refresh_docs())

    def pick_row(evt: gr.SelectData) -> Any:
        row = evt.row_value if evt is not None else None
        return gr.update(value=row[0]) if row else gr.update()

    with gr.Blocks(title="政策问答", analytics_enabled=False) as app:
        turns = gr.State([])
        gr.Markdown("## 政策问答 · 答案均引自原文，点击角标查看出处")
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
        with gr.Tab("文档"):
            table = gr.Dataframe(
                value=documents_table(engine.documents),
                headers=["文档ID", "标题", "来源", "日期", "段落数", "质量标记"],
                interactive=False, wrap=True, label="文档", elem_id="qa-docs")
            if read_only:
                gr.Markdown("只读模式：本页不能上传或删除文档。", elem_id="qa-read-only")
            else:
                with gr.Row():
                    pick = gr.Dropdown(choices=list(engine.documents), value=None, scale=4,
                                       label="选择文档（或点表格中的行）")
                    delete_btn = gr.Button("删除文档", variant="stop", scale=1)
                files = gr.File(file_count="multiple", type="filepath", elem_id="qa-files",
                                label=f"上传文档（{' '.join(SUPPORTED)}；每个文件不超过 "
                                      f"{max_upload_mb:g} MB，一次最多 {max_files} 个）")
                upload_btn = gr.Button("导入", variant="primary")
                status = gr.Textbox(label="结果", lines=3, interactive=False)

        ask_inputs = [box, turns, top_k, mode, strict, answer_mode]
        ask_outputs = [box, chatbot, turns]
        # questions run side by side (their embeddings are batched: qa.embed.batcher); writes
        # (upload, delete) one at a time
        box.submit(respond, ask_inputs, ask_outputs, api_visibility="private",
                   concurrency_limit=ASK_CONCURRENCY, concurrency_id="ask")
        send.click(respond, ask_inputs, ask_outputs, api_visibility="private",
                   concurrency_limit=ASK_CONCURRENCY, concurrency_id="ask")
        clear.click(lambda: ([], [], PANEL_HINT), None, [chatbot, turns, panel],
                    api_visibility="private")
        chatbot.clear(lambda: ([], PANEL_HINT), None, [turns, panel], api_visibility="private")
        panel.click(show_citation, [turns], panel, api_visibility="private")
        if not read_only:
            upload_btn.click(upload, files, [status, table, pick, files], api_name="upload",
                             api_visibility="undocumented")
            delete_btn.click(delete, pick, [status, table, pick], api_visibility="private",
                             js=CONFIRM_DELETE_JS)
            table.select(pick_row, None, pick, api_visibility="private")
        gr.api(ask_api, api_name="ask", concurrency_limit=ASK_CONCURRENCY,
               concurrency_id="ask")
    app.qa_engine = engine  # for tests and for serve()
    app.max_upload_mb = max_upload_mb
    return app


def serve(host: str = "127.0.0.1", port: int = 7860, index_dir: str | Path | None = None,
          open_browser: bool = False, access: Access | None = None,
          llm: LLMConfig | None = None) -> None:
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
                    max_files=access.max_files, llm=llm)
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
