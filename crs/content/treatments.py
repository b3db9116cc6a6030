"""Treatments and drugs named in messages: exact names, brand names, aliases and near misspellings."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache, cached_property, lru_cache
from typing import Iterable, List, Sequence, Tuple

from crs.content.sources import Unit
from crs.spelling import within_edits


@dataclass(frozen=True)
class Treatment:
    id: str
    label: str
    names: Tuple[str, ...]  # as written in the sources (searched there)
    aliases: Tuple[str, ...]  # other spellings people use (only matched in messages)
    units: Tuple[Unit, ...] = field(default=(), repr=False)  # every unit naming it

    @cached_property
    def pattern(self) -> re.Pattern:
        """Names and aliases in a message (built once per treatment)."""
        return names_pattern(self.names + self.aliases)

    @cached_property
    def single_words(self) -> Tuple[str, ...]:
        return tuple(fold(n) for n in self.names + self.aliases if " " not in fold(n))


def fold(text: str) -> str:
    """Lower case, typographic apostrophes and hyphens folded: for matching names, not quoting."""
    text = text.lower().replace("’", "'").replace("‘", "'")
    return re.sub(r"[\s\-‐–]+", " ", text)


def names_pattern(names: Iterable[str]) -> re.Pattern:
    alternatives = sorted((re.escape(fold(name)) for name in names), key=len, reverse=True)
    return re.compile(r"(?<![a-z0-9])(?:" + "|".join(alternatives) + r")(?![a-z0-9])")


_WORD = re.compile(r"[a-z0-9]+(?:[ \-][a-z0-9]+)*")


def _typo_limit(name: str) -> int:
    return 2 if len(name) >= 10 else 1 if len(name) >= 6 else 0


def find_treatments(treatments: Sequence[Treatment], text: str) -> List[Tuple[Treatment, str]]:
    folded = fold(text)
    words = re.findall(r"[a-z0-9]+", folded)
    found: List[Tuple[Treatment, str]] = []
    for treatment in treatments:
        match = treatment.pattern.search(folded)
        if match:
            # a short alias may be the start of the name heard as words ("dexa meth a zone"): all
            # of those words are the name
            short = " " not in match.group(0) and match.group(0) not in {fold(n) for n in treatment.names}
            heard = _heard_as_words(treatment, words) if short else None
            found.append((treatment, heard if heard and match.group(0) in heard.split() else match.group(0)))
            continue
        # one-word names: tolerate a typo or two in longer names ("ritiximab", "revlamid")
        # (issue 13: the names and their limits once per treatment, not again for every word)
        typo_names = [(name, _typo_limit(name)) for name in treatment.single_words if _typo_limit(name)]
        for word in words:
            if any(
                abs(len(word) - len(name)) <= limit and within_edits(word, name, limit) for name, limit in typo_names
            ):
                found.append((treatment, word))
                break
        else:
            heard = _heard_as_words(treatment, words)
            if heard:
                found.append((treatment, heard))
    return found


def sounds(text: str) -> str:
    """A rough sound of a word, for names that voice-to-text splits and misspells: "toss ill zoo
    mab" and "tocilizumab" sound alike."""
    text = re.sub(r"ph", "f", text)
    text = re.sub(r"c(?=[eiy])", "s", text)
    text = text.replace("c", "k").replace("z", "s").replace("y", "i").replace("oo", "u").replace("ou", "u")
    return re.sub(r"(.)\1+", r"\1", text)


def skeleton(text: str) -> str:
    """The consonants of a word's sound, vowels and y dropped ("toss ill is you mab" and
    "tocilizumab" are both "tslsmb"): voice-to-text keeps a long name's consonants better than its
    vowels ("blinner to mo mab", "anti his to means")."""
    return _consonants(sounds(text))


def _consonants(sound: str) -> str:
    return re.sub(r"[aeiouyw]", "", sound)


def loose(text: str) -> str:
    """A word's sound with every r and h dropped: voice-to-text hears an unstressed syllable
    with or without them ("kim rhea", "kim rear", "kim riah" and "kymriah" are all about
    "kimia"; "blinner tumour mab" and "blinatumomab" have the same consonants)."""
    return re.sub(r"(.)\1+", r"\1", re.sub(r"[rh]", "", sounds(text)))


@lru_cache(maxsize=64)
def _loose_windows(words: Tuple[str, ...]) -> Tuple[Tuple[str, str, str], ...]:
    """Every run of two to five words of a message, in the order they are tried, with its loose
    sound and that sound's consonants: once per message, not once for every name."""
    windows = []
    for size in (2, 3, 4, 5):
        for start in range(len(words) - size + 1):
            heard = loose("".join(words[start : start + size]))
            windows.append((" ".join(words[start : start + size]), heard, _consonants(heard)))
    return tuple(windows)


@cache
def _name_readings(name: str) -> Tuple[str, str, str, str]:
    """A name's sound, its consonants, its loose sound and that sound's consonants (issue 13: once
    per name, not at every message)."""
    loose_name = loose(name)
    return sounds(name), skeleton(name), loose_name, _consonants(loose_name)


def _heard_as_words(treatment: Treatment, words: Sequence[str]) -> str | None:
    """A long one-word name heard as two to five words ("glow fit a mab", "blinnatumo mab",
    "toss ill is you mab", "cam path"): its sound within a typo or two, or the consonants of its
    sound with the same first and last letters (six or more consonants: within one edit; five:
    exactly, and about as long as the name)."""
    for name in treatment.single_words:
        if len(name) < 7:
            continue
        target, bones, loose_name, loose_bones = _name_readings(name)
        for size in (2, 3, 4, 5):
            for start in range(len(words) - size + 1):
                window = words[start : start + size]
                joined = "".join(window)
                if not joined[:1] == name[:1] or abs(len(joined) - len(name)) > 4:
                    continue
                if (
                    len(name) >= 8
                    and abs(len(joined) - len(name)) <= 3
                    and within_edits(sounds(joined), target, _typo_limit(name))
                ):
                    return " ".join(window)
                if joined[-1:] != name[-1:]:
                    continue  # heard names keep their ending ("... mab", "... means")
                near = abs(len(joined) - len(name)) <= 1
                if (len(bones) >= 6 or (len(bones) == 5 and near)) and within_edits(
                    skeleton(joined), bones, 1 if len(bones) >= 6 else 0
                ):
                    return " ".join(window)
        for window, heard, heard_bones in _loose_windows(tuple(words)):  # then heard with its r and h lost or added
            if heard[:1] != loose_name[:1] or heard[-1:] != loose_name[-1:]:
                continue
            if heard == loose_name or (
                len(heard) == len(loose_name) >= 5
                and heard[:2] == loose_name[:2]
                and within_edits(heard, loose_name, 1)
            ):
                return window  # "kim rya", "kim rhea" (kymriah: "kimia")
            if len(loose_bones) >= 6 and heard_bones == loose_bones:
                return window  # "blinner tumour mab", "toe sillies you mab"
    return None
