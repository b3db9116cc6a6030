"""The phrase syntax of the rules file, compiled to spaCy Matcher patterns.

word        that word                  a|b|c   any one of these words
word?       that word or nothing       *       any one word (*? : any word or none)
a_b         the words "a b" as one alternative             <year>  a year such as 2019
"""

from __future__ import annotations

import itertools
from typing import Any, Dict, Iterable, List, Tuple

SPECIAL_WORDS = ("*", "<year>", "<num>", "<times>")


def _slots(phrase: str) -> List[Tuple[List[List[str]], bool]]:
    """Parse "a|b_c d? *" into slots: (alternatives as word lists, optional)."""
    slots = []
    for raw in phrase.split():
        optional = raw.endswith("?") and len(raw) > 1
        raw = raw[:-1] if optional else raw
        alternatives = [alternative.split("_") for alternative in raw.split("|") if alternative]
        slots.append((alternatives, optional))
    return slots


def _token_spec(word: str) -> Dict[str, Any]:
    if word == "*":
        return {"IS_PUNCT": False}
    if word == "<year>":
        return {"TEXT": {"REGEX": r"^(19|20)\d\d$"}}
    if word == "<times>":  # nurses' "x4": four times
        return {"TEXT": {"REGEX": r"^x\d{1,2}$"}}
    if word == "<num>":
        return {"LIKE_NUM": True}
    return {"NORM": word}


def matcher_patterns(phrase: str) -> List[List[Dict[str, Any]]]:
    """Expand a phrase into spaCy Matcher patterns (multi-word alternatives become variants)."""
    choices = []
    for alternatives, optional in _slots(phrase):
        single = [a[0] for a in alternatives if len(a) == 1 and a[0] not in SPECIAL_WORDS]
        options: List[List[Dict[str, Any]]] = []
        if single:
            spec: Dict[str, Any] = {"NORM": {"IN": single}}
            options.append([dict(spec, OP="?") if optional else spec])
        for alternative in alternatives:
            if len(alternative) > 1 or alternative[0] in SPECIAL_WORDS:
                tokens = [_token_spec(word) for word in alternative]
                options.append(tokens)
        if optional:
            options.append([])
        choices.append(options)
    patterns = []
    for combination in itertools.product(*choices):
        pattern = [spec for part in combination for spec in part]
        if pattern and not all(spec.get("OP") == "?" for spec in pattern):
            patterns.append(pattern)
    return patterns


def phrase_words(phrases: Iterable[str]) -> set:
    words = set()
    for phrase in phrases:
        for alternatives, _ in _slots(phrase):
            for alternative in alternatives:
                words.update(word for word in alternative if word not in SPECIAL_WORDS)
    return words


# -- the engine -----------------------------------------------------------------------------------
