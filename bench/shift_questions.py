"""Constraint-shifted unanswerable questions for refusal testing.

Takes answerable questions (CMRC 2018 dev, DRCD dev, DuReader-robust demo, dev_qa over the seed
articles) and changes ONE constraint -- a year/date, a place, an entity (person, organisation,
work title), a number, or (dev_qa only) the kind of quantity asked -- so that the answer is absent
from the collection while every other word still matches the gold paragraph.

Stages (see bench/data/shifted/README.md):
  1. mechanical candidates (deterministic: fixed seed, no model): constraint spans are found in
     the question, a same-kind replacement is taken from the gold article or the collection, and
     rule (a) is enforced: no gold answer may occur in any paragraph that contains the new value;
  2. a pool per set (round-robin over shift kinds, at most one question per gold paragraph and
     three per article) is written to candidates.jsonl and review_<set>.txt;
  3. the reading decisions in decisions.jsonl ({cand_id, keep, checked, reason}) select the kept
     lines, written to <set>.jsonl ordered so that even and odd lines are two similar halves.
DuReader queries are too short for the extractors and dev_qa has 16 answerable questions, so their
shifts are written by hand in manual_shifts.jsonl; the script applies them and runs rule (a) on them
(DuReader against its own corpus plus the CMRC and DRCD paragraphs it is mixed with).

Usage:
  python3 bench/shift_questions.py            # candidates + review files + outputs
  python3 bench/shift_questions.py --check    # also fail if a pool candidate has no decision
  python3 bench/shift_questions.py --batch 2 [--check]
      # batch 2, a blind held-out CMRC/DRCD set in bench/data/shifted/batch2/: another seed, and
      # only original questions that no batch-1 candidate used

Needs opencc-python-reimplemented and jieba (both in the project venv). The extractors and
normalisation are in bench/shift_lib.py, the word lists in bench/data/shifted/gazetteer.json.
"""

from __future__ import annotations

import argparse
import collections
import json
import random
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from shift_lib import (
    DOTS,
    LISTED_PLACE,
    MD_RX,
    YEAR_RX,
    Collection,
    Gazetteer,
    find_constraints,
    int2cn,
    load_jsonl,
    norm,
    passes_rule_a,
    passes_rule_a_all,
    pnorm,
)

SEED = 20240611
SEED_BATCH2 = 20250917
HERE = Path(__file__).resolve().parent
OUT = HERE / "data" / "shifted"
OUT_BATCH2 = OUT / "batch2"
SHARED = Path("/work/shared")
EXT = SHARED / "eval" / "external"

POOL_SIZE = {"cmrc": 240, "drcd": 240}
# batch 2 (a blind held-out set). Once the batch-1 questions are out, CMRC has 216 candidates at
# one question per gold paragraph (its articles are single paragraphs), so a second pass allows a
# second question from a paragraph already in the pool; both CMRC passes are taken whole. DRCD
# keeps one question per paragraph and takes the first 320.
POOL_SIZE_BATCH2 = {"cmrc": 1000, "drcd": 320}
PARA_CAP_BATCH2 = {"cmrc": 2, "drcd": 1}
ARTICLE_CAP = 3


def load_external(prefix: str, name: str):
    corpus = Collection(name, load_jsonl(EXT / f"{prefix}.corpus.jsonl"))
    qa = load_jsonl(EXT / f"{prefix}.qa.jsonl")
    return corpus, qa


def load_seeds() -> Collection:
    paras = []
    for f in sorted((SHARED / "seeds").glob("*.txt")):
        lines = [ln.strip() for ln in f.read_text(encoding="utf-8").splitlines()]
        for i, ln in enumerate(x for x in lines if x):
            paras.append({"id": f"{f.stem}#{i}", "title": f.stem, "text": ln})
    return Collection("dev", paras)


# ---------------------------------------------------------------- replacement

