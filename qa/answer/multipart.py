"""Answers in several parts: a question across documents (哪些地方/各地…) gets one cited
sentence per document, and two things asked at once (湖州和德清…分别) are answered part by
part, each from its own evidence, a part the collection lacks named as such."""

from __future__ import annotations

from qa.answer.compose import Answer, compose
from qa.answer.evidence import Scored
from qa.answer.question import Question, analyze
from qa.answer.sentences import Sentence
from qa.answer.strategies import Context, choose, window


def across(ans: Context, q: Question, top_k: int, mode: str, exclude) -> Answer:
    """哪些地方/各地…: one cited sentence per document that supports the answer, labelled
    with the document's place (or title), best supported first."""
    ev = ans.gather(q, max(3 * top_k, 20), mode, exclude)
    if not ev.found:
        out = ans.not_found(ev)
        out.evidence = ev.summary()
        return out
    # each document's best sentence, if the sentence itself (not only its title) is about the
    # question: a document qualifies by what it says
    best = max(x.own for x in ev.ranked)
    per_doc: dict[str, Scored] = {}
    for x in sorted(ev.ranked, key=lambda x: -(x.own + 0.1 * x.score)):
        doc = x.sentence.hit.passage.doc_id
        if doc not in per_doc and best > 0 and x.own >= 0.6 * best:
            per_doc[doc] = x
    chosen, labels = [], []
    for doc, x in per_doc.items():
        run = window(ans, x.sentence)
        chosen += run
        labels += [ans.label(doc)] * len(run)
    # each document's source among the passages shown, then the rest by rank
    shown = _interleave([[x.sentence.hit for x in per_doc.values()] + ev.hits])[:top_k]
    out = compose(q, chosen, labels, ans.passages_of(shown), list(q.warnings), "")
    out.evidence = ev.summary()  # for calibration (bench/answers.py); not serialised
    return out


def parts(ans: Context, q: Question, top_k: int, mode: str, exclude) -> Answer:
    """Answer each part on its own; a part the collection does not answer is named."""
    assert q.parts is not None
    chosen: list[Sentence] = []
    labels: list[str] = []
    missing: list[tuple[str, str]] = []
    per_part: list[list] = []
    warnings = list(q.warnings)
    evidence = None
    for sub_text, label in zip(q.parts.questions, q.parts.labels, strict=True):
        sub = analyze(sub_text)
        ev = ans.gather(sub, top_k, mode, exclude)
        evidence = evidence or ev.summary()
        per_part.append(ev.hits)
        if not ev.found:
            # the part's own reason when the collection has it for another year or place
            missing.append((label, ev.reason if ev.unmet else "资料中没有找到"))
            warnings.append(f"{label}: {ev.reason}")
            continue
        run, _, _ = choose(ans, ev)
        if all(_index_of(chosen, s) for s in run):
            run = run + _beside(ev, run)
        for s in run:
            same = _index_of(chosen, s)
            if same:  # one sentence answers both parts: 2019年、2020年：…
                for i in same:
                    if label not in labels[i].split("、"):
                        labels[i] += "、" + label
            else:
                chosen.append(s)
                labels.append(label)
    passages = ans.passages_of(_interleave(per_part)[:top_k])
    if not chosen:
        out = Answer(q.text, f"资料中没有找到关于“{q.text}”的内容。", False, [], passages,
                     q.kind, q.text, warnings)
        out.evidence = evidence
        return out
    out = compose(q, chosen, labels, passages, warnings, "")
    out.evidence = evidence
    if missing:
        note = "；".join(f"{m}：{why}" for m, why in missing) + "。"
        out.answer += "\n" + note
        out.segments.append({"label": "", "text": note, "n": None})
        out.partial = True
    return out


def _index_of(chosen: list[Sentence], s: Sentence) -> list[int]:
    return [i for i, c in enumerate(chosen)
            if c.hit.passage.id == s.hit.passage.id and c.start == s.start]


def _beside(ev, run: list[Sentence]) -> list[Sentence]:
    """A part whose best sentence an earlier part already gave (一个周期分红多少，到现在已经分了
    多少: the second part elides 分红 and finds the first part's sentence again) also gets the
    sentence right before or after it that, for this part, states the asked kind of value,
    meets the constraints and scores nearly as high: two things asked together are mostly
    told together (每个周期分红260万元… 目前已为贫困户分红80万元)."""
    top = ev.ranked[0].score
    for x in ev.ranked[1:10]:
        s = x.sentence
        if x.unmet or x.typed is not True or x.score < 0.85 * top or _index_of(run, s):
            continue
        if any(s.hit.passage.id == r.hit.passage.id and abs(s.index - r.index) == 1
               for r in run):
            return [s]
    return []


def _interleave(lists: list[list]) -> list:
    """The parts' hits taken in turn (each part's best first), without repeats: the passages
    shown hold every part's sources, not the first part's eight."""
    out, seen = [], set()
    for rank in range(max((len(x) for x in lists), default=0)):
        for hits in lists:
            if rank < len(hits) and hits[rank].passage.id not in seen:
                seen.add(hits[rank].passage.id)
                out.append(hits[rank])
    return out
