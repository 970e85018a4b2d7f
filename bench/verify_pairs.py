"""Build bench/data/verify_pairs.jsonl: labelled (sentence, passage, supported?) pairs for
calibrating and measuring the sentence verifier (qa/generate/verify.py), all made mechanically.

From the CMRC 2018 and DRCD dev sets (/work/shared/eval/external): questions are shuffled
with a fixed seed, one per gold passage; the passage sentence (split at 。！？；) holding the
question's answer is the *true* sentence. Each true sentence gives:

  true             the sentence as it is, cited to its passage                      supported
  paraphrase_true  1-2 mechanical edits that keep its facts: drop a comma clause that does
                   not hold the answer, swap two comma clauses, drop 的/了, the other script
                   (Simplified <-> Traditional), full-width digits and Latin, a year or
                   small count written in Chinese numerals                         supported
  wrong_passage    the sentence cited to the passage of another document (other title) of
                   the same collection that shares the most bigrams with it, among those
                   that do not hold the answer span                             not supported
and one of (the kind used least so far among those the sentence allows):
  number           one number changed (a year by 1-5, other numbers by a small step, or a
                   Chinese numeral replaced)                                     not supported
  name / place     one token jieba tags nr / ns replaced by a name / place of the same tag
                   from another document, one the gold passage does not mention not supported
  negation         不 put before the sentence's first verb                    not supported
  answer_swap      the answer span replaced by the answer of another question of the same
                   kind (qa.answer.question.question_kind) whose answer the gold passage does not
                   mention: a wrong fact the tagger need not see as a name      not supported
and, when the question has one interrogative (哪/什么/谁/多少/几; not 为什么/如何/吗):
  qa_true          the question turned into a statement by putting the answer where the
                   interrogative was: the annotator's wording, not the passage's, as a
                   model answering the question would write                          supported
  qa_swap          the same with another question's answer (same kind, other document, not
                   in the gold passage)                                          not supported

Each line: {id, qid, source (cmrc|drcd), kind, supported, sentence, passage_id, note}; the
passage text is in the shared corpus file (passage_id is its "id"). The file is shuffled with
the seed; bench/verify.py chooses its thresholds on the even lines and reports the odd lines
as held out.

    .venv/bin/python bench/verify_pairs.py [--per-set 110] [--out bench/data/verify_pairs.jsonl]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from qa.answer.question import _posseg, fold, question_kind  # noqa: E402
from qa.generate.verify import (  # noqa: E402
    ASK,
    content_bigrams,
    passage_sentences,
)
from qa.generate.verify import answer_statement as statement  # noqa: E402
from qa.text.grams import bigrams  # noqa: E402
from qa.text.normalize import to_simplified, to_traditional  # noqa: E402

EXT = Path("/work/shared/eval/external")
SETS = {"cmrc": "cmrc2018_dev", "drcd": "drcd_dev"}
SEED = 11
NEGATIVE_KINDS = ("number", "name", "place", "answer_swap", "negation")
_HAN_DIGITS = "〇一二三四五六七八九"
_HAN_NUM = re.compile(r"[一二两三四五六七八九十百千万]+(?=[个名人年位次种条座家项届岁天倍部本])")


def load(name: str) -> tuple[dict[str, dict], list[dict]]:
    corpus = {}
    with open(EXT / f"{name}.corpus.jsonl", encoding="utf-8") as f:
        for line in f:
            p = json.loads(line)
            corpus[p["id"]] = p
    with open(EXT / f"{name}.qa.jsonl", encoding="utf-8") as f:
        questions = [json.loads(line) for line in f]
    return corpus, questions


def answer_sentence(passage: str, answers: list[str]) -> tuple[str, str] | None:
    """(sentence, answer) for the first passage sentence of 12-150 characters holding an
    answer span."""
    for lo, hi in passage_sentences(passage):
        sent = passage[lo:hi]
        if not 12 <= len(sent) <= 150:
            continue
        for a in answers:
            if a and a in sent:
                return sent, a
    return None


def names_by_tag(text: str) -> list[tuple[int, int, str]]:
    """(start, end, 'name'|'place') of tokens jieba tags nr/ns, as offsets into `text`
    (only when folding keeps the length, so folded offsets are original offsets)."""
    folded = fold(text)
    if len(folded) != len(text):
        return []
    out, pos = [], 0
    for w, f in _posseg(folded):
        if len(w) >= 2 and f.startswith(("nr", "ns")) and re.fullmatch(r"[\u4e00-\u9fff·]+", w):
            out.append((pos, pos + len(w), "place" if f.startswith("ns") else "name"))
        pos += len(w)
    return out


# ---------------------------------------------------------------- supported edits
def drop_clause(s: str, answer: str, rng: random.Random) -> str | None:
    parts = re.split(r"(?<=，)|(?<=,)(?![\d０-９])", s)
    if len(parts) < 3:
        return None
    choices = [i for i in range(1, len(parts) - 1) if answer not in parts[i]]
    if not choices:
        return None
    i = rng.choice(choices)
    return "".join(parts[:i] + parts[i + 1:])


def swap_clauses(s: str, answer: str, rng: random.Random) -> str | None:
    body, end = (s[:-1], s[-1]) if s[-1] in "。！？；" else (s, "")
    parts = [p for p in re.split(r"，|,(?![\d０-９])", body) if p]
    if len(parts) != 2:
        return None
    return f"{parts[1]}，{parts[0]}{end}"


def drop_particles(s: str, answer: str, rng: random.Random) -> str | None:
    """Drop 的 or 了 outside the answer span and outside quotation marks."""
    ch = rng.choice("的了")
    keep = [(m.start(), m.end()) for m in re.finditer(r"[“「『《\"][^”」』》\"]*[”」』》\"]", s)]
    keep += [(m.start(), m.end()) for m in re.finditer(re.escape(answer), s)]
    out = "".join(c for i, c in enumerate(s)
                  if c != ch or any(a <= i < b for a, b in keep))
    return out if out != s else None


def other_script(s: str, answer: str, rng: random.Random) -> str | None:
    t = to_simplified(s)
    t = t if t != s else to_traditional(s)
    return t if t != s else None


def full_width(s: str, answer: str, rng: random.Random) -> str | None:
    t = "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in s)
    return t if t != s else None


def chinese_numerals(s: str, answer: str, rng: random.Random) -> str | None:
    m = re.search(r"(?<!\d)((?:19|20)\d\d)年", s)
    if m:
        han = "".join(_HAN_DIGITS[int(d)] for d in m.group(1))
        return s[:m.start(1)] + han + s[m.end(1):]
    m = re.search(r"(?<![\d.])([2-9])(?=[个名人位次种条座家项届岁天倍])", s)
    if m:
        return s[:m.start(1)] + _HAN_DIGITS[int(m.group(1))] + s[m.end(1):]
    return None


PARAPHRASES = (drop_clause, swap_clauses, drop_particles, other_script, full_width,
               chinese_numerals)


def paraphrase(s: str, answer: str, rng: random.Random) -> tuple[str, str] | None:
    edits = list(PARAPHRASES)
    rng.shuffle(edits)
    want = rng.choice((1, 2))
    applied, out = [], s
    for edit in edits:
        t = edit(out, answer, rng)
        if t:
            applied.append(edit.__name__)
            out = t
        if len(applied) == want:
            break
    return (out, "+".join(applied)) if applied else None


# ---------------------------------------------------------------- unsupported edits
def change_number(s: str, rng: random.Random) -> tuple[str, str] | None:
    nums = list(re.finditer(r"(?<![\d.a-zA-Z])\d+(?:\.\d+)?(?![\d.])", s))
    if nums:
        m = rng.choice(nums)
        old = m.group(0)
        if "." in old:
            whole, frac = old.split(".")
            new = f"{whole}.{(int(frac) + rng.randint(1, 9)) % 10 ** len(frac):0{len(frac)}d}"
        else:
            n = int(old)
            step = rng.randint(1, 5) if 1000 <= n <= 2100 else rng.choice((1, 2, 3, n or 1))
            new = str(n + step if rng.random() < 0.5 or n - step < 0 else n - step)
        if new == old:
            return None
        return s[:m.start()] + new + s[m.end():], f"{old}->{new}"
    hans = list(_HAN_NUM.finditer(s))
    if hans:
        m = rng.choice(hans)
        digits = [i for i, c in enumerate(m.group(0)) if c in _HAN_DIGITS[1:] + "两"]
        if not digits:
            return None
        i = rng.choice(digits)
        old = m.group(0)
        new_digit = rng.choice([c for c in "二三四五六七八九" if c != old[i]])
        new = old[:i] + new_digit + old[i + 1:]
        return s[:m.start()] + new + s[m.end():], f"{old}->{new}"
    return None


def negate(s: str) -> tuple[str, str] | None:
    """不 put before the first verb jieba finds that is not already negated."""
    folded = fold(s)
    if len(folded) != len(s):
        return None
    pos = 0
    for w, f in _posseg(folded):
        if f == "v" and re.fullmatch(r"[\u4e00-\u9fff]+", w) and s[pos - 1:pos] not in "不没未":
            return s[:pos] + "不" + s[pos:], f"不{w}"
        pos += len(w)
    return None


def change_name(s: str, kind: str, pool: list[str], gold_folded: str,
                rng: random.Random) -> tuple[str, str] | None:
    spans = [(a, b) for a, b, k in names_by_tag(s) if k == kind]
    if not spans or not pool:
        return None
    a, b = rng.choice(spans)
    old = s[a:b]
    for _ in range(50):
        new = rng.choice(pool)
        if fold(new) != fold(old) and fold(new) not in gold_folded:
            return s[:a] + new + s[b:], f"{old}->{new}"
    return None


def swap_answer(s: str, answer: str, candidates: list[str], gold_folded: str,
                rng: random.Random) -> tuple[str, str] | None:
    for _ in range(50):
        new = rng.choice(candidates) if candidates else None
        if new and new != answer and fold(new) not in gold_folded and len(new) <= 20:
            return s.replace(answer, new, 1), f"{answer}->{new}"
    return None


def answer_statement(question: str, answer: str) -> str | None:
    """The question with its interrogative replaced by the answer (qa.generate.verify); None
    for a question without one, as when the labelled pairs were built."""
    if not ASK.search(to_simplified(question)):
        return None
    return statement(question, answer)


def wrong_passage(sentence: str, answer: str, gold: dict, corpus: dict[str, dict],
                  grams: dict[str, set[str]]) -> dict:
    """The passage of another document sharing the most content bigrams with the sentence,
    among those that do not state its answer (a passage repeating the fact supports it)."""
    own = content_bigrams(fold(sentence))
    others = sorted((p for p in corpus.values() if p["title"] != gold["title"]),
                    key=lambda p: (-len(own & grams[p["id"]]), p["id"]))
    return next(p for p in others if fold(answer) not in fold(p["text"]))


# ---------------------------------------------------------------- build
def build(per_set: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    pairs: list[dict] = []
    used: Counter = Counter()
    for tag, name in SETS.items():
        corpus, questions = load(name)
        grams = {pid: bigrams(fold(p["text"])) for pid, p in corpus.items()}
        pool_ids = sorted(corpus)
        rng.shuffle(pool_ids)
        pools: dict[str, dict[str, list[str]]] = {"name": {}, "place": {}}
        for pid in pool_ids[:300]:
            text = corpus[pid]["text"]
            for a, b, kind in names_by_tag(text):
                pools[kind].setdefault(corpus[pid]["title"], []).append(text[a:b])
        by_kind: dict[str, list[tuple[str, str]]] = {}
        for q in questions:
            for a in q["answers"][:1]:
                by_kind.setdefault(question_kind(q["question"]), []).append(
                    (corpus[q["gold_ids"][0]]["title"], a))
        order = list(questions)
        rng.shuffle(order)
        seen: set[str] = set()
        made = 0
        for q in order:
            if made >= per_set:
                break
            pid = q["gold_ids"][0]
            if pid in seen:
                continue
            gold = corpus[pid]
            found = answer_sentence(gold["text"], q["answers"])
            if not found:
                continue
            seen.add(pid)
            made += 1
            sent, answer = found
            gold_folded = fold(gold["text"])
            base = {"qid": q["qid"], "source": tag}

            def emit(kind: str, sentence: str, passage: dict, supported: bool, note: str = "",
                     base: dict = base) -> None:
                pairs.append({**base, "kind": kind, "supported": supported,
                              "sentence": sentence, "passage_id": passage["id"], "note": note})

            emit("true", sent, gold, True)
            para = paraphrase(sent, answer, rng)
            if para:
                emit("paraphrase_true", para[0], gold, True, para[1])
            other = wrong_passage(sent, answer, gold, corpus, grams)
            emit("wrong_passage", sent, other, False, other["title"])
            options = {}
            if (changed := change_number(sent, rng)):
                options["number"] = changed
            for kind in ("name", "place"):
                pool = [n for title, names in sorted(pools[kind].items())
                        if title != gold["title"] for n in names]
                if (changed := change_name(sent, kind, pool, gold_folded, rng)):
                    options[kind] = changed
            if (changed := negate(sent)):
                options["negation"] = changed
            cands = [a for title, a in by_kind.get(question_kind(q["question"]), [])
                     if title != gold["title"]]
            if (changed := swap_answer(sent, answer, cands, gold_folded, rng)):
                options["answer_swap"] = changed
            if options:
                kind = min(options, key=lambda k: (used[k], NEGATIVE_KINDS.index(k)))
                used[kind] += 1
                emit(kind, options[kind][0], gold, False, options[kind][1])
            stated = answer_statement(q["question"], answer)
            if stated:
                emit("qa_true", stated, gold, True, q["question"])
                for _ in range(50):
                    new = rng.choice(cands) if cands else ""
                    if new and new != answer and fold(new) not in gold_folded and len(new) <= 20:
                        wrong = answer_statement(q["question"], new)
                        if wrong:
                            emit("qa_swap", wrong, gold, False, f"{answer}->{new}")
                        break
    rng.shuffle(pairs)
    for i, p in enumerate(pairs):
        p["id"] = i
    return pairs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--per-set", type=int, default=100, help="true sentences per question set")
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--out", type=Path, default=ROOT / "bench/data/verify_pairs.jsonl")
    args = ap.parse_args()
    pairs = build(args.per_set, args.seed)
    with open(args.out, "w", encoding="utf-8") as f:
        for p in pairs:
            f.write(json.dumps({"id": p.pop("id"), **p}, ensure_ascii=False) + "\n")
    kinds = Counter(p["kind"] for p in pairs)
    supported = sum(p["supported"] for p in pairs)
    print(f"{len(pairs)} pairs, {supported} supported -> {args.out}")
    print(", ".join(f"{k} {n}" for k, n in sorted(kinds.items())))


if __name__ == "__main__":
    main()