def options_for(cons: dict, q: dict, col: Collection, gaz: Gazetteer,
                rng: random.Random) -> list[tuple[str, str]]:
    """Ordered replacement options (value in the source script, origin) for one constraint."""
    gold = col.by_id[q["gold_ids"][0]]
    art_paras = col.articles[gold["article"]]
    art_text = "\n".join(p["ptext"] for p in art_paras)
    kind, val = cons["kind"], cons["value"]
    opts: list[tuple[str, str]] = []
    if kind == "year" and cons["sub"] == "year":
        y = int(val)
        in_art = sorted({int(m.group(1)) for m in YEAR_RX.finditer(art_text)} - {y})
        in_art = [v for v in in_art if abs(v - y) <= 30]
        rng.shuffle(in_art)
        in_art.sort(key=lambda v: abs(v - y))
        near = [v for v in range(y - 10, y + 11) if v != y and v not in in_art and v <= 2018]
        rng.shuffle(near)
        near.sort(key=lambda v: abs(v - y))
        opts = [(str(v), "doc") for v in in_art] + [(str(v), "col") for v in near]
    elif kind == "year":  # month-day date
        found = []
        for m in MD_RX.finditer(art_text):
            if m.group(0) != val and m.group(0) not in found:
                found.append(m.group(0))
        rng.shuffle(found)
        mo, d = (int(x) for x in MD_RX.fullmatch(val).groups())
        alt = [f"{mo}月{dd}日" for dd in (d - 2, d - 1, d + 1, d + 2) if 1 <= dd <= 28 and dd != d]
        rng.shuffle(alt)
        opts = [(v, "doc") for v in found] + [(v, "col") for v in alt]
    elif kind == "number":
        n, pre, post = cons["n"], cons["pre"], cons["post"]
        alts = [v for v in range(max(1, n - 5), n + 6) if v != n]
        rng.shuffle(alts)
        alts.sort(key=lambda v: abs(v - n))
        sub, use_cn = cons["sub"], cons["cn"]

        def fmt(v: int) -> str:
            return int2cn(v) if use_cn else str(v)

        def key(v: int) -> str:
            if sub == "name":
                return norm(pre + str(v))
            if sub == "ordinal":
                return norm("第" + fmt(v) + post)
            return norm(str(v) + post)

        in_art = [v for v in alts if key(v) in norm(art_text)]
        in_col = [v for v in alts if v not in in_art and col.containing(key(v))]
        rest = [v for v in alts if v not in in_art and v not in in_col]
        opts = ([(fmt(v), "doc") for v in in_art] + [(fmt(v), "col") for v in in_col]
                + [(fmt(v), "none") for v in rest])
        if cons["sub"] in ("suffix", "name") and cons["post"] in ("世纪",):
            opts = [o for o in opts if 1 <= int(o[0]) <= 21]
    else:
        if kind == "place":
            pool = gaz.places.get(cons["cls"], {})
        elif cons["sub"] == "person":
            pool = gaz.persons.get(cons["cls"], {})
        elif cons["sub"] == "org":
            pool = gaz.orgs.get(cons["cls"], {})
        else:  # title
            pool = {gaz.title_surface[k]: 1 for k, t in gaz.title_types.items() if t == cons["cls"]}
        vn = norm(val)
        doc, other = [], []
        for surf in sorted(pool):
            sn = norm(surf)
            if not sn or sn == vn or sn in vn or vn in sn or sn in col.titles:
                continue
            if cons["sub"] == "person" and cons["cls"] == "han" and sn[0] == vn[0]:
                continue  # same surname: likely a relative or the same person's other name
            if cons["sub"] == "person" and cons["cls"] == "translit" and \
                    re.split(f"[{DOTS}]", sn)[-1] == re.split(f"[{DOTS}]", vn)[-1]:
                continue  # same family name: another spelling of the same person, or a relative
            if any(sn in norm(a) or norm(a) in sn for a in q["answers"]):
                continue
            if sn in norm(q["question"]):
                continue
            paras = col.containing(surf)
            if not paras:
                continue
            if any(p["article"] == gold["article"] for p in paras):
                doc.append(surf)
            elif kind == "place" and cons["cls"] in LISTED_PLACE:
                if len(paras) >= 3:  # well-known places: a plausible question, not an exotic one
                    other.append(surf)
            elif len(paras) <= 4:
                other.append(surf)
        rng.shuffle(doc)
        rng.shuffle(other)
        opts = [(s, "doc") for s in doc] + [(s, "col") for s in other]
    return opts


