"""Numbers as they are spoken: "five hundred", "one twenty over eighty", "ninety eight point six", "三十八点五".

Speech recognisers write numbers both as digits and as words, and clinicians say blood pressures the short
way ("one forty over ninety"). The patterns here find a number in either form inside a larger regular
expression (`NUMBER_EN`, `NUMBER_ZH`), and the parsers turn the matched text into a float.
"""

from __future__ import annotations

import re

UNITS_EN = {
    "zero": 0,
    "oh": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
TENS_EN = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
_WORD = (
    r"(?:" + "|".join(sorted([*UNITS_EN, *TENS_EN, "hundred", "thousand", "half", "a"], key=len, reverse=True)) + r")"
)
# Digits ("500", "98.6", "1,000") or a run of number words ("five hundred", "one twenty", "ninety-eight point six").
# A lone "a" or "oh" is not a number; the parser returns None for those and the caller skips the match.
NUMBER_EN = (
    r"(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+"
    r"|(?:" + _WORD + r")(?:(?:[\s-]+(?:and[\s-]+)?|[\s-]+)(?:" + _WORD + r"|point))*)"
)


def parse_number_en(text: str) -> float | None:
    """The value of a spoken or written English number, or None when the words are not a number."""
    text = text.strip().lower().replace(",", "")
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        pass
    words = [w for w in re.split(r"[\s-]+", text) if w and w != "and"]
    if not words or all(w in ("a", "oh") for w in words):
        return None
    if "point" in words:
        index = words.index("point")
        whole = _words_to_int(words[:index]) if index else 0
        decimals = [UNITS_EN.get(w) for w in words[index + 1 :]]
        if whole is None or not decimals or any(d is None or d > 9 for d in decimals):
            return None
        return float(f"{whole}.{''.join(str(d) for d in decimals)}")
    if words == ["half"]:
        return 0.5
    return None if (value := _words_to_int(words)) is None else float(value)


def _words_to_int(words: list[str]) -> int | None:
    if not words:
        return None
    if words[0] == "a":
        words = ["one", *words[1:]]
    if any(w not in UNITS_EN and w not in TENS_EN and w not in ("hundred", "thousand") for w in words):
        return None
    if "hundred" not in words and "thousand" not in words and len(words) >= 2:
        # The short spoken form: "one twenty" = 120, "one oh one" = 101, "ninety eight" = 98.
        groups = _short_form(words)
        if groups is not None:
            return groups
    total = 0
    current = 0
    for w in words:
        if w in UNITS_EN:
            current += UNITS_EN[w]
        elif w in TENS_EN:
            current += TENS_EN[w]
        elif w == "hundred":
            current = max(current, 1) * 100
        elif w == "thousand":
            total += max(current, 1) * 1000
            current = 0
    return total + current


def _short_form(words: list[str]) -> int | None:
    # Tens followed by a unit below ten is one two-digit number ("ninety eight").
    if len(words) == 2 and words[0] in TENS_EN and words[1] in UNITS_EN and 0 < UNITS_EN[words[1]] < 10:
        return TENS_EN[words[0]] + UNITS_EN[words[1]]
    # A leading digit word then a two-digit group: "one twenty" (120), "one oh five" (105), "two ten" (210).
    if words[0] in UNITS_EN and UNITS_EN[words[0]] < 10 and words[0] != "oh":
        rest = _two_digits(words[1:])
        if rest is not None:
            return UNITS_EN[words[0]] * 100 + rest
    return None


def _two_digits(words: list[str]) -> int | None:
    if len(words) == 2 and words[0] == "oh" and words[1] in UNITS_EN and UNITS_EN[words[1]] < 10:
        return UNITS_EN[words[1]]
    if len(words) == 1 and (words[0] in TENS_EN or (words[0] in UNITS_EN and UNITS_EN[words[0]] >= 10)):
        return TENS_EN.get(words[0], UNITS_EN.get(words[0]))
    if len(words) == 2 and words[0] in TENS_EN and words[1] in UNITS_EN and 0 < UNITS_EN[words[1]] < 10:
        return TENS_EN[words[0]] + UNITS_EN[words[1]]
    return None


DIGITS_ZH = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
MULTIPLIERS_ZH = {"十": 10, "百": 100, "千": 1000}
NUMBER_ZH = r"(?:\d+(?:\.\d+)?|[零〇一二两三四五六七八九十百千]+(?:点[零〇一二三四五六七八九]+)?|半)"


def parse_number_zh(text: str) -> float | None:
    """The value of a number written in Chinese characters or digits ("三十八点五" -> 38.5, "两" -> 2)."""
    text = text.strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        pass
    if text == "半":
        return 0.5
    whole_text, _, decimal_text = text.partition("点")
    whole = _zh_to_int(whole_text) if whole_text else 0
    if whole is None:
        return None
    if not decimal_text:
        return float(whole)
    digits = [DIGITS_ZH.get(c) for c in decimal_text]
    if any(d is None for d in digits):
        return None
    return float(f"{whole}.{''.join(str(d) for d in digits)}")


def _zh_to_int(text: str) -> int | None:
    if any(c not in DIGITS_ZH and c not in MULTIPLIERS_ZH for c in text):
        return None
    if not any(c in MULTIPLIERS_ZH for c in text):
        # Digit by digit ("一二零" = 120) as numbers are sometimes read out.
        return int("".join(str(DIGITS_ZH[c]) for c in text))
    total = 0
    current = 0
    for c in text:
        if c in DIGITS_ZH:
            current = DIGITS_ZH[c]
        else:
            total += max(current, 1) * MULTIPLIERS_ZH[c]
            current = 0
    return total + current


def format_number(value: float) -> str:
    """A number as a note writes it: 500 not 500.0, 38.5 as is."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
