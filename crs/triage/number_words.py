"""Numbers said in words, as digits: "thirty nine point four" -> "39.4", "a hundred and ten" ->
"110", "eighty five over fifty" -> "85 over 50", "38 point 5" -> "38.5".

Used only to read vital signs, on a copy of the folded message with a map back to it, so that
phrase matching still sees the words ("no one", "at one point" are left alone: a lone small
number word is not converted unless a decimal follows it).
"""

from __future__ import annotations

import re
from typing import List, Tuple

UNITS = {
    "zero": 0, "oh": 0, "nought": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90,
}  # fmt: skip
_WORD = re.compile(r"[a-z]+|\d+(?:[.,]\d+)?")
_POINT = {"point", "pt", "dot"}


def _read_integer(words: List[str], i: int) -> Tuple[int | None, int]:
    """An integer said in words from words[i]: (value, index after it) or (None, i)."""
    value, j, seen = 0, i, False
    if j < len(words) and words[j] in ("a", "one") and j + 1 < len(words) and words[j + 1] == "hundred":
        value, j, seen = 100, j + 2, True
    elif j < len(words) and words[j] in UNITS and j + 1 < len(words) and words[j + 1] == "hundred":
        value, j, seen = UNITS[words[j]] * 100, j + 2, True
    if seen and j < len(words) and words[j] in ("and", "n", "an"):
        j += 1
    rest = 0
    if j < len(words) and words[j] in TENS:
        rest = TENS[words[j]]
        j += 1
        if j < len(words) and words[j] in UNITS and UNITS[words[j]] < 10:
            rest += UNITS[words[j]]
            j += 1
        seen = True
    elif j < len(words) and words[j] in UNITS:
        rest = UNITS[words[j]]
        j += 1
        seen = True
    elif seen and words[j - 1] in ("and", "n", "an"):
        j -= 1  # "a hundred and" with nothing after: the "and" is not part of it
    return (value + rest, j) if seen else (None, i)


def _read_decimals(words: List[str], j: int) -> Tuple[str | None, int]:
    """Digits after "point": "point four", "point 5", "point oh two"."""
    if j >= len(words) or words[j] not in _POINT:
        return None, j
    k, digits = j + 1, ""
    while k < len(words) and len(digits) < 2:
        if words[k] in UNITS and UNITS[words[k]] < 10:
            digits += str(UNITS[words[k]])
        elif words[k].isdecimal() and len(words[k]) <= 2:
            digits += words[k]
        else:
            break
        k += 1
    return (digits, k) if digits else (None, j)


def digits_for_words(folded: str) -> Tuple[str, List[int]]:
    """The text with spoken numbers as digits, and for each character the index in `folded`."""
    tokens = [(m.group(0), m.start(), m.end()) for m in _WORD.finditer(folded)]
    words = [t[0] for t in tokens]
    out: List[str] = []
    origin: List[int] = []
    position = 0
    i = 0
    while i < len(tokens):
        value, j = _read_integer(words, i)
        integer = str(value) if value is not None else None
        if integer is None and re.fullmatch(r"\d+", words[i]):
            integer, j = words[i], i + 1  # "38 point 5"
        replacement = None
        if integer is not None:
            decimals, k = _read_decimals(words, j)
            big = value is not None and (value >= 10 or any(w == "hundred" for w in words[i:j]))
            if decimals is not None:
                replacement, j = f"{integer}.{decimals}", k
            elif big:
                replacement = integer
        if replacement is None:
            i += 1
            continue
        start, end = tokens[i][1], tokens[j - 1][2]
        out.append(folded[position:start])
        origin.extend(range(position, start))
        out.append(replacement)
        origin.extend([start] * (len(replacement) - 1) + [end - 1])
        position = end
        i = j
    out.append(folded[position:])
    origin.extend(range(position, len(folded)))
    return "".join(out), origin