QUESTION_GRAMS = {"什么", "哪个", "哪一", "多少", "是什", "为什", "甚么", "哪些", "是哪", "是谁",
                  "的是", "么时", "时候", "什么时"}


def _grams(question: str, skip: str) -> set[str]:
    qn = norm(question).replace(norm(skip), "")
    qn = re.sub(r"[？?，,。、“”\"《》（）()：:「」]", "", qn)
    return {qn[i:i + 2] for i in range(len(qn) - 1)} - QUESTION_GRAMS


def overlap_score(question: str, ntext: str, skip: str) -> float:
    grams = _grams(question, skip)
    return sum(1 for g in grams if g in ntext) / max(1, len(grams))


def snippet(text: str, value: str, width: int = 70) -> str:
    t = pnorm(text)
    i = t.find(pnorm(value))
    if i < 0:
        nt = text
        return nt[:2 * width]
    a, b = max(0, i - width), min(len(text), i + len(value) + width)
    return (("…" if a else "") + text[a:i] + "【" + text[i:i + len(value)] + "】"
            + text[i + len(value):b] + ("…" if b < len(text) else ""))


def make_candidate(set_name: str, q: dict, cons: dict, new: str, origin: str,
                   col: Collection) -> dict:
    qtext = q["question"]
    shifted = qtext[:cons["start"]] + new + qtext[cons["end"]:]
    gold = col.by_id[q["gold_ids"][0]]
    art = gold["article"]
    paras = col.containing(new)
    in_doc = any(p["article"] == art for p in paras)
    kind = cons["kind"]
    frm = qtext[cons["start"]:cons["end"]]
    if kind == "number" and cons["sub"] == "ordinal":
        frm, new_show = "第" + frm + cons["post"], "第" + new + cons["post"]
    elif kind == "number" and cons["sub"] == "suffix":
        frm, new_show = frm + cons["post"], new + cons["post"]
    else:
        new_show = new
    # for numbers, in_doc/in_collection refer to the shifted phrase (第5届, 3号线), not the bare
    # digit
    if kind == "number":
        probe = new_show if cons["sub"] != "name" else cons["pre"] + new
        paras = col.containing(probe)
        in_doc = any(p["article"] == art for p in paras)
    return {
        "cand_id": f"{set_name}:{q['qid']}:{kind}",
        "set": set_name,
        "qid": f"{q['qid']}-shift-{kind}",
        "question": shifted,
        "original_qid": q["qid"],
        "original_question": qtext,
        "answers": q["answers"],
        "shift": {"kind": kind, "sub": cons["sub"], "cls": cons.get("cls"), "from": frm,
                  "to": new_show,
                  "to_in_gold_doc": in_doc, "to_in_collection": bool(paras)},
        "gold_ids": q["gold_ids"],
        "article": art,
        "origin": origin,
    }


