"""Chinese numerals as values (二〇一六 -> 2016, 三千五百 -> 3500, 1.2万 is read elsewhere):
shared by the question constraints (第四届) and the verifier of written answers."""

from __future__ import annotations

HAN_DIGIT = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
             "七": 7, "八": 8, "九": 9}
HAN_SMALL = {"十": 10, "百": 100, "千": 1000}
HAN_CHARS = "".join(HAN_DIGIT) + "十百千万亿"


def han_value(s: str) -> int | None:
    if not s:
        return 0
    if all(c in HAN_DIGIT for c in s):  # 二〇一六, 三
        return int("".join(str(HAN_DIGIT[c]) for c in s))
    for big, mult in (("亿", 10**8), ("万", 10**4)):
        if big in s:
            head, _, tail = s.rpartition(big)
            a, b = han_value(head) if head else 1, han_value(tail)
            return None if a is None or b is None else a * mult + b
    total, number = 0, 0
    for c in s:
        if c in HAN_DIGIT:
            number = HAN_DIGIT[c]
        elif c in HAN_SMALL:
            total += (number or 1) * HAN_SMALL[c]
            number = 0
        else:
            return None
    return total + number
