"""How well a sentence answers a question, and whether the collection answers it at all.

Two signals, both general to Chinese text:
- *coverage*: the share of the question's idf-weighted character bigrams (question words
  removed) found in the sentence or in its passage's context line (document title and main
  places: a sentence deep in an article about 丝尾红钻鱼 says 臀鳍硬棘3枚 without repeating the
  name), so the part of the question that distinguishes one sentence from another decides;
- *answer type*: a question with 多少 wants a number, 何时 a date, 谁 a name, 哪里 a place; a
  sentence without one cannot be the answer, however many words it shares.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from qa.answer.question import Question, fold
from qa.answer.sentences import Sentence
from qa.answer.trees import TreeEnsemble
from qa.text.grams import BigramStats, bigrams

# Interrogatives and particles: the form of a question, not its content.
_QWORDS = re.compile(
    r"是什么|什么样|什么|怎么样|怎么|怎样|如何|多少|几[个名户人年项次倍条家种位]?|为什么|为何|是否|"
    r"有没有|是不是|请问|分别|哪些|哪个|哪里|哪儿|哪一|哪|谁|何时|何地|何处|何种|多大|多长|多久|"
    r"多高|多远|吗|呢|么|啥|呀|吧|[?？!！。，,、]")

_DIGIT_NUM = re.compile(r"\d+(?:[.,]\d+)*\s*(?:%|％|‰)?")
_HAN_NUM = re.compile(r"[零〇一二两三四五六七八九十百千万亿半几数]+"
                      r"(?:分之[零〇一二三四五六七八九十百千]+)?"
                      r"(?=[个名户人年项次倍条家所座台辆只件位种批期届岁天月日枚元米吨亩公克斤度层"
                      r"成分秒周里座部本首篇章册场份张颗株匹头间处路区县省市对]|万|亿)")
_DYNASTY = "夏商周秦汉晋隋唐宋元明清"
_TIME = re.compile(r"\d{2,4}\s*年|\d{1,2}\s*月|\d{1,2}\s*[日号]|[一二三四五六七八九十]+世纪|"
                   r"\d+\s*世纪|\d+\s*年代|[春夏秋冬]季|[初中末]期|时期|时代|年间|年代|当年|"
                   rf"[{_DYNASTY}][代朝]|朝代|[甲乙丙丁戊己庚辛壬癸][子丑寅卯辰巳午未申酉戌亥]|"
                   r"[一二三四五六七八九十百千两\d]+\s*个?\s*(?:年|月|天|周|小时|钟头|分钟|秒)")
# 哪天 / 几月几日 asks for a day, not a year
_ASKS_DAY = re.compile(r"哪一?天|哪一?日|几号|几月几[日号]|什么日期|具体日期|哪个日子")
_DAY = re.compile(r"\d{1,2}\s*月\s*\d{1,2}\s*[日号]|\d{4}[-/.]\d{1,2}[-/.]\d{1,2}"
                  r"|[一二三四五六七八九十]+月[一二三四五六七八九十]+[日号]")


@lru_cache(maxsize=8192)
def _posseg_flags(text: str) -> tuple[tuple[str, str], ...]:
    from qa.answer.question import _posseg

    return _posseg(text)


def numbers(folded: str) -> list[str]:
    """Numbers with the character after them (4月 and 4个 are different values)."""
    out = []
    for pattern in (_DIGIT_NUM, _HAN_NUM):
        for m in pattern.finditer(folded):
            out.append(m.group(0).strip() + folded[m.end():m.end() + 1])
    return out


_UNIT_Q = re.compile(r"(?:多少|几)(?:万|亿)?([个名户人年项次倍条家所座台辆只件位种批期届岁天袋亩"
                     r"吨元公里米平方千克斤头株棵套间张本首部座级])")


# Chinese measure words and units (a closed grammatical class), and the Latin unit letters
_MEASURE = ("个名户人口年月日号时分秒周项次倍条家所座台辆只件位种批期届岁天袋亩顷吨公里米厘毫克斤两"
            "升寸尺丈码平方立度元块角万亿头株棵套间张本首部级层楼栋匹颗粒片瓶盒箱包双对份篇章页"
            "行字代场轮架艘列趟辈瓦伏安帕卡焦")
# two or more digits (a range allowed) followed by no unit, measure word or date part
_BARE_AMOUNT = re.compile(r"(?<![\d.])\d{2,}(?:\.\d+)?(?:\s*[-~～至到]\s*\d+(?:\.\d+)?)?"
                          rf"(?![\d.%％‰°℃a-z]|\s*[{_MEASURE}])")


# a span in quotes or title marks (no nesting; short, as names are)
_QUOTED_SPAN = re.compile(r"“[^”]{1,30}”|「[^」]{1,30}」|『[^』]{1,30}』|《[^》]{1,30}》"
                          r"|\"[^\"]{1,30}\"")


def asked_unit(question: str) -> str:
    """The unit a quantity question names: 多少户 -> 户, 多少钱 -> 元, 几个 -> '' (个 is any)."""
    if re.search(r"多少钱|多少资金|多少经费|多少投资", question):
        return "元"
    m = _UNIT_Q.search(question)
    if m:
        return "" if m.group(1) in "个位种件项次" else m.group(1)
    # 多少贫困户 / 多少贫困人口: the unit is the noun's last character
    m = re.search(r"(?:多少|几)([\u4e00-\u9fff]{1,4}?)(?:户|人口|人)(?![\u4e00-\u9fff])", question)
    if m:
        return "户" if question[m.end() - 1] == "户" else "人"
    # 多少贫困人口脱贫了: 人口 is a noun of its own, whatever verb follows it
    if re.search(r"(?:多少|几)[\u4e00-\u9fff]{0,4}?人口", question):
        return "人"
    return ""


# a URL or domain, an e-mail address, a long digit run (phone, QQ, post code), a letters+digits
# model code
_CODE_VALUE = re.compile(r"(?:https?://|www\.)\S+|[a-z0-9.\-]+\.(?:com|cn|net|org|gov|edu|info)\b"
                         r"|[\w.\-]+@[\w\-]+\.\w+|\d[\d\- ]{4,}\d|\b[a-z]+-?[a-z]*\d+[a-z0-9\-]*")


def has_answer_type(kind: str, folded: str, question: str) -> bool | None:
    """Whether a sentence holds something of the type the question asks for, beyond what the
    question itself says (its own years and numbers do not count). None: no type asked."""
    if kind == "number":
        own = set(numbers(question))
        # a number inside quotes or title marks names a programme or a work (「一个托底、五个
        # 全覆盖」, 《1984》): it is not a figure the sentence states
        unquoted = _QUOTED_SPAN.sub("", folded)
        found = [n for n in numbers(unquoted) if n not in own]
        unit = asked_unit(question)
        if unit and found:  # 多少户 wants a number of 户, not the 亩 next to it
            if re.search(rf"[\d一二三四五六七八九十两百千万亿]\s*(?:[万亿余多])?{unit}", unquoted):
                return True
            # 22.7万建档立卡贫困人口: the counted noun between the number and its 人口
            if unit == "人" and re.search(r"[\d一二三四五六七八九十两百千万亿]\s*(?:[万亿余多])?"
                                         r"[\u4e00-\u9fff]{0,6}?人口", unquoted):
                return True
            # a price is often written bare (150-300就够了): a number with no unit at all
            return unit == "元" and bool(_BARE_AMOUNT.search(folded))
        return bool(found)
    if kind == "time" and _ASKS_DAY.search(question):
        return bool(_DAY.search(folded))
    if kind in ("code", "time"):
        pattern = _CODE_VALUE if kind == "code" else _TIME
        own = {m.group(0) for m in pattern.finditer(question)}
        return any(m.group(0) not in own for m in pattern.finditer(folded))
    if kind in ("person", "place"):
        want = "nr" if kind == "person" else "ns"
        qwords = {w for w, _ in _posseg_flags(question)}
        for w, f in _posseg_flags(folded):
            if f.startswith(want) and len(w) >= 2 and w not in qwords and not (
                    want == "nr" and _common_noun_named(w)):
                return True
        if kind == "person":  # transliterated names: 约翰·菲利普斯, latin names
            return bool(re.search(r"\w·\w|[a-z]{3,}", folded))
        return False
    return None


@lru_cache(maxsize=8192)
def _common_noun_named(word: str) -> bool:
    """jieba's dictionary tags many phrases as names (农村居民, 伯爵夫人, 严格纪律 are nr): one
    of four or more characters that ends in a frequent common noun (居民, 纪律) is no person."""
    if len(word) < 4:
        return False
    import jieba.posseg

    tags = jieba.posseg.dt.word_tag_tab
    head = word[-2:]
    return tags.get(head) in ("n", "vn") and jieba.dt.FREQ.get(head, 0) >= 1000


# Single characters that end a run of one-character words (function words).
_FUNCTION_CHARS = set("的了是在和与及或等也都而被把将从向对为以于之其这那有要用让使给由到就又还并且"
                      "但却很更最已会能可不没着过个们吗呢吧啊")


_ASK_WORD = re.compile(r"什么|多少|几|哪|谁|何|怎|如何|为什么|是否|吗")


def predicate_bigrams(folded_question: str, subject: str, width: int = 4) -> set[str]:
    """Bigrams of the words next to the question word (主打 in 战国史模式主打哪两个模式,
    发售 in 原计划在日本用什么名字发售), less the subject's: what the answer sentence must say
    about its subject, beside the value it gives."""
    out: set[str] = set()
    for m in _ASK_WORD.finditer(folded_question):
        before = folded_question[max(0, m.start() - width):m.start()]
        after = folded_question[m.end():m.end() + width]
        out |= bigrams(_QWORDS.sub(" ", before)) | bigrams(_QWORDS.sub(" ", after))
    return out - bigrams(subject)


def content_bigrams(folded: str, words, known=None) -> set[str]:
    """Bigrams inside the words of a question. A run of one-character words holding a
    character the segmenter does not know is joined (短/䲟 -> 短䲟: a rare name); runs of
    known characters are not (县/建 in 哪些县建了 is no term)."""
    out: set[str] = set()
    run: list[str] = []

    def flush() -> None:
        if len(run) >= 2 and (known is None or not all(known(c) for c in run)):
            out.update(bigrams("".join(run)))
        run.clear()

    for w in words(folded):
        if len(w) == 1 and w not in _FUNCTION_CHARS and bigrams(w + w):
            run.append(w)
            continue
        flush()
        if len(w) >= 2:
            out |= bigrams(w)
    flush()
    return out


@dataclass
class Matcher:
    """The question's content bigrams with their idf weights."""

    weights: dict[str, float]
    total: float
    predicate: dict[str, float] = field(default_factory=dict)  # see predicate_bigrams

    @classmethod
    def for_question(cls, question: Question, stats: BigramStats, words=None,
                     known=None) -> Matcher:
        """`words`: a segmenter (text -> words); bigrams then stay inside words, so 快生 from
        加快生果 (a pair no text contains, hence of high idf) does not dilute the match."""
        from qa.answer.abbrev import spelt_out

        core = _QWORDS.sub(" ", spelt_out(question.folded, stats.may_contain))
        grams = content_bigrams(core, words, known) if words is not None else bigrams(core)
        grams = grams or bigrams(core) or bigrams(question.folded)
        weights = stats.idf(grams)
        pred = predicate_bigrams(question.folded, question.subject)
        return cls(weights, sum(weights.values()), stats.idf(pred) if pred else {})

    def predicate_coverage(self, grams: set[str]) -> float:
        """Share of the words next to the question word that the sentence says (1 when the
        question has none)."""
        total = sum(self.predicate.values())
        if total <= 0:
            return 1.0
        return sum(w for g, w in self.predicate.items() if g in grams) / total

    def coverage(self, grams: set[str], context: set[str] | frozenset[str] = frozenset()
                 ) -> float:
        if self.total <= 0:
            return 0.0
        got = sum(w for g, w in self.weights.items() if g in grams or g in context)
        return got / self.total

    def beyond(self, grams: set[str], context: set[str] | frozenset[str]) -> float:
        """Coverage of the part of the question its context does not already say: what this
        sentence adds about the question beyond its document's title."""
        rest = {g: w for g, w in self.weights.items() if g not in context}
        total = sum(rest.values())
        if total <= 0:
            return 1.0 if self.total > 0 else 0.0
        return sum(w for g, w in rest.items() if g in grams) / total


