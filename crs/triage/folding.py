"""Tokenising and folding: messages are read lower-case, without apostrophes, with letters
repeated three times or more squeezed, and with known misspellings read as the word meant."""

from __future__ import annotations

from typing import Dict, Iterable, List, Tuple

from spacy.tokens import Doc

from crs.spelling import within_edits

_APOSTROPHES = {"'", "’", "‘", "`", "´"}


_CONTRACTIONS = {"ll": " will", "re": " are", "ve": " have"}


def fold(text: str) -> Tuple[str, List[int]]:
    """Lower-case, drop apostrophes, squeeze letters repeated 3+ times and runs of spaces; keep a
    map to the original.

    "can't" becomes "cant" and "he's" "hes" (phrases are written that way), but "I'll", "we're"
    and "they've" are spelled out so that they cannot read as "ill", "were" or "theyve".
    Returns the folded text and, for each of its characters, the index of the original character.
    """
    chars: List[str] = []
    origin: List[int] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char in _APOSTROPHES:
            tail = text[index + 1 : index + 3].lower()
            after = text[index + 3 : index + 4]
            if tail in _CONTRACTIONS and not after.isalpha():
                for piece in _CONTRACTIONS[tail]:
                    chars.append(piece)
                    origin.append(index)
                index += 3
                continue
            index += 1
            continue
        if char in "-‐" and 0 < index < len(text) - 1 and text[index - 1].isalpha() and text[index + 1].isalpha():
            char = " "  # "car-t", "flu-like", "light-headed": the words, not a hyphen token
        if char.isspace() and chars and chars[-1].isspace():
            # a run of spaces is one space ("can't  breathe"), or one line break if it has one
            if char == "\n" and chars[-1] != "\n":
                chars[-1], origin[-1] = "\n", index
            index += 1
            continue
        if char.isspace() and char != "\n":
            char = " "  # tabs and other spaces read as a space
        for piece in char.lower():
            if len(chars) >= 2 and piece.isalpha() and chars[-1] == piece and chars[-2] == piece:
                continue
            chars.append(piece)
            origin.append(index)
        index += 1
    return "".join(chars), origin


# -- the phrase syntax ----------------------------------------------------------------------------


def original_span(doc: Doc, origin: List[int], start: int, end: int) -> Tuple[int, int]:
    """Where tokens [start, end) of a folded message's doc stand in the message as written."""
    last = doc[end - 1]
    return origin[doc[start].idx], origin[last.idx + len(last) - 1] + 1


class Speller:
    """Reads a misspelt word as the word of the rules it stands for.

    Known misspellings are data (``spellings``); a dropped final g is restored ("seein"); a long
    word one or two edits away from a word of the rules is read as that word.
    """

    def __init__(self, known_words: Iterable[str], spellings: Dict[str, str]) -> None:
        self.known_words = set(known_words)
        # Words long enough to correct a typo towards, without pulling ordinary words in.
        self.typo_targets = sorted(w for w in self.known_words if len(w) >= 8 and w.isalpha())
        self.spellings = dict(spellings)
        self._cache: Dict[str, str] = {}

    def canonical(self, word: str) -> str:
        cached = self._cache.get(word)
        if cached is not None:
            return cached
        result = self.spellings.get(word, word)
        if result == word and word not in self.known_words and word.endswith("in") and word + "g" in self.known_words:
            result = word + "g"  # "seein", "breathin", "passin"
        elif len(word) >= 8 and word not in self.known_words and word.isalpha():
            limit = 2 if len(word) >= 10 else 1
            for target in self.typo_targets:
                if abs(len(target) - len(word)) <= limit and within_edits(word, target, limit):
                    result = target
                    break
        if len(self._cache) < 20000:
            self._cache[word] = result
        return result
