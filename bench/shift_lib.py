"""Helpers for bench/shift_questions.py: normalisation, collections, the word lists in
bench/data/shifted/gazetteer.json, the extractors (places, persons, organisations, titles) and the
constraint spans of a question, and rule (a). Deterministic: sorted iteration, no model."""

from __future__ import annotations

import collections
import json
import re
import unicodedata
from pathlib import Path

import jieba
import jieba.posseg as pseg
import opencc

jieba.setLogLevel(60)

GAZETTEER_PATH = Path(__file__).resolve().parent / "data" / "shifted" / "gazetteer.json"
_CC = opencc.OpenCC("t2s")


# ---------------------------------------------------------------- normalisation

def cc(s: str) -> str:
    out = _CC.convert(s)
    if len(out) != len(s):  # never seen on these sets; keep positions safe anyway
        out = "".join(_CC.convert(ch) if len(_CC.convert(ch)) == 1 else ch for ch in s)
    return out


def pnorm(s: str) -> str:
    """Length-preserving normalisation (per-char NFKC where it keeps length, t2s, lower)."""
    chars = []
    for ch in s:
        n = unicodedata.normalize("NFKC", ch)
        chars.append(n if len(n) == 1 else ch)
    return cc("".join(chars)).lower()


def norm(s: str) -> str:
    """Comparison form (as score.py): NFKC, t2s, no whitespace, lower."""
    return re.sub(r"\s+", "", cc(unicodedata.normalize("NFKC", s))).lower()


HAN = r"\u4e00-\u9fff"
CN_DIG = "零〇一二三四五六七八九"


def cn2int(s: str):
    if s.isdigit():
        return int(s)
    if s == "十":
        return 10
    if re.fullmatch(f"[{CN_DIG}两]", s):
        return {"两": 2}.get(s, CN_DIG.index(s) - (1 if CN_DIG.index(s) > 0 else 0))
    m = re.fullmatch(f"([{CN_DIG}])?十([{CN_DIG}])?", s)
    if m:
        t = 1 if not m.group(1) else CN_DIG.index(m.group(1)) - 1
        u = 0 if not m.group(2) else CN_DIG.index(m.group(2)) - 1
        return t * 10 + u
    return None


def int2cn(n: int) -> str:
    d = "一二三四五六七八九"
    if n < 10:
        return d[n - 1]
    if n == 10:
        return "十"
    if n < 20:
        return "十" + d[n - 11]
    t, u = divmod(n, 10)
    return d[t - 1] + "十" + (d[u - 1] if u else "")


# ---------------------------------------------------------------- data

class Collection:
    """Paragraphs of one set; article = title (or the paragraph id when titles are empty)."""

    def __init__(self, name: str, paras: list[dict]):
        self.name = name
        self.paras = paras
        for p in paras:
            p["article"] = p["title"] or p["id"]
            p["ptext"] = pnorm(p["text"])
            p["ntext"] = norm(p["text"])
        self.by_id = {p["id"]: p for p in paras}
        self.articles = collections.defaultdict(list)
        for p in paras:
            self.articles[p["article"]].append(p)
        self.titles = {norm(p["title"]) for p in paras if p["title"]}
        self._cache: dict[str, list] = {}

    def containing(self, value: str) -> list[dict]:
        v = norm(value)
        if v not in self._cache:
            if re.fullmatch(r"[0-9.]+", v):
                rx = re.compile(r"(?<![0-9.])" + re.escape(v) + r"(?![0-9])")
                self._cache[v] = [p for p in self.paras if rx.search(p["ntext"])]
            else:
                self._cache[v] = [p for p in self.paras if v in p["ntext"]]
        return self._cache[v]


def load_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]


# ---------------------------------------------------------------- gazetteers

_GAZ = json.loads(GAZETTEER_PATH.read_text(encoding="utf-8"))

COUNTRIES = set(_GAZ["countries"])
PROVINCES = set(_GAZ["provinces"])
PROVINCES |= {p + "省" for p in PROVINCES}
SARS = {"香港", "澳门"}
CITIES = set(_GAZ["cities"])
CITIES |= {c + "市" for c in CITIES}
NO_SHIFT_PLACES = set(_GAZ["no_shift_places"])
PLACE_SUFFIX = ["自治区", "自治州", "自治县", "省", "市", "县", "区", "镇", "乡", "村",
                "州", "岛"]
