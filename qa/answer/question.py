"""What a question asks: its kind, the type of answer it wants, the terms it names, its parts.

Chinese questions mark what they want with a small closed set of interrogative words (多少,
几, 谁, 哪里, 何时, 什么, 怎样, 为什么, 哪些) and mark scope with a few more (分别, 各地, 都). These
are grammar, not vocabulary of any one collection, so rules on them carry to new documents.

Every comparison in the answerer goes through `fold`: NFKC (full-width to half-width),
Traditional to Simplified, lower case, so 梵語 ~ 梵语, Ｍｂｐｓ ~ mbps, USB3 ~ usb3.0.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from qa.errors import InputError
from qa.text.normalize import fold

MAX_QUESTION_CHARS = 10_000
# More clauses than this is pasted text, not two things at once: it is searched as one
# question (each part is a full search, so 1,400 parts took 30 s).
MAX_PARTS = 6

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069"
                      r"\ufeff]")


def clean_question(question: str) -> tuple[str, list[str]]:
    """Strip control characters, truncate very long input; empty input, or input with no
    letter or digit to search for (only punctuation, symbols, emoji), is an error."""
    warnings: list[str] = []
    q = _CONTROL.sub("", unicodedata.normalize("NFC", question or "")).strip()
    if not q:
        raise InputError("the question is empty; type a question, e.g. 卢氏模式是什么")
    if not any(ch.isalnum() for ch in q):
        raise InputError("the question has no words to search for (only punctuation, symbols "
                         "or emoji); type a question, e.g. 卢氏模式是什么")
    if len(q) > MAX_QUESTION_CHARS:
        warnings.append(f"question truncated from {len(q)} to {MAX_QUESTION_CHARS} characters")
        q = q[:MAX_QUESTION_CHARS]
    return q, warnings


# ---------------------------------------------------------------- what is asked
# Places as scope: 哪些地方/哪些县 ask across documents, 各地/各县 too.
_PLACE_NOUN = r"(?:地方|地区|县市|县区|县|市|区|省|乡镇|镇|乡|村|城市|单位|部门)"
# 哪些地方推行了… asks across documents (the places are who acts); X分布在哪些地方 asks one
# document for a list of places, so the scope word must be followed by what they do
_ACROSS = re.compile(rf"(?:哪些|哪几个|哪个){_PLACE_NOUN}(?=.{{0,3}}?[\u4e00-\u9fff]{{2}})"
                     rf"|各地|各县|各市|各省|各区|各乡镇|不同地方|多地")
_LIST = re.compile(r"哪些|哪几|分别|几种|几类|几个方面|包括什么|包括哪|都有什么|有哪些"
                   r"|哪[二三四五六七八九十两]+[个种项条类大清]?"
                   r"|有什么.{0,4}(措施|模式|做法|办法)")
_NUMBER = re.compile(r"多少|(?<![这那哪])几[个名户人年项次倍条家所座台辆只件位种批期届岁天"
                     r"万亿千百十]|"
                     r"多大|多高|多长|多远|多重|多深|多宽|多快|比例|比重|百分之几|几成|几倍|"
                     r"增长了|降到|降至|提高到|排名第几|第几")
# 多少 / 什么 after a word for an identifier asks for the identifier itself, not a quantity
# (网址是多少, 客服电话多少, 邮编是什么): a URL, an e-mail address, a phone or code number.
_CODE = re.compile(r"(?:网址|网站|域名|链接|电话|手机号?|号码|热线|邮箱|邮编|qq号?|微信号?"
                   r"|账号|帐号|编号|代码|代号|型号|车牌号?)[是为叫]?(?:改成|改为|变成|换成)?了?(?:多少|什么|啥)"
                   r"(?!时|意思|样|地方|原因)")
_TIME = re.compile(r"何时|什么时候|什么时间|哪一年|哪年|哪一天|哪天|几月|几号|何年|哪个朝代"
                   r"|哪一朝|哪个年代|哪一时期|什么年代|几点|多久|多少年|多长时间|哪个时期|何日"
                   r"|哪个月")
_PERSON = re.compile(r"是谁|谁是|哪位|什么人|哪个人|谁(?!家)|何人"
                     r"|(?:长|书记|主任|主席|负责人|组长|代表|委员|[主代发负创证]\w?人|作者|[演歌选]手"
                     r"|[画作专学术]家)(?:的名字)?(?:叫什么|叫啥|姓什么|是哪个)")
_PLACE = re.compile(r"哪里|哪儿|在哪|何处|何地|什么地方|位于哪|在什么地方"
                    r"|哪[一个]?个?(?:国家|城市|省份|省|地区|地方|国|州)")
_DEFINE = re.compile(r"是什么|什么是|指什么|是指|含义|意思|内容是|什么意思|是啥|啥是|何谓|定义")
_HOW = re.compile(r"怎样|怎么|如何|做了什么|干了什么|做了哪些|采取了|采取什么|什么办法|"
                  r"什么措施|哪些做法|何种方式|什么方式|通过什么")
_WHY = re.compile(r"为什么|为何|什么原因|原因是|为啥|缘何")
_ROLE = re.compile(r"是什么人|是干什么|是干嘛|是做什么|做了什么|干了什么|做了啥|干了啥|"
                   r"有什么事迹|有何贡献")
# 杨书春是谁, 卫飞舟是什么人, 柯岩松是干嘛的: a question about one person named up front
_ABOUT_PERSON = re.compile(r"^([\u4e00-\u9fff·]{2,6}?)(?:是谁|是什么人|是干什么的|是干嘛的|"
                           r"是做什么的|做了什么|干了什么|做了啥|干了啥|有什么事迹)")
_YESNO = re.compile(r"(是否|有没有|是不是|能不能|可不可以|会不会)"
                    r"|(?:吗|(?<![什怎那这多])么)[?？]?$")
_ENTITY = re.compile(r"哪[一两三四几]?[个位家所只种款部本首座条项支门]"
                     r"|什么(?!是|意思|时候|地方|原因|办法|措施|方式)")

# First match wins, most specific first: 哪些地方推行了 before 哪些, 多少年 (time) before 多少.
KIND_PATTERNS = (
    ("across", _ACROSS), ("time", _TIME), ("code", _CODE), ("number", _NUMBER), ("person", _PERSON),
    ("place", _PLACE), ("list", _LIST), ("why", _WHY), ("how", _HOW),
    ("definition", _DEFINE), ("yesno", _YESNO), ("entity", _ENTITY),
)


def question_kind(question: str) -> str:
    """The main kind of a question; a bare topic (卢氏模式, 非洲气候带) is a definition: say
    what the collection says about it."""
    q = fold(question)
    return next((kind for kind, pattern in KIND_PATTERNS if pattern.search(q)), "definition")


# ---------------------------------------------------------------- named terms
_YEAR = re.compile(r"(?:19|20)\d{2}年")
_LATIN = re.compile(r"[a-z][a-z0-9.+\-]*[a-z0-9]|[a-z]")
_QUOTED = re.compile(r"[“「『\"《]([^”」』\"》]{2,20})[”」』\"》]")
_SCHEME = re.compile(r"\d+(?:\+\d+|\+n)+|\d{3,6}(?=工作法|模式|计划|工程|行动|机制|体系)")
_ADMIN_SUFFIX = re.compile(r"(?:省|市|县|区|镇|乡|村|州)$")
# a bare topic naming a rate (GDP增速, 城镇化率) asks for its figure
_RATE_TOPIC = re.compile(r"增速|增长率|增幅|涨幅|降幅|增长目标|[\u4e00-\u9fff]率$")
# a bare topic ending in a measured noun (GDP总量, 粮食总产量, 社零, 营收) asks for its figure
_FIGURE_TOPIC = re.compile(r"(?:总量|总额|产量|产值|增加值|收入|营收|规模|人口|面积|数量|gdp|社零"
                           r"|规上)$")
NAME_TAGS = frozenset({"nr", "ns", "nt", "nz", "nrt", "nrfg"})
_NUMERAL_START = re.compile(r"[一二三四五六七八九十两几每各\d]")


def hard_terms(question: str) -> dict[str, str]:
    """Terms an answer must mention -> their kind (place, person, year, latin, quoted, scheme).

    Names and numbers cannot be paraphrased: if no retrieved passage mentions 海淀区 or GDP,
    the collection does not answer a question about them, however close the rest matches.
    """
    q = fold(question)
    terms: dict[str, str] = {m.group(0): "year" for m in _YEAR.finditer(q)}
    terms.update({m.group(0): "latin" for m in _LATIN.finditer(q) if len(m.group(0)) >= 2})
    terms.update({m.group(1): "quoted" for m in _QUOTED.finditer(q)})
    terms.update({m.group(0): "scheme" for m in _SCHEME.finditer(q)})
    for word, flag in _posseg(q):
        if _NUMERAL_START.match(word):
            continue  # 一棵树, 三个县: a count, whatever the tagger calls it
        if len(word) >= 3 and _ADMIN_SUFFIX.search(word) and flag[:1] in ("n", "x"):
            terms.setdefault(word, "place")  # 靖宇县, 海淀区: an administrative name
        elif flag == "ns" and len(word) >= 2:
            terms.setdefault(word, "ns")  # tagged a place (非洲, but also 东西)
        elif flag == "nr" and len(word) >= 2:
            terms.setdefault(word, "person")  # tagged a name (杨书春, but also 祖先)
    return terms


@lru_cache(maxsize=4096)
def _posseg(text: str) -> tuple[tuple[str, str], ...]:
    import jieba
    import jieba.posseg

    jieba.setLogLevel(60)
    return tuple((w, f) for w, f in jieba.posseg.cut(text))


def term_in(term: str, folded_text: str, kind: str = "") -> bool:
    """`term` (folded) occurs in `folded_text`: 靖宇县 ~ 靖宇, usb3 ~ usb3.0."""
    if term in folded_text:
        return True
    if kind in ("place", "ns", "") and _ADMIN_SUFFIX.search(term):
        core = re.sub(r"(?:特别行政区|自治区|自治州|自治县|地区|新区|城区|市区|县城)$", "", term)
        core = core[:-1] if core == term else core
        return len(core) >= 2 and core in folded_text
    return False


# ---------------------------------------------------------------- two things at once
_CONJ = r"(?:和|与|及|以及|跟|、|还有)"
_YEARS_PAIR = re.compile(rf"((?:19|20)\d{{2}}年)(?:{_CONJ})((?:19|20)\d{{2}}年)")
# A clause ends at a comma or question mark, or after 什么/吗/呢 (X是什么Y是什么), never after
# the 么 of 怎么 (三台县是怎么解决…的 is one question)
_CLAUSE_SPLIT = re.compile(r"[，,；;？?]|(?:(?<=什么)|(?<=[吗呢]))(?:还有|以及)?")
_QWORD = re.compile(r"多少|几|谁|哪|什么|怎|如何|何时|何地|为什么|为何|是否|多[大高长远重深宽久]")


@dataclass
class Parts:
    """A question that asks two or more things, as separate questions, and what differs."""

    questions: list[str]
    labels: list[str]


def split_parts(question: str) -> Parts | None:
    """2016年和2017年各脱贫多少人 -> 2016年脱贫多少人 / 2017年脱贫多少人;
    靖宇县和卢氏县的贫困发生率分别是多少 -> 靖宇县的… / 卢氏县的…;
    贫困村有多少个，脱贫了多少人 -> two clauses, each with its own question word."""
    q = re.sub(r"[?？。!！\s]+$", "", question.strip())
    m = _YEARS_PAIR.search(q)
    if m:
        a, b = m.group(1), m.group(2)
        return Parts([_drop_each(q[:m.start()] + x + q[m.end():]) for x in (a, b)], [a, b])
    pair = _entity_pair(q)
    if pair:
        (start, end), (a, b) = pair
        return Parts([_drop_each(q[:start] + x + q[end:]) for x in (a, b)], [a, b])
    clauses = [c for c in _CLAUSE_SPLIT.split(q) if c and c.strip()]
    asking = [c for c in clauses if _QWORD.search(c)]
    if any(_PERSON.search(c) or _ROLE.search(c) for c in clauses):
        return None  # 卫飞舟是什么人，做了什么: one person question (who + what they did)
    if len(clauses) >= 2 and len(asking) >= 2:
        subject = _leading_subject(clauses[0])
        out = [clauses[0]]
        for c in clauses[1:]:
            # a clause that starts with a name of its own (…，卢氏提拔的干部…) keeps it; one that
            # starts with its verb or a figure (…，脱贫了多少人) is about the first one's subject
            own = _starts_with_name(c)
            out.append(c if subject is None or subject in c or own or not _QWORD.search(c)
                       else subject + c)
        out = [c for c in out if _QWORD.search(c)]
        if 2 <= len(out) <= MAX_PARTS:
            return Parts(out, [c for c in out])
    return None


def split_names(question: str, names: list[str], named: list[str] = ()) -> Parts | None:
    """湖州和于都2024年…分别是多少, with 湖州 and 于都 known to be places of the collection
    (the tagger does not know every county): one part per name, as split_parts does for the
    names it tags. `named`: the question's own tagged names (卢氏 is tagged a person), paired
    with a place of the collection (靖宇、卢氏…还剩多少)."""
    q = re.sub(r"[?？。!！\s]+$", "", question.strip())
    alt = "|".join(re.escape(n) for n in sorted({*names, *named}, key=len, reverse=True) if n)
    if not alt:
        return None
    m = re.search(rf"((?:{alt})[市县区省州]?)(?:{_CONJ})((?:{alt})[市县区省州]?)", q)
    if not m or m.group(1) == m.group(2):
        return None
    known = [any(term_in(n, fold(x)) for n in names if n) for x in m.groups()]
    if not any(known):
        return None  # two of the question's own names, neither a place of the collection
    rest = q[m.end():]
    # two places of the collection (寻乌、靖宇的县领导是怎么分工包保的) are asked about each
    if not (all(known) or re.search(r"分别|各自|各(?=[\u4e00-\u9fff])|都", rest)
            or _NUMBER.search(rest)):
        return None
    a, b = m.group(1), m.group(2)
    start, end = m.span()
    return Parts([_drop_each(q[:start] + x + q[end:]) for x in (a, b)], [a, b])


def _drop_each(q: str) -> str:
    return re.sub(r"分别|各自|各(?=[\u4e00-\u9fff])", "", q, count=1)


def _entity_pair(q: str) -> tuple[tuple[int, int], tuple[str, str]] | None:
    """Two places, people or named things of one kind joined by 和/与/、 in a question that
    asks about each (分别, 各, or one attribute of both)."""
    tokens = list(_posseg(fold(q)))
    if len(fold(q)) != len(q):  # folding changed lengths (rare ligatures): do not guess
        return None
    pos = 0
    spans = []
    for w, f in tokens:
        spans.append((pos, pos + len(w), w, f))
        pos += len(w)
    for i in range(1, len(spans) - 1):
        w = spans[i][2]
        if not re.fullmatch(_CONJ, w):
            continue
        left, right = spans[i - 1], spans[i + 1]
        lk, rk = _name_kind(left[3], left[2]), _name_kind(right[3], right[2])
        if lk and lk == rk:
            # 靖宇县和卢氏县的贫困发生率分别是多少 asks each; 曹髦与王沈商讨什么 asks one thing
            # about both, unless it is a number asked of two places
            rest = q[right[1]:]
            has_each = bool(re.search(r"分别|各自|各(?=[\u4e00-\u9fff])|都", rest))
            if has_each or (lk == "place" and _NUMBER.search(rest)):
                return (left[0], right[1]), (left[2], right[2])
    return None


def _name_kind(flag: str, word: str) -> str | None:
    if flag.startswith("ns") or (len(word) >= 2 and _ADMIN_SUFFIX.search(word)):
        return "place"
    if flag == "nr" and len(word) >= 2:
        return "person"
    if flag in ("nt", "nz") and len(word) >= 2:
        return "org"
    return None


def _starts_with_name(clause: str) -> bool:
    """The clause opens with a name (寻乌, 卢氏 are tagged person names, 靖宇县 ends like a
    place): its own subject."""
    words = _posseg(clause)
    if not words:
        return False
    w, f = words[0]
    return len(w) >= 2 and (f in NAME_TAGS or bool(_ADMIN_SUFFIX.search(w)))


def _leading_subject(clause: str) -> str | None:
    """The noun phrase a clause starts with (靖宇县 in 靖宇县有多少贫困村)."""
    words = []
    for w, f in _posseg(clause):
        if f.startswith(("n", "ns", "nr", "nz", "nt")) or (not words and f == "m"):
            words.append(w)
        else:
            break
    subject = "".join(words)
    return subject if len(subject) >= 2 else None


# ---------------------------------------------------------------- the subject
_SUBJECT_END = re.compile(r"的|是|有(?!限)|在|以|为|于|被|和|与|由|从|对|把|将|曾|所|如何|怎|什么"
                          r"|哪|多少|多久|多大|多长|几|谁|何|[，,。？?！!、\s]")


def subject_of(folded: str) -> str:
    """What a question is about: the words before its first particle or question word, less
    trailing verbs and adverbs (加利福尼亚滑银汉鱼 in 加利福尼亚滑银汉鱼分布在哪个地区, 瘰鳞蛇 in
    瘰鳞蛇主要以什么为食), after a leading date. Empty when it starts with a pronoun (该院…)."""
    q = re.sub(r"^(?:请问|那么|那|我想知道|想知道)", "", folded)
    q = re.sub(r"^(?:\d+|[一二三四五六七八九十百千]+)年(?:代)?[，,]?", "", q)
    if re.match(r"^(?:该|这|此|其|它|他|她|有)", q):
        return ""
    m = _SUBJECT_END.search(q)
    head = q[:m.start()] if m else q
    words = list(_posseg(head))
    while words and (words[-1][1][:1] in ("v", "d", "a", "p", "c", "u", "r", "f")
                     or words[-1][1] in ("b", "z")):
        words.pop()
    head = "".join(w for w, _ in words)
    return head if len(head) >= 2 else ""


# ---------------------------------------------------------------- the analysis
@dataclass
class Question:
    """What the answerer knows about a question before looking at any passage."""

    text: str
    folded: str
    kind: str
    hard: dict[str, str]
    parts: Parts | None = None
    person_did: bool = False  # X是谁 / X做了什么: who they are and what they did
    subject: str = ""  # see subject_of
    warnings: list[str] = field(default_factory=list)
    search: str = ""  # what is searched and matched: abbreviations spelt out (qa.answer.abbrev)

    @property
    def places(self) -> list[str]:
        return [t for t, k in self.hard.items() if k in ("place", "ns")]

    @property
    def people(self) -> list[str]:
        return [t for t, k in self.hard.items() if k in ("person", "name")]

    @property
    def names(self) -> list[str]:
        """Proper names the question mentions: tagged people, places, organisations and
        other names, Latin words, quoted and numbered terms (each may be a tagger's mistake:
        the answerer weighs them, it does not require them)."""
        out = [t for t, k in self.hard.items() if k != "year"]
        for w, f in _posseg(self.folded):
            if len(w) >= 2 and f in NAME_TAGS and not _NUMERAL_START.match(w) \
                    and not any(w in t or t in w for t in out):
                out.append(w)
        return out

    @property
    def exact_terms(self) -> list[str]:
        return [t for t, k in self.hard.items() if k in ("quoted", "latin", "scheme")]


def analyze(question: str) -> Question:
    q, warnings = clean_question(question)
    kind = question_kind(q)
    hard = hard_terms(q)
    parts = split_parts(q) if kind not in ("across",) else None
    about = _ABOUT_PERSON.match(fold(q))
    person_did = bool(about) or bool(any(k == "person" for k in hard.values())
                                      and (_ROLE.search(fold(q)) or re.search(
                                          r"做了|干了|做过|干过|贡献|事迹", fold(q))))
    if person_did and kind in ("definition", "how", "entity", "list"):
        kind = "person"
    if kind == "definition" and (_RATE_TOPIC.search(fold(q)) or _FIGURE_TOPIC.search(fold(q))):
        kind = "number"  # 湖州GDP增速, 城镇化率, 德清县GDP总量: a bare topic naming a figure
    if about and about.group(1) not in hard:
        hard = {**hard, about.group(1): "name"}
    from qa.answer.abbrev import expand

    return Question(q, fold(q), kind, hard, parts, person_did, subject_of(fold(q)), warnings,
                    expand(q))