@dataclass
class Scored:
    sentence: Sentence
    coverage: float  # with the passage context
    own: float  # without it: what the sentence itself says
    beyond: float  # of the question's part that the context does not say
    typed: bool | None
    prior: float  # the passage's cosine relative to the best retrieved one
    score: float = 0.0
    cosine: float | None = None  # the sentence's own cosine with the question (qa.answer.sentvec)
    unmet: list = field(default_factory=list)  # constraints it fails (qa.answer.constraints.Unmet)
    predicate: float = 1.0  # Matcher.predicate_coverage of the sentence


# Selection weights, chosen on the even half of CMRC + DRCD (+ DuReader for W_PRIOR: mean
# answer containment over a small grid, README "Answers").
W_PRIOR = 1.0
W_TYPE = 0.12
W_OWN = 0.15
W_SENT = 0.0  # the sentence's own cosine, relative to the best sentence's


def score_sentences(question: Question, matcher: Matcher, sentences: list[Sentence],
                    contexts: dict[str, set[str]], top_score: float,
                    top_dense: float = 0.0, cosines: list[float] | None = None
                    ) -> list[Scored]:
    """Every sentence scored for how well it answers; best first.

    The prior is the passage's cosine relative to the best one (`top_dense`), not its fused
    rank score: a sentence that repeats the question's words from a passage the embedding
    finds unrelated (BM25 lifted it) should not beat the top passage's answer. Without
    cosines (BM25-only search) the fused score stands in."""
    out = []
    top_cos = max(cosines) if cosines else 0.0
    for i, s in enumerate(sentences):
        ctx = contexts.get(s.hit.passage.id, set())
        cov = matcher.coverage(s.grams, ctx)
        own = matcher.coverage(s.grams)
        beyond = matcher.beyond(s.grams, ctx)
        typed = has_answer_type(question.kind, s.folded, question.folded) \
            if cov > 0 else None
        if top_dense > 0:
            prior = max(s.hit.dense, 0.0) / top_dense
        else:
            prior = max(s.hit.score, 0.0) / top_score if top_score > 0 else 0.0
        score = cov + W_OWN * own + W_PRIOR * prior + (W_TYPE if typed else 0.0) \
            - (W_TYPE if typed is False else 0.0)
        cos = cosines[i] if cosines else None
        if cos is not None and top_cos > 0:
            score += W_SENT * max(cos, 0.0) / top_cos
        out.append(Scored(s, cov, own, beyond, typed, prior, score, cos,
                          predicate=matcher.predicate_coverage(s.grams)))
    out.sort(key=lambda x: -x.score)
    return out