def review_block(c: dict, col: Collection, extra: list[Collection] = ()) -> str:
    s = c["shift"]
    probe = s["to"]
    lines = [f"[{c['cand_id']}] {s['kind']}/{s['sub']}/{s['cls']}  {s['from']} → {s['to']}  "
             f"(doc={s['to_in_gold_doc']} col={s['to_in_collection']})",
             f"  Q: {c['original_question']}   A: {' | '.join(c['answers'][:2])}",
             f"  S: {c['question']}"]
    if c["origin"] != "manual":
        gold = col.by_id[c["gold_ids"][0]]
        lines.append("  gold: " + snippet(gold["text"], s["from"], 45))
    paras = list(col.containing(probe))
    for e in extra:
        paras += e.containing(probe)
    scored = sorted(((p["article"] != c["article"],
                      -overlap_score(c["question"], p["ntext"], probe), p["id"], p)
                     for p in paras), key=lambda x: x[:3])
    shown = [x for x in scored if not x[0] or -x[1] >= 0.3][:3]
    for same, neg, _, p in shown:
        tag = "SAME-ART" if not same else (p["title"] or p["id"])[:12]
        lines.append(f"  new@{p['id']}({tag},{-neg:.2f}): " + snippet(p["text"], probe, 55))
    if len(paras) > len(shown):
        best = -scored[len(shown)][1] if len(scored) > len(shown) else 0
        lines.append(f"  (+{len(paras) - len(shown)} other paragraphs contain it, "
                     f"best overlap {best:.2f})")
    return "\n".join(lines)


# ---------------------------------------------------------------- pools

KIND_CYCLE = ["year", "place", "entity:title", "number", "year", "entity:person", "place", "year",
              "entity:org", "entity:person", "place", "number"]


def build_pool(set_name: str, col: Collection, qa: list[dict], gaz: Gazetteer,
               size: int, seed: int = SEED, exclude_q: frozenset[str] = frozenset(),
               used_before: tuple[set[str], set[str]] | None = None,
               para_cap: int = 1) -> tuple[list, dict]:
    """The first `size` candidates, kinds drawn round-robin. Batch 2 passes its own seed, the
    original qids to leave out (every batch-1 candidate) and the gold paragraphs and articles
    batch 1 used, which then come last in each kind's queue. With para_cap 2, once every queue
    is exhausted at one question per gold paragraph, a second round-robin pass appends questions
    whose gold paragraph is already in the pool once (the first pass is unchanged)."""
    rng = random.Random(f"{seed}:{set_name}")
    order = list(qa)
    rng.shuffle(order)
    queues = collections.defaultdict(list)
    stats = collections.Counter()
    for q in order:
        if len(q["gold_ids"]) != 1 or q["gold_ids"][0] not in col.by_id:
            continue
        if q["qid"] in exclude_q:
            stats["excluded_batch1_question"] += 1
            continue
        gold = col.by_id[q["gold_ids"][0]]
        if not any(norm(a) in gold["ntext"] for a in q["answers"]):
            continue
        qp = pnorm(q["question"])
        cons_list = find_constraints(q["question"], qp, gold["ntext"], gaz)
        seen_kinds = set()
        for cons in cons_list:
            key = cons["kind"] if cons["kind"] != "entity" else "entity:" + cons["sub"]
            if key in seen_kinds:
                continue
            qrng = random.Random(f"{seed}:{set_name}:{q['qid']}:{key}")
            for new, origin in options_for(cons, q, col, gaz, qrng):
                probe = new
                if cons["kind"] == "number":
                    probe = ("第" + new + cons["post"]) if cons["sub"] == "ordinal" else (
                        new + cons["post"] if cons["sub"] == "suffix" else cons["pre"] + new)
                if not passes_rule_a(col, probe, q["answers"]):
                    stats["rule_a_rejected_option"] += 1
                    continue
                if cons["kind"] == "year" and not passes_rule_a(col, new, q["answers"]):
                    continue
                queues[key].append(make_candidate(set_name, q, cons, new, origin, col))
                seen_kinds.add(key)
                break
    stats.update({f"questions_with_{k}": len(v) for k, v in queues.items()})
    if used_before is not None:
        # new gold paragraphs first, then new articles (stable: the shuffled order is kept)
        paras_before, arts_before = used_before
        for k, queue in queues.items():
            queue.sort(key=lambda c: (c["gold_ids"][0] in paras_before,
                                      c["article"] in arts_before))
            stats[f"queue_reusing_batch1_paragraph_{k}"] = sum(c["gold_ids"][0] in paras_before
                                                        for c in queue)
    pool, used_q, per_para, per_art = [], set(), collections.Counter(), collections.Counter()
    for cap in range(1, para_cap + 1):
        before = len(pool)
        ptr = collections.Counter()
        while len(pool) < size and any(ptr[k] < len(queues[k]) for k in KIND_CYCLE):
            for k in KIND_CYCLE:
                if len(pool) >= size:
                    break
                while ptr[k] < len(queues[k]):
                    c = queues[k][ptr[k]]
                    ptr[k] += 1
                    if (c["original_qid"] in used_q or per_para[c["gold_ids"][0]] >= cap
                            or per_art[c["article"]] >= ARTICLE_CAP):
                        continue
                    used_q.add(c["original_qid"])
                    per_para[c["gold_ids"][0]] += 1
                    per_art[c["article"]] += 1
                    pool.append(c)
                    break
        if cap > 1:
            stats[f"pass{cap}_candidates"] = len(pool) - before
    return pool, stats


