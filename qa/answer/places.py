"""Administrative places a text names, with their level (省 1 … 村 5), and whether a text
mentions one (see qa.answer.constraints)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

# ---------------------------------------------------------------- place
LEVELS = {"省": 1, "自治区": 1, "市": 2, "州": 2, "盟": 2, "地区": 2, "县": 3, "区": 3,
           "旗": 3, "自治县": 3, "镇": 4, "乡": 4, "街道": 4, "村": 5, "社区": 5}
_LEVEL_WORD = re.compile(r"(?:全|本|我|该)(省|自治区|市|州|县|区|旗|镇|乡|村)")
# characters that cannot start or fill a place name (全县, 各市, 城市, 地区 are not names)
NOT_NAME = set("全本我该各每此其这那等和的在到由与及对向从为把被将是了上下个一二三四五六七八九十"
                "两几多新老大小城郊市县区镇乡村省州地社园街农")




def may_start_name(word: str, flag: str) -> bool:
    """A place name cannot start with 全, 各, 大… (全县, 各市, 大都市), except where the tagger
    knows the whole word as a place: 大理州, 大连市, 小金县."""
    return word[0] not in NOT_NAME or (flag == "ns" and len(word) >= 3 and word[0] in "大小")


@dataclass(frozen=True)
class Place:
    name: str  # folded, with its suffix: 湖州市, 德清县
    level: int  # 1 province … 5 village; 0 unknown (a name without suffix)

    @property
    def core(self) -> str:
        """湖州市 -> 湖州: how texts often write it."""
        for suffix in sorted(LEVELS, key=len, reverse=True):
            if self.name.endswith(suffix) and len(self.name) - len(suffix) >= 2:
                return self.name[:-len(suffix)]
        return self.name


def level_of(name: str) -> int:
    for suffix in sorted(LEVELS, key=len, reverse=True):
        if name.endswith(suffix):
            return LEVELS[suffix]
    return 0


@lru_cache(maxsize=16384)
def places_in(folded: str) -> tuple[Place, ...]:
    """Places a folded text names, each once: words the tagger marks as places (湖州, 美国;
    level unknown) and administrative names with their suffix (德清县, 乳源瑶族自治县)."""
    from qa.answer.question import _posseg

    out: dict[str, Place] = {}
    for word, flag in _posseg(folded):
        level = level_of(word)
        # a common noun ends in 区/镇/村 too (开发区, 管理区): those need the tagger's name tag
        plain = flag[:1] in "nx" and word[-1] in "省市县州"
        if level and len(word) >= 3 and may_start_name(word, flag) and (plain or flag in (
                "ns", "nr", "nz", "nt")):
            out.setdefault(word, Place(word, level))
        elif flag == "ns" and len(word) >= 2 and may_start_name(word, flag) and is_name(word):
            out.setdefault(word, Place(word, level if len(word) >= 3 else 0))
    return tuple(out.values())


def is_name(word: str) -> bool:
    """A level suffix needs a name of two characters before it: 都市, 山区, 乡镇 are common
    nouns, not places (a question's 哪一個都市 asks for a city); only 州 ends many
    two-character names (杭州, 湖州)."""
    if not level_of(word) or word.endswith("州"):
        return True
    return len(word) - max(len(x) for x in LEVELS if word.endswith(x)) >= 2


def level_word(folded: str) -> int:
    """The level a text speaks at through 全县/本市/我省…; 0 when it uses none."""
    m = _LEVEL_WORD.search(folded)
    return LEVELS.get(m.group(1), 0) if m else 0


def mentions(place: Place, folded: str) -> bool:
    core = place.core
    return place.name in folded or (len(core) >= 2 and core in folded)


