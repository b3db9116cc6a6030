"""A spaCy Matcher that only tries the patterns a message can match.

spaCy's Matcher tries every pattern at every token, so its cost grows with the number of
patterns times the length of the message: with about a thousand symptom patterns a long carer's
message took most of the engine's time. Nearly every pattern has a slot that must be one of a few
words (its *anchor*); a pattern whose anchor words are all absent from the message cannot match.
Patterns are kept in small Matchers, one per anchor word set, and a message runs only those whose
anchor words it contains (plus the few patterns with no anchor, which always run). The matches are
the same as one Matcher's: same keys, same spans, each once, in the same order.
"""

from __future__ import annotations

from typing import Any, Dict, FrozenSet, Iterable, List, Tuple

from spacy.lang.en.stop_words import STOP_WORDS
from spacy.matcher import Matcher
from spacy.tokens import Doc

Pattern = List[Dict[str, Any]]
Match = Tuple[int, int, int]

_ALWAYS: FrozenSet[str] = frozenset()


def anchor(pattern: Pattern) -> FrozenSet[str]:
    """The words of the pattern's most selective required slot (empty: the pattern has none).

    A required slot is one with no operator that names its words by NORM. Slots of common words
    ("is", "not") are chosen last, then smaller sets before larger ones."""
    best: Tuple[int, int] | None = None
    chosen = _ALWAYS
    for spec in pattern:
        if spec.get("OP") not in (None, "!", "1") or set(spec) - {"NORM", "OP"}:
            continue
        norm = spec.get("NORM")
        if isinstance(norm, str):
            words = frozenset([norm])
        elif isinstance(norm, dict) and set(norm) == {"IN"}:
            words = frozenset(norm["IN"])
        else:
            continue
        if spec.get("OP") == "!":
            continue
        rank = (sum(word in STOP_WORDS for word in words), len(words))
        if best is None or rank < best:
            best, chosen = rank, words
    return chosen


class GatedMatcher:
    """The subset of spaCy's Matcher API the engine uses: add(key, patterns) and __call__(doc)."""

    def __init__(self, vocab: Any) -> None:
        self.vocab = vocab
        self._buckets: Dict[FrozenSet[str], Matcher] = {}
        self._by_word: Dict[str, List[FrozenSet[str]]] = {}
        self._keys: Dict[str, int] = {}  # key -> order added, to return matches as one Matcher would

    def add(self, key: str, patterns: Iterable[Pattern]) -> None:
        self._keys.setdefault(key, len(self._keys))
        for pattern in patterns:
            words = anchor(pattern)
            matcher = self._buckets.get(words)
            if matcher is None:
                matcher = self._buckets[words] = Matcher(self.vocab)
                for word in words:
                    self._by_word.setdefault(word, []).append(words)
            matcher.add(key, [pattern])

    def __len__(self) -> int:
        return len(self._keys)

    def __call__(self, doc: Doc) -> List[Match]:
        norms = {token.norm_ for token in doc}
        wanted = {words for norm in norms for words in self._by_word.get(norm, ())}
        if _ALWAYS in self._buckets:
            wanted.add(_ALWAYS)
        found = set()
        for words in wanted:
            found.update(self._buckets[words](doc))
        return sorted(found, key=lambda match: (match[1], match[2], match[0]))