# ---------------------------------------------------------------- hand-written (DuReader, dev_qa)

def load_manual() -> dict[str, list[dict]]:
    """Hand-written shifts (DuReader queries are too short for the extractors; dev_qa is tiny)."""
    rows = collections.defaultdict(list)
    path = OUT / "manual_shifts.jsonl"
    if path.exists():
        for row in load_jsonl(path):
            rows[row["set"]].append(row)
    return rows


def manual_candidates(set_name: str, table: list[dict], qa_by_id: dict, col: Collection,
                      extra: list[Collection]) -> tuple[list, collections.Counter]:
    out, stats = [], collections.Counter()
    for row in table:
        q = qa_by_id[row["qid"]]
        qtext = q["question"]
        assert row["from"] in qtext, (row, qtext)
        shifted = row.get("question") or qtext.replace(row["from"], row["to"], 1)
        answers = q.get("answers") or [a for grp in q.get("facts", []) for a in grp]
        gold_article = row.get("article") or col.by_id[q["gold_ids"][0]]["article"]
        paras = col.containing(row["to"])
        in_doc = any(p["article"] == gold_article for p in paras)
        probe = row.get("probe", row["to"])
        if isinstance(probe, list):
            # quantity-kind: paragraphs holding all these terms must not give the facts
            ok = passes_rule_a_all(col, probe, answers, extra)
        else:
            ok = passes_rule_a(col, probe, answers, extra)
        if not ok:
            stats["manual_rule_a_failed"] += 1
            print(f"rule (a) fails for manual {set_name}:{row['qid']}", file=sys.stderr)
            continue
        kind = row["kind"]
        out.append({
            "cand_id": f"{set_name}:{q['qid']}:{kind}", "set": set_name,
            "qid": f"{q['qid']}-shift-{kind}",
            "question": shifted, "original_qid": q["qid"], "original_question": qtext,
            "answers": answers,
            "shift": {"kind": kind, "sub": row.get("sub", "manual"), "cls": row.get("cls"),
                      "from": row["from"],
                      "to": row["to"], "to_in_gold_doc": in_doc, "to_in_collection": bool(paras)},
            "gold_ids": q.get("gold_ids", []), "article": gold_article, "origin": "manual",
        })
    return out, stats


# ---------------------------------------------------------------- ordering into halves

