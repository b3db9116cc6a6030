"""Red-flag triage: one message in, a triage level and its findings out (design.md).

Plain Python on spaCy's blank English tokenizer and rule matcher; no Rasa import, no trained
model. The rules are data (``data/triage/red_flags.yml``). Everything the assistant decides about
danger goes through ``TriageEngine.assess``:

    .venv/bin/python -m actions.triage "my husband cant breathe properly"

Safety stance: a missed emergency is the worst failure. Where the reading of a message is in
doubt (uncertain wording, a negation that may not govern the symptom), the mention counts as
present.
"""

from __future__ import annotations

import itertools
import json
import re
import sys
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, Iterable, List, Sequence, Tuple

import spacy
import yaml
from spacy.matcher import Matcher
from spacy.tokens import Doc

from actions.settings import ROOT
from actions.spelling import within_edits

RULES_PATH = ROOT / "data" / "triage" / "red_flags.yml"
LEVELS = ("none", "urgent", "emergency")  # in order of severity
ASSERTIONS = ("present", "negated", "hypothetical", "historical")

# Tokens that end a sentence: no cue reaches across them.
_SENTENCE_BREAKS = {".", "!", "?", ";", "\n", "…", "(", ")"}  # a parenthesis is a statement of its own
# Tokens that end a clause for negation and hypotheses (commas included: "no fever, cant breathe"
# must not read as a negated breathing problem).
_CLAUSE_PUNCT = _SENTENCE_BREAKS | {",", ":", "-", "–", "—", "(", ")", "/"}
# A new subject between a negation and a symptom means the negation belongs to something else
# ("no he cant breathe", "not me, my husband is confused").
# Words that always end a statement for hypotheses and history.
_STRONG_BREAKS = {"but", "however", "although", "though", "whereas"}
# A denial between a mention and an all-clear word makes it a report: "his breathing isnt right".
_DENIALS = {"isnt", "not", "doesnt", "dont", "aint", "wasnt", "arent", "never", "hasnt", "no"}
# Words allowed between a mention and its all-clear word ("breathing is totally fine").
_ALL_CLEAR_GLUE = {
    "look",
    "looks",
    "seem",
    "seems",
    "sound",
    "sounds",
    "feel",
    "feels",
    "is",
    "s",
    "was",
    "has",
    "been",
    "are",
    "all",
    "totally",
    "completely",
    "perfectly",
    "fine",
    "now",
    "ok",
    "okay",
    "quite",
    "pretty",
    "back",
    "to",
}
_SUBJECTS = {
    "i",
    "im",
    "ive",
    "id",
    "he",
    "hes",
    "she",
    "shes",
    "they",
    "theyre",
    "we",
    "were",
    "you",
    "youre",
    "my",
    "his",
    "her",
    "their",
    "our",
    "your",
    "it",
    "its",
    "there",
    "theres",
    "mum",
    "mom",
    "dad",
    "husband",
    "wife",
    "son",
    "daughter",
    "partner",
    "mother",
    "father",
    "brother",
    "sister",
    "friend",
    "patient",
}


@dataclass(frozen=True)
class Finding:
    id: str
    level: str
    label: str
    text: str  # the words of the message that expressed it, as written
    assertion: str
    start: int
    end: int
    passage_id: str
    value: float | None = None  # a reading with a unit, where one was given

    def as_dict(self) -> Dict[str, Any]:
        data = asdict(self)
        if self.value is None:
            data.pop("value")
        return data


@dataclass(frozen=True)
class Triage:
    level: str
    findings: Tuple[Finding, ...]

    @property
    def present(self) -> List[Finding]:
        return [finding for finding in self.findings if finding.assertion == "present"]

    def as_dict(self) -> Dict[str, Any]:
        return {"level": self.level, "findings": [finding.as_dict() for finding in self.findings]}


# -- folding text ---------------------------------------------------------------------------------

_APOSTROPHES = {"'", "’", "‘", "`", "´"}


_CONTRACTIONS = {"ll": " will", "re": " are", "ve": " have"}


