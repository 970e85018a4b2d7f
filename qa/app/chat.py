"""The page's question handlers: the chat (answers streamed into it), the passage panel, and
the /ask endpoint. They are closures over the page's `Engine`, made by `chat_handlers`, so
that Gradio sees plain functions with their own signatures and docstrings (the /ask API is
described from them)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from typing import Any

import gradio as gr

from qa.answer.answerer import Answer, clean_question
from qa.answer.followup import rewrite
from qa.app.engine import Engine
from qa.app.render import (
    PANEL_HINT,
    SEARCHING,
    render_answer,
    render_generating,
    render_messages,
    render_passage,
    render_status,
    render_user,
)
from qa.errors import QAError

log = logging.getLogger("qa.app.ui")  # one logger for the whole page

Options = tuple[float, str, bool, str]  # top_k, search mode, strict, answer mode (as sent)


def chat_handlers(engine: Engine) -> tuple[Callable[..., Any], ...]:
    """(respond, show_citation, ask_api) for the page built on `engine`."""

    def respond(message: str, turns: list[dict], top_k: float, mode: str,
                strict: bool = False, answer_mode: str = "摘录") -> Iterator[tuple]:
        yield from _respond(engine, message, turns, (top_k, mode, strict, answer_mode))

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

    return respond, show_citation, ask_api


def _history(turns: Sequence[dict], limit: int = 3) -> list[tuple[str, str]]:
    """The last answered turns as (question, answer text), for a follow-up's prompt."""
    done = [(t["question"], t["answer"].get("answer", "")) for t in turns if "answer" in t]
    return done[-limit:]


def _respond(engine: Engine, message: str, turns: list[dict], options: Options
             ) -> Iterator[tuple]:
    """The chat after one question: (textbox, chat messages, turns) at once with a
    placeholder, while a generative answer is written, and with the answer (or the error)."""
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
        final = yield from _written(engine, question, searched, turns, pending, options)
        ans = final.to_dict()
        turn = {"question": question, "searched": searched, "answer": ans}
    except QAError as e:
        turn = {"question": question, "searched": searched, "error": str(e)}
    except Exception as e:  # a bug must not leave "检索中…" on screen forever
        log.exception("answering %r failed", searched)
        turn = {"question": question, "searched": searched, "error": f"内部错误：{e}"}
    turns = [*turns, turn]
    yield "", render_messages(turns, engine.documents), turns


def _written(engine: Engine, question: str, searched: str, turns: list[dict],
             pending: list[dict], options: Options) -> Generator[tuple, None, Answer]:
    """Show the answer as it comes into the last message of `pending` (the quoted answer at
    once, then the model's tokens a few times a second); returns the final answer."""
    top_k, mode, strict, answer_mode = options
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
    return final