def split_halves(items: list[dict], set_name: str, seed: int = SEED) -> list[dict]:
    """Whole articles go to one half; halves balanced by shift kind; lines alternate A, B, A, B."""
    rng = random.Random(f"{seed}:{set_name}:halves")
    by_art = collections.defaultdict(list)
    for it in items:
        by_art[it["article"]].append(it)
    arts = sorted(by_art)
    rng.shuffle(arts)
    arts.sort(key=lambda a: -len(by_art[a]))
    halves = [[], []]
    kind_counts = [collections.Counter(), collections.Counter()]
    for a in arts:
        group = by_art[a]
        cost = [(sum(kind_counts[h][g["shift"]["kind"]] for g in group), len(halves[h]))
                for h in (0, 1)]
        h = min((0, 1), key=cost.__getitem__)
        halves[h].extend(group)
        for g in group:
            kind_counts[h][g["shift"]["kind"]] += 1
    ordered_halves = []
    for h in halves:
        by_kind = collections.defaultdict(list)
        for it in h:
            by_kind[it["shift"]["kind"]].append(it)
        seq = []
        kinds = sorted(by_kind, key=lambda k: -len(by_kind[k]))
        while any(by_kind.values()):
            for k in kinds:
                if by_kind[k]:
                    seq.append(by_kind[k].pop(0))
        ordered_halves.append(seq)
    a, b = ordered_halves
    out = []
    for i in range(max(len(a), len(b))):
        if i < len(a):
            out.append(a[i])
        if i < len(b):
            out.append(b[i])
    return out


def output_record(c: dict, with_gold: bool) -> dict:
    s = c["shift"]
    rec = {"qid": c["qid"], "question": c["question"], "original_qid": c["original_qid"],
           "original_question": c["original_question"],
           "shift": {"kind": s["kind"], "from": s["from"], "to": s["to"],
                     "to_in_gold_doc": s["to_in_gold_doc"],
                     "to_in_collection": s["to_in_collection"]}}
    if with_gold:
        rec["gold_ids"] = c["gold_ids"]
    rec["answerable"] = False
    rec["checked"] = "ok"
    return rec


def batch1_usage(name: str) -> tuple[frozenset[str], set[str], set[str]]:
    """Original qids, gold paragraphs and articles of set `name` that batch 1 already used:
    every candidate of its pool (read or not) and every line of its output."""
    qids, paras, arts = set(), set(), set()
    for c in load_jsonl(OUT / "candidates.jsonl"):
        if c["set"] == name:
            qids.add(c["original_qid"])
            paras.add(c["gold_ids"][0])
            arts.add(c["article"])
    for row in load_jsonl(OUT / f"{name}.jsonl"):
        qids.add(row["original_qid"])
        paras.update(row["gold_ids"])
    return frozenset(qids), paras, arts


def write_outputs(out: Path, pools: dict, stats: dict, cols: dict, seed: int,
                  check: bool) -> int:
    """candidates.jsonl, review_<set>.txt, and from decisions.jsonl the kept <set>.jsonl lines
    (in two balanced halves) and summary.json."""
    with (out / "candidates.jsonl").open("w", encoding="utf-8") as f:
        for name in pools:
            for c in pools[name]:
                f.write(json.dumps(c, ensure_ascii=False) + "\n")
    for name in pools:
        col, extra = cols[name]
        with (out / f"review_{name}.txt").open("w", encoding="utf-8") as f:
            for c in pools[name]:
                f.write(review_block(c, col, extra) + "\n\n")

    dec_path = out / "decisions.jsonl"
    decisions = {}
    if dec_path.exists():
        for d in load_jsonl(dec_path):
            decisions[d["cand_id"]] = d
    missing = 0
    summary = {}
    for name in pools:
        kept = []
        for c in pools[name]:
            d = decisions.get(c["cand_id"])
            if d is None:
                missing += 1
                continue
            if d["keep"]:
                kept.append(c)
        ordered = split_halves(kept, name, seed)
        with (out / f"{name}.jsonl").open("w", encoding="utf-8") as f:
            for c in ordered:
                f.write(json.dumps(output_record(c, name != "dev"), ensure_ascii=False) + "\n")
        kinds = collections.Counter(c["shift"]["kind"] for c in kept)
        halves = [collections.Counter(c["shift"]["kind"] for c in ordered[h::2]) for h in (0, 1)]
        summary[name] = {"pool": len(pools[name]), "kept": len(kept), "kinds": dict(kinds),
                         "to_in_gold_doc": sum(c["shift"]["to_in_gold_doc"] for c in kept),
                         "to_in_collection": sum(c["shift"]["to_in_collection"] for c in kept),
                         "even_half": dict(halves[0]), "odd_half": dict(halves[1]),
                         "mechanical": dict(stats[name])}
    (out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1) + "\n",
                                      encoding="utf-8")
    brief = ("pool", "kept", "kinds", "to_in_gold_doc", "to_in_collection")
    print(json.dumps({k: {kk: v[kk] for kk in brief} for k, v in summary.items()},
                     ensure_ascii=False))
    if missing:
        print(f"{missing} pool candidates have no decision yet", file=sys.stderr)
        if check:
            return 1
    unknown = set(decisions) - {c["cand_id"] for p in pools.values() for c in p}
    if unknown:
        print(f"{len(unknown)} decisions name no pool candidate: {sorted(unknown)[:5]}",
              file=sys.stderr)
        if check:
            return 1
    return 0


