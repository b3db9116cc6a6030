"""Typo tolerance shared by the red-flag engine and the treatment names. No Rasa import."""

from __future__ import annotations

from typing import List


def within_edits(a: str, b: str, limit: int) -> bool:
    """True when the optimal-string-alignment distance of a and b is at most `limit`
    (insertions, deletions, substitutions and swaps of neighbouring letters)."""
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