GENERIC_PLACE_PREFIX = set(_GAZ["generic_place_prefix"])
SURNAMES = set(_GAZ["surnames"])
COMPOUND_SURNAMES = set(_GAZ["compound_surnames"])
ORG_SUFFIX = list(_GAZ["org_suffix"])
TITLE_TYPES = [(t, list(kws)) for t, kws in _GAZ["title_types"]]
TITLE_SUFFIX_TYPES = [(t, tuple(sufs)) for t, sufs in _GAZ["title_suffix_types"]]


def title_type(surface: str, contexts: list[str]) -> str:
    s = norm(surface)
    for t, sufs in TITLE_SUFFIX_TYPES:
        if s.endswith(sufs):
            return t
    votes = collections.Counter()
    for ctx in contexts:
        for t, kws in TITLE_TYPES:
            if any(k.lower() in ctx for k in kws):
                votes[t] += 1
                break
    return votes.most_common(1)[0][0] if votes else "unknown"


def place_class(word: str) -> str | None:
    w = word
    if w in NO_SHIFT_PLACES or len(w) < 2:
        return None
    if w in COUNTRIES:
        return "country"
    if w in PROVINCES:
        return "province"
    if w in SARS:
        return "sar"
    if w in CITIES:
        return "city"
    for suf in PLACE_SUFFIX:
        if w.endswith(suf):
            prefix = w[:-len(suf)]
            if (len(prefix) < 2 or prefix in GENERIC_PLACE_PREFIX
                    or not re.fullmatch(f"[{HAN}]+", prefix)):
                return None
            return {"自治区": "province", "自治州": "州", "自治县": "县"}.get(suf, suf)
    return None


LISTED_PLACE = ("country", "province", "sar", "city")
PLACE_PREP = set(_GAZ["place_prep"])


def place_context_ok(tokens: list[tuple[str, str]], i: int) -> bool:
    """The place stands alone in the question (not the first word of a longer name:
    美国特勤局, 缅甸坡鹿)."""
    if i + 1 >= len(tokens):
        return True
    w, f = tokens[i + 1]
    if not re.match(f"[{HAN}A-Za-z0-9]", w):
        return True
    if (f[:1] in ("u", "p", "v", "r", "f", "d", "c", "m", "q")
            or w[0] in "的哪什何多之与和及或首境内外各全"):
        return True
    return i > 0 and tokens[i - 1][0] in PLACE_PREP


PERSON_AFTER = re.compile(r"(（[0-9]|\([0-9]|（生|，?字|" + "|".join(_GAZ["person_after"]) + ")")
PERSON_BEFORE = re.compile("(" + "|".join(_GAZ["person_before"]) + ")$")
PERSON_STOP = set(_GAZ["person_stop"])
PERSON_BAD_END = tuple("军氏王帝朝国族人部派党")


def person_form(word: str) -> str | None:
    if re.fullmatch(f"[{HAN}]{{1,8}}(?:[·‧・•][{HAN}]{{1,10}})+", word):
        return "translit"
    if (not re.fullmatch(f"[{HAN}]{{2,4}}", word) or word in PERSON_STOP
            or word.endswith(PERSON_BAD_END)):
        return None
    if word[:2] in COMPOUND_SURNAMES and len(word) in (3, 4):
        return "han"
    if word[0] in SURNAMES and len(word) in (2, 3):
        return "han"
    return None


def person_ok(word: str, evidence: int) -> bool:
    """jieba tags many common words nr (明白, 智慧, 卫星): dictionary words need to be rare,
    guessed words need more person-like contexts."""
    freq = jieba.dt.FREQ.get(word)
    if freq is None or freq == 0:
        return evidence >= (2 if len(word) >= 3 else 3)
    return freq < 60 and evidence >= 1


def person_evidence(ptext: str, name: str) -> int:
    n = 0
    for m in re.finditer(re.escape(name), ptext):
        if (PERSON_AFTER.match(ptext, m.end())
                or PERSON_BEFORE.search(ptext[max(0, m.start() - 4):m.start()])):
            n += 1
    return n


