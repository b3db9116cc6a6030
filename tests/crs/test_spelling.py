"""crs.spelling: the quick answers (equal words, letters that differ more than the limit) give
what the full comparison gives (issue 13)."""

from __future__ import annotations

import random
from typing import List

from crs.spelling import _bag_distance, within_edits


def within_edits_verbatim(a: str, b: str, limit: int) -> bool:
    """crs.spelling.within_edits before its quick answers, verbatim."""
    if abs(len(a) - len(b)) > limit:
        return False
    previous2: List[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return False
        previous2, previous = previous, current
    return previous[-1] <= limit


def test_quick_answers_give_the_full_comparisons_result():
    rng = random.Random(13)
    words = ["tocilizumab", "blinatumomab", "confused", "breathing", "temperature", "seizure", "fever", "a", ""]
    close = 0
    for _ in range(40000):
        if rng.random() < 0.5:
            a = "".join(rng.choice("abcdeilmnotu") for _ in range(rng.randint(0, 12)))
        else:  # a word with a few edits: near the limit
            a = list(rng.choice(words))
            for _ in range(rng.randint(0, 3)):
                op = rng.randint(0, 3)
                k = rng.randint(0, len(a))
                if op == 0:
                    a.insert(k, rng.choice("aeiomnz"))
                elif a and op == 1:
                    del a[min(k, len(a) - 1)]
                elif a and op == 2:
                    a[min(k, len(a) - 1)] = rng.choice("aeiomnz")
                elif len(a) > 1:
                    k = min(k, len(a) - 2)
                    a[k], a[k + 1] = a[k + 1], a[k]
            a = "".join(a)
        b = (
            rng.choice(words)
            if rng.random() < 0.7
            else "".join(rng.choice("abcdeilmnotu") for _ in range(rng.randint(0, 12)))
        )
        limit = rng.randint(-1, 3)
        expected = within_edits_verbatim(a, b, limit)
        assert within_edits(a, b, limit) == expected, (a, b, limit)
        close += expected
    assert close > 1500  # the comparison covers matches, not only misses
    assert _bag_distance("ab", "ba") == 0 and _bag_distance("abc", "abd") == 1 and _bag_distance("", "xyz") == 3
