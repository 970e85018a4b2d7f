"""Written answers from a language model, every sentence checked against what it cites.

The model sees the passages the extractive answerer already retrieved (no second search), so
the generative answer is about the same text the extractive one quotes. Its reply is split
into sentences (qa.verify.split_generated) and each sentence is verified against the
passage(s) it cites (qa.verify.verify_sentence).

Policy:
- A sentence that fails verification, has no citation, or cites a number outside [1..k] is
  DROPPED: it is never shown, cited or not. A note in `warnings` says how many were dropped.
- Each surviving sentence cites its best-supporting passage (the verifier's choice), plus any
  other passage it cites whose own best span alone reaches the support threshold. The quote is
  that span of the passage text (`quote == text[start:end]`, as for extractive citations),
  every citation has `verified=True`, and citations are renumbered [1..m] by passage in order
  of appearance.
- If nothing survives, the model replies NO_ANSWER, the reply is not Chinese (fewer than
  MIN_CJK_SHARE of its letters are CJK characters: a model that drifts into English or
  transliteration cannot be checked against Chinese passages), or the endpoint fails in any
  way (LLMError: down, timeout, HTTP error, empty or malformed reply), the extractive answer is
  returned unchanged except for a note in `warnings`. No traceback, and messages go through
  `LLMConfig.redact` so the API key never shows.
- The model is asked only when the extractive answerer found an answer (found=True). Its
  named-term and confidence checks are calibrated; when they say the collection does not
  answer (found=False, also a partial answer that lacks the asked value), a verified sentence
  would still be about something else, so that answer is returned as it is.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from qa.answer import Answer, Citation
from qa.llm import NO_ANSWER, LLMConfig, LLMError, build_messages, stream_chat
from qa.question import fold
from qa.verify import (
    SUPPORT_THRESHOLD,
    GeneratedSentence,
    Verdict,
    split_generated,
    verify_cited,
    verify_sentence,
)

MAX_PASSAGES = 5  # passages given to the model: a small local model slows with long prompts
MAX_REPLY_CHARS = 1500  # stop reading a reply that runs on; its complete sentences still count
MIN_CJK_SHARE = 0.3  # of the reply's letters (citation marks removed); below: not Chinese

NOTE_UNVERIFIED = "生成的回答未能在原文中核实，已改用摘录回答"
NOTE_NO_ANSWER = "语言模型认为资料不能回答这个问题，以下为摘录回答"
NOTE_NOT_CHINESE = "语言模型没有用中文回答，已改用摘录回答"
NOTE_FAILED = "语言模型不可用，已改用摘录回答"
NOTE_DROPPED = "生成的回答中有 {n} 句未能在原文中核实，已略去"

_NOTE_HEADS = (NOTE_UNVERIFIED, NOTE_NO_ANSWER, NOTE_NOT_CHINESE, NOTE_FAILED,
               NOTE_DROPPED.split("{")[0])

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]")
_MARKS = re.compile(r"[\[［【]\s*[0-9０-９,，、\s]*[\]］】]")


@dataclass
class Checked:
    """One complete sentence of the reply and the verifier's verdict on it."""

    sentence: GeneratedSentence
    verdict: Verdict


@dataclass
class Progress:
    """What the reply is so far: its raw text and its complete sentences, checked. The last
    event of a stream carries the final `answer` (generative, or the extractive fallback)."""

    text: str = ""
    checked: list[Checked] = field(default_factory=list)
    answer: Answer | None = None


def notes(warnings: Sequence[str]) -> list[str]:
    """The warnings this module added (fallbacks, dropped sentences), for a CLI or page to
    show; the answerer's own warnings are diagnostics."""
    return [w for w in warnings if isinstance(w, str) and w.startswith(_NOTE_HEADS)]


def _complete(text: str) -> bool:
    """The reply ends at the end of a sentence (its citation marks aside)."""
    return _MARKS.sub("", text).rstrip()[-1:] in ("。！？!?；;…”」』）)")


def cjk_share(text: str) -> float:
    """Share of CJK characters among the letters of `text` (citation marks left out)."""
    letters = [c for c in _MARKS.sub("", text) if c.isalpha()]
    if not letters:
        return 0.0
    return sum(bool(_CJK.match(c)) for c in letters) / len(letters)


def is_no_answer(text: str) -> bool:
    """The model said the passages do not answer (NO_ANSWER at the start of its reply)."""
    return fold(_MARKS.sub("", text)).strip().startswith(fold(NO_ANSWER))


def prompt_passages(extractive: Answer, limit: int = MAX_PASSAGES) -> list[dict]:
    """The passages the model sees: those the extractive answer cites first (they hold the
    answer), then the rest in retrieval order, at most `limit`."""
    by_id = {p["passage_id"]: p for p in extractive.passages}
    order = [c.passage_id for c in extractive.citations if c.passage_id in by_id]
    order += [p["passage_id"] for p in extractive.passages]
    return [by_id[pid] for pid in dict.fromkeys(order)][:limit]


def check(sentence: GeneratedSentence, passages: Sequence[dict]) -> Verdict:
    """The verdict on one generated sentence against the passages numbered from 1."""
    return verify_cited(sentence, [p["text"] for p in passages],
                        titles=[p.get("title") or "" for p in passages])