GENERIC_ORG_PREFIX = set(_GAZ["generic_org_prefix"])


def org_class(word: str) -> str | None:
    for suf in ORG_SUFFIX:
        if (word.endswith(suf) and len(word) >= len(suf) + 2
                and re.fullmatch(f"[{HAN}A-Za-z0-9]+", word)):
            prefix = word[:-len(suf)]
            if (prefix in GENERIC_ORG_PREFIX or prefix in COUNTRIES or prefix in CITIES
                    or prefix in PROVINCES):
                return None
            return suf
    return None


NAME_STOP = set(_GAZ["name_stop"])
DOTS = "·‧・•"


def _common(tok) -> bool:
    """A word that cannot be part of a transliterated name: common word or a function/verb
    word."""
    w, f = tok.word, tok.flag
    freq = jieba.dt.FREQ.get(w) or 0
    return ((len(w) >= 2 and (freq >= 500 or (f == "n" and freq >= 10)))
            or f[:1] in ("p", "v", "d", "c", "u", "r", "f", "m", "q", "t"))


def _inner_word(part: str) -> bool:
    """A name part that holds an ordinary word (南齐书·列传, 阁楼‧春秋茶室, 此雇用麦可) is not a
    person."""
    for t in pseg.cut(part):
        if (len(t.word) >= 2 and t.flag not in ("nr", "nrt", "ns", "nz", "nrfg")
                and (jieba.dt.FREQ.get(t.word) or 0) >= 50):
            return True
        if t.flag[:1] in ("v", "p", "c", "u") and len(t.word) >= 2:
            return True
    return False


def _ishan(ch: str) -> bool:
    return bool(re.match(f"[{HAN}]", ch))


def translit_spans(ptext: str) -> list[tuple[int, int]]:
    """Transliterated names (威廉·琼斯). An outer part runs to a function character, a non-Han
    character or a common word (选手皮特·山普拉斯因, 维勒证实了); when none is found within 6
    characters the name is skipped (its boundary is unknown)."""
    spans = []
    n = len(ptext)
    i = 0
    while i < n:
        if ptext[i] not in DOTS:
            i += 1
            continue
        a = i
        while a > 0 and _ishan(ptext[a - 1]) and ptext[a - 1] not in NAME_STOP and i - a < 6:
            a -= 1
        bounded = a == 0 or not _ishan(ptext[a - 1]) or ptext[a - 1] in NAME_STOP
        words = list(pseg.cut(ptext[a:i]))
        while len(words) > 1 and _common(words[0]):
            a += len(words.pop(0).word)
            bounded = True
        ok = bounded and 2 <= i - a <= 5
        j = i
        while True:
            k = j + 1
            while k < n and _ishan(ptext[k]) and ptext[k] not in NAME_STOP and k - j - 1 < 7:
                k += 1
            part = k - j - 1
            if k < n and ptext[k] in DOTS and 1 <= part <= 6:
                j = k
                continue
            bounded = (k >= n or ptext[k] in NAME_STOP
                       or not re.match(f"[{HAN}A-Za-z0-9\\-–－]", ptext[k]))
            words = list(pseg.cut(ptext[j + 1:k]))
            while len(words) > 1 and _common(words[-1]):
                k -= len(words.pop().word)
                bounded = True
            ok = ok and bounded and 2 <= k - j - 1 <= 4
            break
        if ok and not any(_inner_word(part) for part in re.split(f"[{DOTS}]", ptext[a:k])):
            spans.append((a, k))
        i = k + 1
    return spans


TITLE_RX = re.compile(r"《([^《》]{2,30})》")


