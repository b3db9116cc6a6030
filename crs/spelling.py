"""Typo tolerance shared by the red-flag engine and the treatment names. No Rasa import."""

from __future__ import annotations

from typing import Dict, List


def within_edits(a: str, b: str, limit: int) -> bool:
    """True when the optimal-string-alignment distance of a and b is at most `limit`
    (insertions, deletions, substitutions and swaps of neighbouring letters)."""
    if abs(len(a) - len(b)) > limit:
        return False
    if a == b:
        return True
    if _bag_distance(a, b) > limit:
        # issue 13: most pairs compared (a word of a message and a name or a red-flag word)
        # differ in more letters than the limit; each edit changes the letters' difference by
        # at most one (a swap by none), so the distance below is at least this
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


def _bag_distance(a: str, b: str) -> int:
    """The larger of the letters of a not in b and of b not in a (counted with repeats): a lower
    bound of the edit distance with swaps."""
    counts: Dict[str, int] = {}
    for char in a:
        counts[char] = counts.get(char, 0) + 1
    for char in b:
        counts[char] = counts.get(char, 0) - 1
    more = fewer = 0
    for count in counts.values():
        if count > 0:
            more += count
        else:
            fewer -= count
    return max(more, fewer)
