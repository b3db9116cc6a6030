"""Messages in other languages (issue 10, item 6; rules in data/languages.yml).

``LanguageGuard.language(text)`` names the language of a message that is not English (None for
English, or when unsure); ``LanguageGuard.red_flags(text)`` finds the common red-flag words of
the UK's most spoken other languages, each as ``(finding_id, start, end, language)`` with the
character offsets in the original text. English red-flag words inside such a message are still
found by the triage engine as usual: this module only adds.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Tuple

import yaml

from crs.settings import ROOT

LANGUAGES_PATH = ROOT / "data" / "languages.yml"
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?", re.UNICODE)


def _fold(text: str) -> Tuple[str, List[int]]:
    """Lower case without accents (Latin scripts), with the offset in the original of each
    character kept, so a match can point back into the text as written."""
    if text.isascii():
        # what the loop below gives for ASCII (no accents to drop, one character for one), at
        # once: most messages are plain ASCII (issue 13)
        return text.lower(), list(range(len(text)))
    folded: List[str] = []
    origin: List[int] = []
    for index, char in enumerate(text):
        decomposed = unicodedata.normalize("NFD", char.lower())
        base = (
            "".join(c for c in decomposed if not unicodedata.combining(c)) if char.isascii() or _latin(char) else char
        )
        base = {"ł": "l", "’": "'", "‘": "'"}.get(base, base)
        for c in base:
            folded.append(c)
            origin.append(index)
    return "".join(folded), origin


def _latin(char: str) -> bool:
    return "LATIN" in unicodedata.name(char, "")


@dataclass(frozen=True)
class Match:
    finding_id: str
    start: int
    end: int
    language: str
    text: str


class LanguageGuard:
    """Other languages: which one a message is in, and the red-flag words it contains."""

    def __init__(self, rules: Dict[str, Any]) -> None:
        self.markers = {
            lang: {_fold(str(word))[0] for word in words} for lang, words in (rules.get("markers") or {}).items()
        }
        self.scripts = {
            name: re.compile("[" + "".join(ranges) + "]") for name, ranges in (rules.get("scripts") or {}).items()
        }
        # whether any script's letters are ASCII (none are: a plain ASCII message is in none)
        self.ascii_scripts = any(script.match(chr(code)) for script in self.scripts.values() for code in range(128))
        self.patterns: List[Tuple[str, str, re.Pattern]] = []
        # the patterns an ASCII text can match: a phrase with a letter outside ASCII (after
        # folding) is a literal in its pattern, which no ASCII text contains
        self.ascii_patterns: List[Tuple[str, str, re.Pattern]] = []
        for language, findings in (rules.get("red_flags") or {}).items():
            for finding_id, phrases in findings.items():
                for phrase in phrases:
                    folded, _ = _fold(str(phrase))
                    body = re.escape(folded).replace(r"\ ", r"\s+")
                    # whole words in scripts with word boundaries; Brahmic and Arabic words take
                    # suffixes and vowel signs, so there a phrase may be part of a longer word
                    bounded = all(c.isascii() or _latin(c) or not c.isalpha() for c in folded)
                    pattern = rf"(?<!\w){body}(?!\w)" if bounded else body
                    self.patterns.append((language, str(finding_id), re.compile(pattern)))
                    if folded.isascii():
                        self.ascii_patterns.append(self.patterns[-1])
        # one search for any of them first: where none matches anywhere (most messages), no
        # single pattern does either
        self.any_pattern = re.compile("|".join(f"(?:{p.pattern})" for _, _, p in self.patterns) or "(?!)")

    @classmethod
    def load(cls, path: Path = LANGUAGES_PATH) -> LanguageGuard:
        return cls(yaml.safe_load(Path(path).read_text(encoding="utf-8")))

    def language(self, text: str) -> str | None:
        """The language of a message that is not English, or None."""
        letters = [c for c in text if c.isalpha()]
        if not letters:
            return None
        for name, script in self.scripts.items() if self.ascii_scripts or not text.isascii() else ():
            if sum(1 for c in letters if script.match(c)) > len(letters) * 0.3:
                return name
        words = [w for w in _WORD.findall(_fold(text)[0])]
        if not words:
            return None
        counts = {lang: sum(1 for w in words if w in markers) for lang, markers in self.markers.items()}
        english = counts.pop("english", 0)
        if not counts:
            return None
        best = max(counts, key=lambda lang: counts[lang])
        if counts[best] >= 2 and counts[best] > english:
            return best
        flagged = [m.language for m in self.red_flags(text)]  # a red flag in words of another language
        return flagged[0] if flagged and english < 2 else None

    def red_flags(self, text: str) -> List[Match]:
        """Red-flag words of other languages in the text (any mention counts as present)."""
        if not text:
            return []
        folded, origin = _fold(text)
        found: List[Match] = []
        if not self.any_pattern.search(folded):
            return found
        for language, finding_id, pattern in self.ascii_patterns if folded.isascii() else self.patterns:
            for match in pattern.finditer(folded):
                start = origin[match.start()]
                end = origin[match.end() - 1] + 1
                found.append(Match(finding_id, start, end, language, text[start:end]))
        return found


@lru_cache(maxsize=1)
def default_languages() -> LanguageGuard:
    return LanguageGuard.load()