class Gazetteer:
    """Named things found in a collection, with the paragraphs they occur in (by jieba tags)."""

    def __init__(self, col: Collection):
        self.col = col
        self.places = collections.defaultdict(dict)   # class -> {surface: count}
        self.persons = collections.defaultdict(dict)  # form -> {surface: count}
        self.orgs = collections.defaultdict(dict)     # suffix -> {surface: count}
        self.title_ctx = collections.defaultdict(list)
        self.title_surface = {}
        person_tags = collections.Counter()
        person_ev = collections.Counter()
        for p in col.paras:
            text, ptext = p["text"], p["ptext"]
            pos = 0
            for w, flag in pseg.cut(ptext):
                start, pos = pos, pos + len(w)
                surf = text[start:pos]
                c = place_class(w)
                if c and (c in LISTED_PLACE or flag == "ns"):
                    self.places[c][surf] = self.places[c].get(surf, 0) + 1
                if flag in ("nr", "nrt") and person_form(w) == "han" and place_class(w) is None \
                        and ptext[start - 1:start] not in "·‧・•" \
                        and ptext[pos:pos + 1] not in "·‧・•":
                    person_tags[surf] += 1
                oc = org_class(w) if flag == "nt" else None
                if oc:
                    self.orgs[oc][surf] = self.orgs[oc].get(surf, 0) + 1
            for a, b in translit_spans(ptext):
                surf = text[a:b]
                self.persons["translit"][surf] = self.persons["translit"].get(surf, 0) + 1
            for m in TITLE_RX.finditer(ptext):
                surf = text[m.start(1):m.end(1)]
                key = norm(surf)
                self.title_surface.setdefault(key, surf)
                self.title_ctx[key].append(ptext[max(0, m.start() - 8):m.start()] + "|" +
                                           ptext[m.end():m.end() + 8])
        for surf in person_tags:
            ev = sum(person_evidence(p["ptext"], pnorm(surf)) for p in col.containing(surf))
            if person_ok(pnorm(surf), ev):
                person_ev[surf] = ev
                self.persons["han"][surf] = person_tags[surf]
        self.person_ev = person_ev
        self.title_types = {k: title_type(self.title_surface[k], v)
                            for k, v in self.title_ctx.items()}


# ---------------------------------------------------------------- constraint extraction

YEAR_RX = re.compile(r"(?<![0-9.])(1[0-9]{3}|20[0-9]{2})(?![0-9])"
                     r"(?!\s*(?:年代|多|余|个|人|万|米|公里|元|号|公尺|名))")
RANGE_CH = "-–—－~～∼/至到"


def is_year_use(text: str, m) -> bool:
    """A 4-digit number used as a year (not part of a range, a frequency, a height ...)."""
    a, b = m.start(1), m.end(1)
    before, after = text[a - 1:a] if a else "", text[b:b + 1]
    if after in RANGE_CH or before in RANGE_CH or text[max(0, a - 2):a] in ("年至", "年到") \
            or text[b:b + 2] in ("年至", "年到") or text[b:b + 3] in ("年-", "年–", "年－", "年~"):
        return False
    if after == "年":
        return True
    y = int(m.group(1))
    return (1900 <= y <= 2025 and bool(re.fullmatch(f"[{HAN}A-Za-z ]", before or "x"))
            and not re.match(f"[{HAN}0-9]", after or ""))


MD_RX = re.compile(r"(?<![0-9])([0-9]{1,2})月([0-9]{1,2})日")
ORD_RX = re.compile(f"第([0-9]+|[{CN_DIG}十两]+)"
                    "(届|季|代|任|版|期|轮|场|卷|条|款|回|局|节|课|阶段|级|批|号|名|位|座|部|集|章|次|"
                    "世|军|师|团)")
NUMSUF_RX = re.compile(r"(?<![0-9.])([0-9]+)(号线|号公路|号|路公交|世纪|线|型|系列|版)")
NAMEDIGIT_RX = re.compile(f"([{HAN}A-Za-z]{{2,}})([0-9]{{1,4}})"
                          "(?=[》」』\"“”'：:，,。？?、 ]|$)")