def main_batch2(check: bool) -> int:
    """Batch 2 (CMRC and DRCD only): the same rules with another seed, over original questions
    that batch 1 never used (not even as an unread or dropped candidate), preferring gold
    paragraphs and articles batch 1 did not use. Written to bench/data/shifted/batch2/."""
    OUT_BATCH2.mkdir(parents=True, exist_ok=True)
    pools, stats, cols = {}, {}, {}
    for name, prefix in (("cmrc", "cmrc2018_dev"), ("drcd", "drcd_dev")):
        col, qa = load_external(prefix, name)
        qids, paras, arts = batch1_usage(name)
        pools[name], stats[name] = build_pool(
            name, col, qa, Gazetteer(col), POOL_SIZE_BATCH2[name], seed=SEED_BATCH2,
            exclude_q=qids, used_before=(paras, arts), para_cap=PARA_CAP_BATCH2[name])
        assert not {c["original_qid"] for c in pools[name]} & qids
        cols[name] = (col, [])
    return write_outputs(OUT_BATCH2, pools, stats, cols, SEED_BATCH2, check)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--check", action="store_true",
                    help="fail when a pool candidate has no decision")
    ap.add_argument("--batch", type=int, choices=(1, 2), default=1,
                    help="1: the original sets (bench/data/shifted/); 2: the blind held-out "
                         "CMRC/DRCD batch (bench/data/shifted/batch2/)")
    args = ap.parse_args()
    if args.batch == 2:
        return main_batch2(args.check)
    OUT.mkdir(parents=True, exist_ok=True)

    cmrc, cmrc_qa = load_external("cmrc2018_dev", "cmrc")
    drcd, drcd_qa = load_external("drcd_dev", "drcd")
    dure, dure_qa = load_external("dureader_demo_train", "dureader")
    seeds = load_seeds()
    dev_qa = load_jsonl(SHARED / "eval" / "dev_qa.jsonl")

    pools, stats = {}, {}
    for name, col, qa in (("cmrc", cmrc, cmrc_qa), ("drcd", drcd, drcd_qa)):
        gaz = Gazetteer(col)
        pools[name], stats[name] = build_pool(name, col, qa, gaz, POOL_SIZE[name])
    manual = load_manual()
    pools["dureader"], stats["dureader"] = manual_candidates(
        "dureader", manual["dureader"], {q["qid"]: q for q in dure_qa}, dure, [cmrc, drcd])
    pools["dev"], stats["dev"] = manual_candidates(
        "dev", manual["dev"], {q["qid"]: q for q in dev_qa}, seeds, [])
    cols = {"cmrc": (cmrc, []), "drcd": (drcd, []), "dureader": (dure, [cmrc, drcd]),
            "dev": (seeds, [])}
    return write_outputs(OUT, pools, stats, cols, SEED, args.check)


if __name__ == "__main__":
    sys.exit(main())