def fold(text: str) -> Tuple[str, List[int]]:
    """Lower-case, drop apostrophes, squeeze letters repeated 3+ times; keep a map to the original.

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
        for piece in char.lower():
            if len(chars) >= 2 and piece.isalpha() and chars[-1] == piece and chars[-2] == piece:
                continue
            chars.append(piece)
            origin.append(index)
        index += 1
    return "".join(chars), origin


# -- the phrase syntax ----------------------------------------------------------------------------


_SPECIAL_WORDS = ("*", "<year>", "<num>")


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
    if word == "<num>":
        return {"LIKE_NUM": True}
    return {"NORM": word}


def matcher_patterns(phrase: str) -> List[List[Dict[str, Any]]]:
    """Expand a phrase into spaCy Matcher patterns (multi-word alternatives become variants)."""
    choices = []
    for alternatives, optional in _slots(phrase):
        single = [a[0] for a in alternatives if len(a) == 1 and a[0] not in _SPECIAL_WORDS]
        options: List[List[Dict[str, Any]]] = []
        if single:
            spec: Dict[str, Any] = {"NORM": {"IN": single}}
            options.append([dict(spec, OP="?") if optional else spec])
        for alternative in alternatives:
            if len(alternative) > 1 or alternative[0] in _SPECIAL_WORDS:
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


def _phrase_words(phrases: Iterable[str]) -> set:
    words = set()
    for phrase in phrases:
        for alternatives, _ in _slots(phrase):
            for alternative in alternatives:
                words.update(word for word in alternative if word not in _SPECIAL_WORDS)
    return words


# -- typo tolerance ---------------------------------------------------------------------------


# -- the engine -----------------------------------------------------------------------------------


class TriageEngine:
    """Finds red flags and CRS symptoms in a message and reads how each is asserted."""

    def __init__(self, rules: Dict[str, Any]) -> None:
        self.rules = rules
        self.nlp = spacy.blank("en")
        # No tokenizer exceptions: they split the folded "cant" into "ca nt" and "wont" into "wo nt".
        self.nlp.tokenizer.rules = {}
        vocab = self.nlp.vocab
        self.findings = {spec["id"]: spec for spec in rules["findings"]}
        self.numbers = rules.get("numbers") or {}
        assertion = rules["assertion"]
        self.negation_window = int(assertion.get("negation_window", 5))
        self.clause_words = set(assertion.get("clause_breaks", []))
        self.list_joiners = set(assertion.get("list_joiners", ["or", "nor", "any", "and/or"]))

        self.symptoms = Matcher(vocab)
        self.vetoes = Matcher(vocab)
        self.mentions = Matcher(vocab)
        for spec in rules["findings"]:
            if spec["level"] not in LEVELS[1:]:
                raise ValueError(f"finding {spec['id']}: unknown level {spec['level']!r}")
            for phrase in spec["phrases"]:
                self.symptoms.add(spec["id"], matcher_patterns(phrase))
            for phrase in spec.get("not_when") or []:
                self.vetoes.add(spec["id"], matcher_patterns(phrase))
            for phrase in spec.get("mentions") or []:
                self.mentions.add(spec["id"], matcher_patterns(phrase))

        self.cues: Dict[str, Matcher] = {}
        for name in (
            "negation_cues",
            "all_clear_cues",
            "uncertainty_cues",
            "hypothetical_cues",
            "hypothetical_after_cues",
            "present_markers",
            "historical_cues",
            "hypothetical_idioms",
            "negation_idioms",
            "past_markers",
            "ongoing_markers",
        ):
            matcher = Matcher(vocab)
            for phrase in assertion.get(name, []):
                matcher.add(name, matcher_patterns(phrase))
            self.cues[name] = matcher

        # Words long enough to correct a typo towards, without pulling ordinary words in.
        all_phrases = [p for spec in rules["findings"] for p in spec["phrases"]]
        self.known_words = _phrase_words(all_phrases) | _phrase_words(
            p for spec in rules["findings"] for p in (spec.get("mentions") or []) + (spec.get("not_when") or [])
        )
        self.typo_targets = sorted(w for w in self.known_words if len(w) >= 8 and w.isalpha())
        self._canonical_cache: Dict[str, str] = {}
        self.spellings: Dict[str, str] = {str(k): str(v) for k, v in (rules.get("spellings") or {}).items()}
        self._answers = {
            kind: {self._fold_answer(text) for text in texts}
            for kind, texts in (rules.get("answers") or {}).items()
            if kind not in ("fillers", "stop")
        }
        self._stop_words = {self._fold_answer(text) for text in (rules.get("answers") or {}).get("stop", [])}
        self._fillers = sorted(
            (self._fold_answer(text) for text in (rules.get("answers") or {}).get("fillers", [])),
            key=len,
            reverse=True,
        )

    @classmethod
    def load(cls, path: Path = RULES_PATH) -> TriageEngine:
        return cls(yaml.safe_load(Path(path).read_text(encoding="utf-8")))

    # -- public ------------------------------------------------------------------------------

    def assess(self, text: str) -> Triage:
        """Triage one message: every finding with its assertion, and the level of what is present."""
        if not text or not text.strip():
            return Triage("none", ())
        folded, origin = fold(text[:5000])
        doc = self._doc(folded)
        findings = self._phrase_findings(doc, text, origin) + self._number_findings(doc, folded, text, origin)
        findings = self._resolve(findings)
        level = "none"
        for finding in findings:
            if finding.assertion == "present" and LEVELS.index(finding.level) > LEVELS.index(level):
                level = finding.level
        return Triage(level, tuple(findings))

    def answer(self, text: str) -> str | None:
        """Read a short reply to a yes/no question: "present", "absent", "unsure" or None."""
        folded = self._fold_answer(text or "")
        for filler in self._fillers:
            if folded.startswith(filler + " ") and folded != filler:
                folded = folded[len(filler) + 1 :]
        for kind in ("unsure", "absent", "present"):
            if folded in self._answers.get(kind, ()):
                return kind
        first = folded.split(" ", 1)[0] if folded else ""
        # "yes he is struggling", "no not at all really": the first word decides
        if first in {"yes", "y", "yeah", "yep", "yup", "yea", "aye"}:
            return "present"
        if first in {"no", "n", "nope", "nah"}:
            return "absent"
        return None

    def is_stop(self, text: str) -> bool:
        """A request to stop the yes/no check ("STOP", "cancel")."""
        return self._fold_answer(text or "") in self._stop_words

    # -- steps -------------------------------------------------------------------------------

    @staticmethod
    def _fold_answer(text: str) -> str:
        folded, _ = fold(text)
        return " ".join(re.sub(r"[^\w\s]", " ", folded).split())

    def _doc(self, folded: str) -> Doc:
        doc = self.nlp.make_doc(folded)
        for token in doc:
            token.norm_ = self._canonical(token.lower_)
        return doc

    def _canonical(self, word: str) -> str:
        """A long word one or two typos away from a word of the rules is read as that word."""
        cached = self._canonical_cache.get(word)
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
        if len(self._canonical_cache) < 20000:
            self._canonical_cache[word] = result
        return result

    def _span_text(self, text: str, origin: List[int], start_char: int, end_char: int) -> Tuple[str, int, int]:
        start = origin[start_char]
        end = origin[end_char - 1] + 1
        return text[start:end], start, end

    def _phrase_findings(self, doc: Doc, text: str, origin: List[int]) -> List[Finding]:
        vetoed: Dict[str, List[Tuple[int, int]]] = {}
        for match_id, start, end in self.vetoes(doc):
            vetoed.setdefault(self.nlp.vocab.strings[match_id], []).append((start, end))
        matches = []
        for match_id, start, end in self.symptoms(doc):
            finding_id = self.nlp.vocab.strings[match_id]
            if not any(start < v_end and v_start < end for v_start, v_end in vetoed.get(finding_id, [])):
                matches.append((finding_id, start, end))
        self._spans = sorted({(start, end, self.findings[fid]["level"]) for fid, start, end in matches})
        findings = [self._finding(fid, doc, start, end, text, origin) for fid, start, end in matches]
        # "breathing is fine", "temp normal": a mention followed by an all-clear word
        all_clear = [(s, e) for _, s, e in self.cues["all_clear_cues"](doc)]
        for match_id, start, end in self.mentions(doc):
            finding_id = self.nlp.vocab.strings[match_id]
            for clear_start, clear_end in all_clear:
                gap = doc[end:clear_start]
                denied = any(t.norm_ in _DENIALS for t in gap)  # "breathing isnt normal"
                if 0 <= clear_start - end <= 3 and all(t.norm_ in _ALL_CLEAR_GLUE or t.norm_ in _DENIALS for t in gap):
                    # "not sure he is breathing normally" is a doubt, not an all-clear
                    uncertain = self._uncertain(doc, start, clear_end)
                    finding = self._finding(
                        finding_id,
                        doc,
                        start,
                        clear_end,
                        text,
                        origin,
                        assertion="present" if uncertain or denied else "negated",
                    )
                    findings.append(finding)
                    break
        return findings

    def _finding(
        self,
        finding_id: str,
        doc: Doc,
        start: int,
        end: int,
        text: str,
        origin: List[int],
        value: float | None = None,
        assertion: str | None = None,
    ) -> Finding:
        spec = self.findings[finding_id]
        words, char_start, char_end = self._span_text(
            text, origin, doc[start].idx, doc[end - 1].idx + len(doc[end - 1])
        )
        return Finding(
            id=finding_id,
            level=spec["level"],
            label=spec.get("label", finding_id),
            text=words,
            assertion=assertion or self._assertion(doc, start, end, spec["level"]),
            start=char_start,
            end=char_end,
            passage_id=spec["passage"],
            value=value,
        )

    # -- assertion ---------------------------------------------------------------------------

    def _bounds(self, doc: Doc, start: int, end: int, breaks: set, words: set) -> Tuple[int, int]:
        """The stretch around tokens [start, end) up to a breaking token on each side."""
        left = start
        while left > 0 and doc[left - 1].text not in breaks and doc[left - 1].norm_ not in words:
            left -= 1
        right = end
        while right < len(doc) and doc[right].text not in breaks and doc[right].norm_ not in words:
            right += 1
        return left, right

    def _cues_in(self, name: str, doc: Doc, left: int, right: int) -> List[Tuple[int, int]]:
        found = [(s, e) for _, s, e in self.cues[name](doc) if s >= left and e <= right]
        idioms_name = {"hypothetical_cues": "hypothetical_idioms", "negation_cues": "negation_idioms"}.get(name)
        if idioms_name and found:
            idioms = [(s, e) for _, s, e in self.cues[idioms_name](doc)]
            found = [(s, e) for s, e in found if not any(i_s <= s and e <= i_e for i_s, i_e in idioms)]
        return found

    def _uncertain(self, doc: Doc, start: int, end: int) -> bool:
        """An uncertainty cue before the mention in its comma-bounded clause."""
        left, _ = self._bounds(doc, start, end, _CLAUSE_PUNCT, set())
        return any(s < start for s, _ in self._cues_in("uncertainty_cues", doc, left, end))

    def _negated(self, doc: Doc, start: int, end: int, level: str) -> bool:
        """A negation governs this mention: it comes shortly before it in its clause, and either
        this is the first symptom after it or the symptoms between are joined by "or"
        ("no fever or cough"). Commas join only milder symptoms: "no fever, cant breathe" keeps
        the red flag present."""
        left, _ = self._bounds(doc, start, end, _CLAUSE_PUNCT | {","}, self.clause_words)
        left_comma, _ = self._bounds(doc, start, end, _SENTENCE_BREAKS, self.clause_words)
        scope_left = left if level == "emergency" else left_comma
        for _cue_start, cue_end in sorted(self._cues_in("negation_cues", doc, scope_left, start), reverse=True):
            if cue_end > start:
                continue
            chain = [(s, e) for s, e, _ in self._spans if cue_end <= s and e <= start]
            # symptoms between the cue and this one, overlapping ones taken as one
            previous_end = cue_end
            first = True
            ok = True
            for s, e in chain + [(start, end)]:
                if s < previous_end:
                    continue
                between = doc[previous_end:s]
                if first:
                    ok = len(between) < self.negation_window and not any(t.norm_ in _SUBJECTS for t in between)
                    first = False
                else:
                    joiners = self.list_joiners | ({","} if level != "emergency" else set())
                    ok = ok and all(t.norm_ in joiners or t.text in joiners for t in between)
                previous_end = e
                if not ok:
                    break
            if ok:
                return True
        return False

    def _hypothesis_reaches(self, doc: Doc, cue_end: int, start: int) -> bool:
        """Nothing between a hypothesis cue and the mention starts a new statement."""
        for index in range(cue_end, start):
            token = doc[index]
            if token.text in _SENTENCE_BREAKS or token.norm_ in _STRONG_BREAKS:
                return False
            if token.text == "," and index + 1 < len(doc) and doc[index + 1].norm_ in _SUBJECTS:
                return False
        return True

    def _assertion(self, doc: Doc, start: int, end: int, level: str) -> str:
        sentence = self._bounds(doc, start, end, _SENTENCE_BREAKS, _STRONG_BREAKS)
        clause = self._bounds(doc, start, end, _CLAUSE_PUNCT, set())

        # Uncertainty counts as present: when in doubt, escalate.
        if self._uncertain(doc, start, end):
            return "present"
        if self._negated(doc, start, end, level):
            return "negated"
        # "right now", "this morning" in the mention's own clause: a report, whatever else is said.
        if self._cues_in("present_markers", doc, *self._bounds(doc, start, end, _CLAUSE_PUNCT, _STRONG_BREAKS)):
            return "present"
        # Remote past anywhere in the sentence ("I had a fit as a child"), when the mention's clause
        # is in the past and nothing in it says it goes on ("she is breathless, same as last time").
        if self._cues_in("historical_cues", doc, *sentence):
            statement = self._bounds(doc, start, end, _CLAUSE_PUNCT, _STRONG_BREAKS)
            past = self._cues_in("past_markers", doc, *statement) or any(
                token.norm_.endswith("ed") and len(token.norm_) > 4 for token in doc[statement[0] : statement[1]]
            )
            if past and not self._cues_in("ongoing_markers", doc, *statement):
                return "historical"
        # A hypothesis or an information question reaching the mention ("what if I get a
        # seizure?", "is confusion a symptom of CRS?", "would a rash be a sign of CRS?").
        for cue_start, cue_end in self._cues_in("hypothetical_cues", doc, *sentence):
            if cue_start <= start and (cue_end >= start or self._hypothesis_reaches(doc, cue_end, start)):
                return "hypothetical"
        if self._cues_in("hypothetical_after_cues", doc, end, clause[1]):
            return "hypothetical"
        return "present"

    # -- numbers -----------------------------------------------------------------------------

    # A gap between a word and its number never crosses the end of a sentence ("what counts as a
    # high temp? hers is 40.2" reads 40.2 in the second sentence).
    _TEMP = re.compile(
        r"(?:(?P<ctx>temp(?:erature)?s?|fever|temprature|tempreture|temperture|thermometer|therm)\b[^0-9\n.?!;]{0,25}?)?"
        r"(?<![\d/.])(?P<value>\d{2,3}(?:[.,]\d{1,2})?)\s*"
        r"(?P<unit>°\s*[cf]?|º\s*[cf]?|deg(?:rees?)?\s*(?:c|f|celsius|fahrenheit)?|c\b|f\b|celsius|fahrenheit)?"
        r"(?P<after>\s*(?:temp(?:erature)?|fever)\b)?"
    )
    # "she's 104.2", "im 100.8", "got 38.9": a decimal body temperature after a person
    _BARE_TEMP = re.compile(
        r"\b(?:hes|shes|im|i am|he is|she is|theyre|they are|got|reading|reads|measured|now|at)\s+"
        r"(?:a\s+|about\s+|around\s+|nearly\s+|over\s+)?(?P<value>\d{2,3}[.,]\d{1,2})(?![\d/])"
    )
    _BP = re.compile(
        r"(?:(?P<ctx>bp|blood pressure|pressure)\b[^0-9\n.?!;]{0,15}?)?"
        r"(?<![\d/.])(?P<sys>\d{2,3})\s*(?:/|over)\s*(?P<dia>\d{2,3})(?![\d/])"
    )
    _SYSTOLIC = re.compile(r"(?:systolic|top number)\D{0,12}?(?P<value>\d{2,3})\b|\b(?P<value2>\d{2,3})\s*systolic")
    _HR = re.compile(
        r"(?:(?P<ctx>heart ?rate|hr|pulse|heart ?beat)\b[^0-9\n.?!;]{0,30}?(?<![\d/.])(?P<value>\d{2,3})(?![\d/.])"
        r"|(?<![\d/.])(?P<value2>\d{2,3})\s*(?:bpm|beats? (?:a|per) min))"
    )
    _SATS = re.compile(
        r"(?:(?:sats?|saturations?|o2|spo2|oxygen(?: levels?| sats?| saturation)?)\b[^0-9\n.?!;]{0,40}?(?<![\d/.])(?P<value>\d{2,3})\s*%?"
        r"|(?<![\d/.])(?P<value2>\d{2,3})\s*%\s*(?:oxygen|o2|sats?|saturation))"
    )
    _RR = re.compile(
        r"(?:resp(?:iratory)? rate|breathing rate|rr|breaths? (?:a|per) min(?:ute)?)\b[^0-9\n.?!;]{0,15}?(?<![\d/.])(?P<value>\d{2,3})"
        r"|(?<![\d/.])(?P<value2>\d{2,3})\s*(?:breaths?|times) (?:a|per) min"
    )

    def _number_findings(self, doc: Doc, folded: str, text: str, origin: List[int]) -> List[Finding]:
        found: List[Finding] = []
        taken: List[Tuple[int, int]] = []

        def token_span(start_char: int, end_char: int) -> Tuple[int, int] | None:
            span = doc.char_span(start_char, end_char, alignment_mode="expand")
            return (span.start, span.end) if span is not None and len(span) else None

        def add(kind: str, match: re.Match, value: float, fires: bool) -> None:
            spec = self.numbers.get(kind)
            if not spec:
                return
            span = token_span(match.start(), match.end())
            if span is None:
                return
            taken.append((match.start(), match.end()))
            finding = self._finding(spec["finding"], doc, span[0], span[1], text, origin, value=value)
            if not fires:
                # a reading on the safe side of the threshold is a statement that it is absent
                if finding.assertion == "present":
                    finding = _with_assertion(finding, "negated")
            found.append(finding)

        def overlaps(match: re.Match) -> bool:
            return any(match.start() < e and s < match.end() for s, e in taken)

        for match in self._BP.finditer(folded):
            systolic, diastolic = int(match.group("sys")), int(match.group("dia"))
            plausible = 50 <= systolic <= 250 and 20 <= diastolic <= 150 and systolic > diastolic
            if plausible and (match.group("ctx") or systolic >= 60):
                limit = self.numbers["blood_pressure"]["systolic_below"]
                add("blood_pressure", match, float(systolic), systolic < limit)
        for match in self._SYSTOLIC.finditer(folded):
            if overlaps(match):
                continue
            systolic = int(match.group("value") or match.group("value2"))
            if 50 <= systolic <= 250:
                add(
                    "blood_pressure",
                    match,
                    float(systolic),
                    systolic < self.numbers["blood_pressure"]["systolic_below"],
                )
        for match in self._SATS.finditer(folded):
            if overlaps(match):
                continue
            value = int(match.group("value") or match.group("value2"))
            if 50 <= value <= 100:
                add(
                    "oxygen_saturation", match, float(value), value < self.numbers["oxygen_saturation"]["below_percent"]
                )
        for match in self._HR.finditer(folded):
            if overlaps(match):
                continue
            value = int(match.group("value") or match.group("value2"))
            if 30 <= value <= 250:
                add("heart_rate", match, float(value), value > self.numbers["heart_rate"]["above"])
        for match in self._RR.finditer(folded):
            if overlaps(match):
                continue
            value = int(match.group("value") or match.group("value2"))
            if 5 <= value <= 80:
                add("respiratory_rate", match, float(value), value > self.numbers["respiratory_rate"]["above"])
        for match in self._BARE_TEMP.finditer(folded):
            if overlaps(match):
                continue
            value = float(match.group("value").replace(",", "."))
            celsius = round((value - 32) * 5 / 9, 1) if value >= 80 else value
            if 34.0 <= celsius <= 45.0:
                add("temperature", match, celsius, celsius >= self.numbers["temperature"]["at_or_above_c"])
        for match in self._TEMP.finditer(folded):
            if overlaps(match):
                continue
            celsius = _celsius(match)
            if celsius is not None:
                add("temperature", match, celsius, celsius >= self.numbers["temperature"]["at_or_above_c"])
        return found

    # -- combining ---------------------------------------------------------------------------

    def _resolve(self, findings: List[Finding]) -> List[Finding]:
        """One finding per id and assertion; where readings of one span overlap, the most specific wins.

        For the same finding, of two overlapping matches the one that ends later is the fuller
        description ("not [breathing fast]" beats "[not breathing]"), unless either reading is
        present in a way the other is not negating.
        """
        findings.sort(key=lambda f: (f.id, f.start, -(f.end - f.start)))
        kept: List[Finding] = []
        for finding in findings:
            rival = next(
                (k for k in kept if k.id == finding.id and finding.start < k.end and k.start < finding.end),
                None,
            )
            if rival is None:
                kept.append(finding)
                continue
            # when in doubt, escalate: a present reading beats any other reading of the same words
            if (finding.assertion == "present") != (rival.assertion == "present"):
                better = finding if finding.assertion == "present" else rival
            else:
                better = (
                    finding
                    if (finding.end, finding.end - finding.start) > (rival.end, rival.end - rival.start)
                    else rival
                )
            if better is not rival:
                kept[kept.index(rival)] = finding
        # the same finding mentioned twice: keep one of each assertion, the first as written
        unique: Dict[Tuple[str, str], Finding] = {}
        for finding in sorted(kept, key=lambda f: f.start):
            unique.setdefault((finding.id, finding.assertion), finding)
        return sorted(unique.values(), key=lambda f: (f.start, f.id))


def _with_assertion(finding: Finding, assertion: str) -> Finding:
    return Finding(**{**asdict(finding), "assertion": assertion})


def _celsius(match: re.Match) -> float | None:
    """A temperature reading in °C, or None when the number is not a body temperature."""
    value = float(match.group("value").replace(",", "."))
    unit = (match.group("unit") or "").replace(" ", "")
    context = match.group("ctx") or match.group("after")
    if not unit and not context:
        return None  # a bare number is not a temperature
    if "f" in unit or "fahrenheit" in unit:
        celsius = (value - 32) * 5 / 9
    elif "c" in unit:
        celsius = value
    else:  # degrees or context only: judge by the size of the number
        celsius = (value - 32) * 5 / 9 if value >= 80 else value
    return round(celsius, 1) if 30.0 <= celsius <= 45.0 else None


@lru_cache(maxsize=1)
def default_engine() -> TriageEngine:
    """The engine for this process (rules loaded once)."""
    return TriageEngine.load()


def assess(text: str) -> Triage:
    return default_engine().assess(text)


def main(argv: Sequence[str]) -> int:
    if not argv:
        print('usage: python -m actions.triage "message text"', file=sys.stderr)
        return 2
    print(json.dumps(assess(" ".join(argv)).as_dict(), ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