def find_constraints(q: str, qp: str, gold_norm: str, gaz: Gazetteer) -> list[dict]:
    """Spans in the question (positions in qp == positions in q) that constrain the answer."""
    out = []
    years = [m for m in YEAR_RX.finditer(qp) if is_year_use(qp, m)]
    for m in years:
        y = m.group(1)
        if y in gold_norm:
            out.append({"kind": "year", "sub": "year", "start": m.start(1), "end": m.end(1),
                        "value": y})
    if not years:
        for m in MD_RX.finditer(qp):
            if norm(m.group(0)) in gold_norm:
                out.append({"kind": "year", "sub": "date", "start": m.start(), "end": m.end(),
                            "value": m.group(0)})
    for m in ORD_RX.finditer(qp):
        num, unit = m.group(1), m.group(2)
        n = cn2int(num)
        if n is None or (n == 1 and unit in ("次", "个", "位", "名", "部", "座", "集", "章")):
            continue
        if norm(m.group(0)) in gold_norm:
            out.append({"kind": "number", "sub": "ordinal", "start": m.start(1), "end": m.end(1),
                        "value": num, "n": n, "pre": "第", "post": unit,
                        "cn": not num.isdigit()})
    for m in NUMSUF_RX.finditer(qp):
        if any(c["start"] <= m.start(1) < c["end"] for c in out):
            continue
        if norm(m.group(0)) in gold_norm:
            pre = qp[max(0, m.start() - 4):m.start()]
            out.append({"kind": "number", "sub": "suffix", "start": m.start(1), "end": m.end(1),
                        "value": m.group(1), "n": int(m.group(1)), "pre": pre,
                        "post": m.group(2), "cn": False})
    for m in NAMEDIGIT_RX.finditer(qp):
        if any(c["start"] <= m.start(2) < c["end"] for c in out) or YEAR_RX.fullmatch(m.group(2)):
            continue
        if norm(m.group(0)) in gold_norm:
            out.append({"kind": "number", "sub": "name", "start": m.start(2), "end": m.end(2),
                        "value": m.group(2), "n": int(m.group(2)), "pre": m.group(1)[-4:],
                        "post": "", "cn": False})
    # titles
    for m in TITLE_RX.finditer(qp):
        key = norm(m.group(1))
        if key in gold_norm and key in gaz.title_types:
            out.append({"kind": "entity", "sub": "title", "start": m.start(1), "end": m.end(1),
                        "value": m.group(1), "cls": gaz.title_types[key]})
    # jieba words: places, persons, orgs
    tokens = [(t.word, t.flag) for t in pseg.cut(qp)]
    pos = 0
    for i, (w, flag) in enumerate(tokens):
        start, pos = pos, pos + len(w)
        if any(c["start"] < pos and start < c["end"] for c in out):
            continue
        if norm(w) not in gold_norm:
            continue
        pc = place_class(w)
        if pc and (pc in LISTED_PLACE or flag == "ns"):
            if place_context_ok(tokens, i):
                out.append({"kind": "place", "sub": pc, "start": start, "end": pos, "value": w,
                            "cls": pc})
            continue
        if (flag in ("nr", "nrt") and w in gaz.person_ev
                and not any(ch in DOTS for ch in qp[max(0, start - 5):pos + 5])):
            out.append({"kind": "entity", "sub": "person", "start": start, "end": pos,
                        "value": w, "cls": "han"})
            continue
        oc = org_class(w) if flag == "nt" else None
        if oc:
            out.append({"kind": "entity", "sub": "org", "start": start, "end": pos, "value": w,
                        "cls": oc})
    for a, b in translit_spans(qp):
        if any(c["start"] < b and a < c["end"] for c in out):
            continue
        if norm(qp[a:b]) in gold_norm:
            out.append({"kind": "entity", "sub": "person", "start": a, "end": b,
                        "value": qp[a:b], "cls": "translit"})
    return out


# ---------------------------------------------------------------- rule (a)

def passes_rule_a(col: Collection, new_value: str, answers: list[str],
                  extra: list[Collection] = ()) -> bool:
    ans = [norm(a) for a in answers if norm(a)]
    for c in (col, *extra):
        for p in c.containing(new_value):
            if any(a in p["ntext"] for a in ans):
                return False
    return True


def passes_rule_a_all(col: Collection, terms: list[str], answers: list[str],
                      extra: list[Collection] = ()) -> bool:
    ans = [norm(a) for a in answers if norm(a)]
    for c in (col, *extra):
        sets = [set(id(p) for p in c.containing(t)) for t in terms]
        for p in c.paras:
            if all(id(p) in s for s in sets) and any(a in p["ntext"] for a in ans):
                return False
    return True