# ---------------------------------------------------------------- a learned sentence ranking
SENTENCE_FEATURES = ("coverage", "own", "beyond", "prior", "typed+", "typed-", "cos", "cos_rel",
                     "cos_gap", "dense", "rank_inv", "first", "log_len", "refers_back", "asks",
                     "predicate", "prev_cos", "prev_cov")


def sentence_features(cands: list[Scored]) -> np.ndarray:
    """One row of SENTENCE_FEATURES per candidate; cosines relative to the best candidate's
    (a question's cosines shift together, so the ranking reads differences). prev_*: the
    sentence before in the passage, which a sentence continuing it (每个周期分红260万元 after
    the sentence naming the project) answers with."""
    coss = [x.cosine if x.cosine is not None else x.sentence.hit.dense for x in cands]
    top = max(coss, default=0.0)
    at = {(x.sentence.hit.passage.id, x.sentence.index): (c, x.coverage)
          for x, c in zip(cands, coss, strict=True)}
    rows = []
    for x, c in zip(cands, coss, strict=True):
        s = x.sentence
        prev_cos, prev_cov = at.get((s.hit.passage.id, s.index - 1), (0.0, 0.0))
        rows.append([x.coverage, x.own, x.beyond, x.prior, float(x.typed is True),
                     float(x.typed is False), c, c / top if top > 0 else 0.0, top - c,
                     s.hit.dense, 1.0 / max(s.hit.rank, 1), float(s.index == 0),
                     float(np.log1p(len(s.text))), float(s.refers_back), float(s.asks),
                     x.predicate, prev_cos, prev_cov])
    return np.array(rows, dtype=np.float64).reshape(-1, len(SENTENCE_FEATURES))