def fallback(extractive: Answer, note: str) -> Answer:
    """The extractive answer as it is, with `note` added to its warnings."""
    return dataclasses.replace(extractive, warnings=[*extractive.warnings, note],
                               mode="extractive")


def _sources(extractive: Answer) -> dict[str, str]:
    return {c.passage_id: c.source for c in extractive.citations}


def _citations_for(item: Checked, passages: Sequence[dict]) -> list[tuple[dict, int, int]]:
    """(passage, start, end) of the quotes one verified sentence is shown with."""
    s, v = item.sentence, item.verdict
    best = passages[s.citations[v.passage] - 1]
    out = [(best, v.quote_start, v.quote_end)]
    for n in s.citations:
        p = passages[n - 1]
        if p is best or any(p is q for q, _, _ in out):
            continue
        own = verify_sentence(s.text, [p["text"]])
        if own.support >= SUPPORT_THRESHOLD and own.quote_start >= 0:
            out.append((p, own.quote_start, own.quote_end))
    return out


def build_answer(extractive: Answer, passages: Sequence[dict], checked: Sequence[Checked],
                 sources: dict[str, str] | None = None) -> Answer | None:
    """The generative answer from the verified sentences; None when none was verified."""
    kept = [c for c in checked if c.verdict.ok and c.verdict.quote_start >= 0]
    if not kept:
        return None
    sources = sources if sources is not None else _sources(extractive)
    numbers: dict[str, int] = {}
    citations: list[Citation] = []
    segments: list[dict] = []
    pieces: list[str] = []
    for item in kept:
        shown = item.sentence.text.replace("[", "［").replace("]", "］")
        marks = ""
        for k, (p, start, end) in enumerate(_citations_for(item, passages)):
            pid = p["passage_id"]
            if pid not in numbers:
                numbers[pid] = len(numbers) + 1
            n = numbers[pid]
            marks += f"[{n}]"
            segments.append({"label": "", "text": shown if k == 0 else "", "n": n, "line": 0})
            citations.append(Citation(
                n=n, doc_id=p["doc_id"], title=p["title"], passage_id=pid, text=p["text"],
                quote=p["text"][start:end], start=start, end=end, score=p.get("score", 0.0),
                source=sources.get(pid, ""),
                flags=[f for f in p.get("flags") or [] if f != "caption"],
                also_in=list(p.get("also_in") or []), verified=True))
        pieces.append(shown + marks)
    warnings = list(extractive.warnings)
    dropped = len(checked) - len(kept)
    if dropped:
        warnings.append(NOTE_DROPPED.format(n=dropped))
    return Answer(extractive.question, "".join(pieces), True, citations, extractive.passages,
                  extractive.kind, extractive.searched, warnings, segments=segments,
                  mode="generative")


def stream_generative(extractive: Answer, config: LLMConfig,
                      history: Sequence[tuple[str, str]] = (),
                      max_passages: int = MAX_PASSAGES) -> Iterator[Progress]:
    """Ask the model and yield the reply as it grows: after each token the raw text and the
    complete sentences checked so far; the last event carries `answer`. Never raises for a
    fault of the model or its endpoint."""
    if not extractive.found:
        yield Progress(answer=extractive)
        return
    passages = prompt_passages(extractive, max_passages)
    if not passages:
        yield Progress(answer=extractive)
        return
    question = extractive.searched or extractive.question
    messages = build_messages(question, [(p["title"], p["text"]) for p in passages], history)
    text, checked = "", []
    try:
        tokens = stream_chat(config, messages)
        try:
            for token in tokens:
                text += token
                sentences = split_generated(text)
                # the last piece may still grow, or its [n] may still be coming
                while len(checked) < len(sentences) - 1:
                    s = sentences[len(checked)]
                    checked.append(Checked(s, check(s, passages)))
                yield Progress(text, list(checked))
                if len(text) >= MAX_REPLY_CHARS:
                    break
        finally:
            tokens.close()
    except LLMError as e:
        yield Progress(text, checked, fallback(extractive, config.redact(f"{NOTE_FAILED}：{e}")))
        return
    sentences = split_generated(text)
    if len(text) >= MAX_REPLY_CHARS and sentences and not _complete(text):
        sentences = sentences[:-1]  # cut off mid-sentence
    for s in sentences[len(checked):]:
        checked.append(Checked(s, check(s, passages)))
    if is_no_answer(text):
        yield Progress(text, checked, fallback(extractive, NOTE_NO_ANSWER))
        return
    if cjk_share(text) < MIN_CJK_SHARE:
        yield Progress(text, checked, fallback(extractive, NOTE_NOT_CHINESE))
        return
    answer = build_answer(extractive, passages, checked)
    yield Progress(text, checked, answer or fallback(extractive, NOTE_UNVERIFIED))


def generative_answer(extractive: Answer, config: LLMConfig,
                      history: Sequence[tuple[str, str]] = (),
                      max_passages: int = MAX_PASSAGES) -> Answer:
    """The generative answer for the question `extractive` answers, or `extractive` itself
    with a note when the model fails, declines or writes nothing verifiable."""
    final = extractive
    for event in stream_generative(extractive, config, history, max_passages):
        if event.answer is not None:
            final = event.answer
    return final
