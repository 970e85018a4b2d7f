"""Answers as chat HTML, and the passage panel.

Click-to-cite: every [n] marker of an answer becomes a badge
``<a class="cite qa-ref qa-k-passage qa-t-T qa-n-N">`` (classes, not data-* attributes: the
chat's HTML sanitizer keeps classes and drops data-*); the page's click listener
(qa.app.assets.CITE_JS) reads them and the panel shows that turn's passage, rendered here
(quotes in ``<mark>``).

Everything taken from documents or typed by the user goes through `esc` before it becomes
HTML: a document holding ``<script>`` shows the tag as text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import Any

from qa.ingest.flags import LABELS

GENERATING = "生成中…"
SEARCHING = "检索中…"
NOT_FOUND = "资料中没有找到"
PANEL_HINT = ('<div class="qa-panel-empty">点击答案中的角标（如 <span class="cite">1</span>）'
              "或答案下方的来源，在这里查看原文段落。</div>")
SNIPPET_CHARS = 90

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