@dataclass(frozen=True)
class SentenceRanker:
    """score = weights · SENTENCE_FEATURES, fitted by bench/rank_sentences.py on the even
    half of the public sets and the policy development set."""

    weights: dict[str, float]

    def rescore(self, cands: list[Scored]) -> list[Scored]:
        if not cands:
            return cands
        w = np.array([self.weights.get(k, 0.0) for k in SENTENCE_FEATURES])
        for x, score in zip(cands, sentence_features(cands) @ w, strict=True):
            x.score = float(score)
        return sorted(cands, key=lambda x: -x.score)


def load_sentence_ranker(model_name: str, path: Path | None = None) -> SentenceRanker | None:
    """The fitted ranking for this embedding model; None (the hand-set score) otherwise."""
    try:
        table = json.loads((path or CALIBRATION).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    weights = (table.get(model_name) or {}).get("sentence_weights")
    return SentenceRanker(dict(weights)) if isinstance(weights, dict) else None


def context_grams(text: str) -> set[str]:
    return bigrams(fold(text))


# ---------------------------------------------------------------- found or not
FEATURES = ("coverage", "beyond", "cosine", "typed", "lg", "cov*lg", "bey*lg", "cos*lg",
            "subject", "sub*lg", "top", "top*lg", "scos", "scos*lg", "smax", "nmiss", "nmiss_p",
            "qnum", "rscore", "rmargin", "smargin", "rival", "pred")
LEXICAL = ("coverage", "beyond", "typed", "lg", "cov*lg", "bey*lg", "subject", "sub*lg", "nmiss")
CALIBRATION = Path(__file__).with_name("calibration.json")


def feature_row(f: dict) -> dict[str, float]:
    """The decision's inputs from an evidence summary (Evidence.summary()).

    lg (log of the question's content bigrams) lets the weights differ between a long
    annotator-style question, where a sentence that answers repeats most of it, and a short
    search query, where the embedding carries more of the match. top (the cosine of the
    passage ranked first) speaks for a short query whose answer shares no word with it
    (考公务员提前多久准备 / 一般来说，准备半年这样的比较理想), where the best-matching
    sentence's own passage may be a word-overlap accident."""
    lg = float(np.log1p(f.get("grams", 0)))
    t = f.get("typed")
    typed = 0.0 if t is None else (1.0 if t else -1.0)
    cov, bey, cos = f.get("coverage", 0.0), f.get("beyond", 0.0), f.get("cosine", 0.0)
    sub = f.get("subject", 1.0)
    top = f.get("top_cosine", cos)
    scos = f.get("sentence_cosine") or cos  # the best sentence's own cosine (qa.answer.sentvec)
    smax = f.get("max_sentence_cosine") or scos
    return {"coverage": cov, "beyond": bey, "cosine": cos, "typed": typed, "lg": lg,
            "cov*lg": cov * lg, "bey*lg": bey * lg, "cos*lg": cos * lg, "subject": sub,
            "sub*lg": sub * lg, "top": top, "top*lg": top * lg, "scos": scos,
            "scos*lg": scos * lg, "smax": smax, "nmiss": f.get("names_missing", 0.0),
            "nmiss_p": f.get("names_missing_passage", 0.0), "qnum": f.get("numbers_missing", 0.0),
            "rscore": f.get("rank_score", 0.0), "rmargin": f.get("rank_margin", 0.0),
            "smargin": f.get("sentence_margin", 0.0), "rival": f.get("name_rival", 0.0),
            "pred": f.get("predicate", 1.0)}


@dataclass(frozen=True)
class FoundModel:
    """found = sum(w * feature) + bias >= threshold (a logistic model's log-odds), fitted by
    `bench/answers.py --calibrate --write` on the even half of public questions (answerable
    CMRC, DRCD, DuReader against their leave-gold-out unanswerable versions); `threshold` is
    the operating point chosen there (see README)."""

    weights: dict[str, float]
    bias: float
    threshold: float
    note: str = ""
    strict_threshold: float | None = None  # rejects more on-topic text, finds a little less
    trees: TreeEnsemble | None = None  # boosted trees instead of the linear weights

    def score(self, summary: dict) -> float:
        row = feature_row(summary)
        if self.trees is not None:
            return self.trees.score(row)
        return float(sum(w * row[k] for k, w in self.weights.items()) + self.bias)

    def found(self, summary: dict) -> bool:
        return self.score(summary) >= self.threshold

    @property
    def strict_margin(self) -> float:
        """How far above the threshold a score must be to pass the strict point too."""
        if self.strict_threshold is None:
            return 0.0
        return max(self.strict_threshold - self.threshold, 0.0)

    def strict(self) -> FoundModel:
        """The same model at its strict operating point (see README: the trade-off table)."""
        if self.strict_threshold is None:
            return self
        return FoundModel(self.weights, self.bias, self.strict_threshold, self.note + " (strict)",
                          self.strict_threshold, self.trees)


# Used when nothing is calibrated for the embedding model (a model whose cosine scale is
# unknown, or the tests' fake): lexical evidence only, a sentence holding half the question.
LEXICAL_FALLBACK = FoundModel({"coverage": 1.0}, 0.0, 0.45, "uncalibrated: coverage >= 0.45")
ALWAYS = FoundModel({}, 1.0, 0.0, "answer everything (calibration runs)")


def load_found_model(model_name: str, path: Path = CALIBRATION) -> FoundModel:
    """The calibrated decision for this embedding model; lexical-only for any other model."""
    try:
        table = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return LEXICAL_FALLBACK
    entry = table.get(model_name) or table.get("*")
    if not isinstance(entry, dict):
        return LEXICAL_FALLBACK
    strict = entry.get("strict_threshold")
    trees = TreeEnsemble.from_dict(entry["trees"]) if entry.get("trees") else None
    return FoundModel(dict(entry.get("weights", {})), float(entry.get("bias", 0.0)),
                      float(entry["threshold"]), entry.get("note", ""),
                      None if strict is None else float(strict), trees)
