"""Follow-up questions: turn an elliptical question into a complete one, visibly.

Search has no memory, so 那靖宇县呢? on its own finds nothing useful. The rules here are few
and simple on purpose: the UI shows the rewritten question (检索问题: …) so a user can see
what was searched and rephrase when a rule guessed wrong. Nothing is rewritten without a
previous question, and a question that does not look elliptical is left alone.

- Entity swap: 那靖宇县呢? after 卢氏县委书记是谁 -> 靖宇县委书记是谁 (a place, person or year in
  the previous question is replaced by the one in the fragment).
- Pronoun: 它带动了多少贫困户? after 老农夫品牌是什么 -> 老农夫品牌带动了多少贫困户 (它/他/她/其
  become the previous question's subject; 该县/这个模式 become the matching place or subject).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache

_LEAD = re.compile(r"^(?:那么|那)[，,、\s]*")
_TRAIL = re.compile(r"(?:的情况|情况)?(?:呢|吗)?[?？。!！\s]*$")
_PUNCT_END = re.compile(r"[?？。!！\s]+$")
_PRONOUN = re.compile(r"^(它们|他们|她们|它|他|她|其)")
_DEMONSTRATIVE = re.compile(r"^(?:这个|这位|这项|这种|这|该|此)([\u4e00-\u9fff]{1,4}?)"
                            r"(?=[的是有在怎如为能带于和与，,]|$)")
_QUESTION_WORD = re.compile(r"什么|多少|谁|哪|怎|如何|几|为何|为什么|是|有")
_YEAR = re.compile(r"\d{4}年")
_ADMIN = "省市县区镇乡村"
_NOT_NAME_START = set("该本全各每此这那其它他她")
# Parts of speech that end a question's subject: verbs, pronouns, adverbs, prepositions,
# numbers, time words, conjunctions, particles and punctuation.
_STOP_FLAGS = ("v", "r", "d", "p", "m", "t", "c", "u", "y", "x", "f")
SHORT = 10  # a question this short that ends in 呢 is a fragment


def _cut(text: str) -> list[tuple[str, str]]:
    return list(_cut_cached(text))


@lru_cache(maxsize=256)
def _cut_cached(text: str) -> tuple[tuple[str, str], ...]:
    import jieba
    import jieba.posseg

    jieba.setLogLevel(60)
    return tuple((w, f) for w, f in jieba.posseg.cut(text))


def places(text: str) -> list[str]:
    """Place names in `text`: words ending in 县/市/区/…, or a name followed by one (卢氏+县委)."""
    out: list[str] = []
    tokens = _cut(text)
    for i, (word, flag) in enumerate(tokens):
        if len(word) < 2 or word[0] in _NOT_NAME_START or flag in _STOP_FLAGS:
            continue
        if word[-1] in _ADMIN:
            out.append(word)
        elif i + 1 < len(tokens) and tokens[i + 1][0][:1] in _ADMIN and flag.startswith("n"):
            out.append(word + tokens[i + 1][0][0])
        elif flag == "ns":
            out.append(word)
    return list(dict.fromkeys(out))


def people(text: str) -> list[str]:
    """Person names (jieba nr) that are not the first part of a place (卢氏 in 卢氏县)."""
    names = [w for w, f in _cut(text) if f == "nr" and len(w) >= 2]
    found = places(text)
    return [n for n in names if not any(p.startswith(n) for p in found)]


def subject(question: str) -> str:
    """The noun phrase a question starts with: 老农夫品牌是什么 -> 老农夫品牌."""
    parts: list[str] = []
    for word, flag in _cut(_PUNCT_END.sub("", question)):
        if flag.startswith(_STOP_FLAGS) and not (parts == [] and flag == "m"):
            break
        parts.append(word)
    return "".join(parts)


def _previous(history: Iterable[str | Mapping]) -> str:
    last = ""
    for item in history:
        if isinstance(item, Mapping):
            if item.get("role") == "user" and isinstance(item.get("content"), str):
                last = item["content"]
        elif isinstance(item, str) and item.strip():
            last = item
    return last.strip()


def is_elliptical(question: str) -> bool:
    """Starts with 那/那么/它/他/她/这/该/其, or is a short fragment ending in 呢."""
    q = question.strip()
    if re.match(r"^(那么|那|它|他|她|这|该|其)", q):
        return True
    core = _PUNCT_END.sub("", q)
    return len(core) <= SHORT and core.endswith("呢")


def _swap_entity(fragment: str, prev: str) -> str | None:
    """Put `fragment` (a place, person or year) where the same kind of thing was in `prev`."""
    if _YEAR.fullmatch(fragment):
        m = _YEAR.search(prev)
        return prev.replace(m.group(0), fragment, 1) if m else None
    olds = places(prev) + people(prev)
    if not olds:
        return None
    new_is_place = fragment[-1] in _ADMIN or fragment in places(fragment)
    same_kind = places(prev) if new_is_place else people(prev) or places(prev)
    old = (same_kind or olds)[0]
    new = fragment
    if old[-1] not in _ADMIN and new[-1] in _ADMIN and len(new) > 2:
        new = new[:-1]  # 卢氏模式 + 靖宇县 -> 靖宇模式
    return prev.replace(old, new, 1)


def _replace_pronoun(question: str, prev: str) -> str | None:
    m = _PRONOUN.match(question)
    if m:
        pronoun = m.group(1)
        names = people(prev) if pronoun[0] in "他她" else []
        who = names[0] if names else subject(prev)
        return who + question[m.end():] if who else None
    m = _DEMONSTRATIVE.match(question)
    if m:
        noun = m.group(1)
        if noun[-1:] in _ADMIN:
            same = [p for p in places(prev) if p.endswith(noun[-1])]
            if same:
                return same[0] + question[m.end():]
        subj = subject(prev)
        if subj and subj.endswith(noun):
            return subj + question[m.end():]
    return None


def rewrite(question: str, history: Iterable[str | Mapping]) -> str:
    """The question to search: complete questions unchanged, follow-ups filled in from the
    previous user question in `history` (strings, or chat messages with role/content)."""
    q = question.strip()
    prev = _previous(history)
    if not q or not prev or not is_elliptical(q):
        return question
    body = _LEAD.sub("", q)
    fragment = _TRAIL.sub("", body)
    if fragment and not _QUESTION_WORD.search(fragment) and len(fragment) <= SHORT:
        swapped = _swap_entity(fragment, _PUNCT_END.sub("", prev))
        if swapped:
            return swapped
    replaced = _replace_pronoun(_PUNCT_END.sub("", body), _PUNCT_END.sub("", prev))
    if replaced:
        return replaced
    return question
