"""Red-flag triage: one message in, a triage level and its findings out (design.md).

Plain Python on spaCy's blank English tokenizer and rule matcher; no Rasa import, no trained
model. The rules are data (``data/triage/red_flags.yml``). Everything the assistant decides about
danger goes through ``TriageEngine.assess``:

    .venv/bin/python -m crs.triage "my husband cant breathe properly"

Safety stance: a missed emergency is the worst failure. Where the reading of a message is in
doubt (uncertain wording, a negation that may not govern the symptom), the mention counts as
present.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, NamedTuple, Sequence, Tuple

import spacy
import yaml
from spacy.tokens import Doc

from crs.content.treatments import Treatment, find_treatments
from crs.settings import ROOT
from crs.triage.answers import AnswerReader
from crs.triage.assertion import AssertionReader, Spans
from crs.triage.findings import LEVELS, Finding, Triage, resolve
from crs.triage.folding import Speller, fold, original_span
from crs.triage.learned import LearnedDetector, corpus_digest, load_corpus
from crs.triage.learned_reading import asking_parts, learned_concern, learned_findings, told_now_outside
from crs.triage.matching import GatedMatcher
from crs.triage.phrases import matcher_patterns, phrase_words
from crs.triage.readings import number_findings

RULES_PATH = ROOT / "data" / "triage" / "red_flags.yml"
TREATMENTS_PATH = ROOT / "data" / "content" / "treatments.yml"  # treatment names (background words)
NLU_TREATMENTS_PATH = ROOT / "data" / "nlu" / "treatments.yml"
_OLDEST_AGE = 110  # a bare whole number up to this, in a background sentence, is an age
logger = logging.getLogger(__name__)

# A denial between a mention and an all-clear word makes it a report: "his breathing isnt right".
_DENIALS = {"isnt", "not", "doesnt", "dont", "aint", "wasnt", "arent", "never", "hasnt", "no"}
# Words allowed between a mention and its all-clear word ("breathing is totally fine").
_ALL_CLEAR_GLUE = {
    *("look", "looks", "seem", "seems", "sound", "sounds", "feel", "feels", "is", "s", "was", "has"),
    *("been", "are", "all", "totally", "completely", "perfectly", "fine", "now", "ok", "okay"),
    *("quite", "pretty", "back", "to"),
}


def _load_treatments() -> List[Treatment]:
    """The treatments' names and aliases (data/content/treatments.yml), without their passages."""
    data = yaml.safe_load(TREATMENTS_PATH.read_text(encoding="utf-8")) if TREATMENTS_PATH.exists() else None
    return [
        Treatment(
            str(spec["id"]),
            str(spec.get("label", spec["id"])),
            tuple(str(name) for name in spec.get("names") or ()),
            tuple(str(alias) for alias in spec.get("aliases") or ()),
        )
        for spec in (data or {}).get("treatments") or []
    ]


class Asking(NamedTuple):
    """How a message asks (TriageEngine.asking): character spans of the text as written."""

    spans: Tuple[Tuple[int, int], ...]  # the questions of its own, not about what it tells
    plainly: bool  # only questions that start as questions, with nothing told now outside them
    questions: Tuple[Tuple[int, int], ...]  # its questions that start as questions, whatever else it tells


NOT_ASKING = Asking((), False, ())  # an empty message, a button's payload, or one read during the check


class TriageEngine:
    """Finds red flags and CRS symptoms in a message and reads how each is asserted."""

    def __init__(self, rules: Dict[str, Any], learned: LearnedDetector | None = None) -> None:
        self.rules = rules
        self.learned = learned
        self.treatments = _load_treatments()  # background words and drug names heard as words
        self.nlp = spacy.blank("en")
        # No tokenizer exceptions: they split the folded "cant" into "ca nt" and "wont" into "wo nt".
        self.nlp.tokenizer.rules = {}
        vocab = self.nlp.vocab
        self.findings = {spec["id"]: spec for spec in rules["findings"]}
        self.numbers = rules.get("numbers") or {}

        self.symptoms = GatedMatcher(vocab)
        self.vetoes = GatedMatcher(vocab)
        self.mentions = GatedMatcher(vocab)
        for spec in rules["findings"]:
            if spec["level"] not in LEVELS[1:]:
                raise ValueError(f"finding {spec['id']}: unknown level {spec['level']!r}")
            for phrase in spec["phrases"]:
                self.symptoms.add(spec["id"], matcher_patterns(phrase))
            for phrase in spec.get("not_when") or []:
                self.vetoes.add(spec["id"], matcher_patterns(phrase))
            for phrase in spec.get("mentions") or []:
                self.mentions.add(spec["id"], matcher_patterns(phrase))

        self.state_changes = GatedMatcher(vocab)
        for phrase in rules.get("state_changes") or []:
            self.state_changes.add("state_change", matcher_patterns(phrase))
        self.idioms = GatedMatcher(vocab)
        for phrase in rules.get("idioms") or []:
            self.idioms.add("idiom", matcher_patterns(phrase))
        self.assertions = AssertionReader(vocab, rules["assertion"])
        self.speller = Speller(
            phrase_words(p for spec in rules["findings"] for p in spec["phrases"])
            | phrase_words(
                p for spec in rules["findings"] for p in (spec.get("mentions") or []) + (spec.get("not_when") or [])
            ),
            {str(k): str(v) for k, v in (rules.get("spellings") or {}).items()},
        )
        self.answers = AnswerReader(rules.get("answers") or {})
        self.background = self._background_words(rules.get("background") or {})

    @classmethod
    def load(cls, path: Path = RULES_PATH, learned: bool = True) -> TriageEngine:
        """The rules from `path`, with the learned detector (trained now if none matches the corpus)."""
        engine = cls(yaml.safe_load(Path(path).read_text(encoding="utf-8")))
        if learned:
            digest = corpus_digest()
            engine.learned = LearnedDetector.load(digest=digest)
            if engine.learned is None:
                logger.info("training the learned red-flag detector (no saved one matches the corpus)")
                engine.learned = engine.train_detector(digest)
                try:
                    engine.learned.save()
                except OSError:
                    logger.warning("the learned red-flag detector could not be saved; it will be trained again")
        return engine

    def train_detector(self, digest: str = "") -> LearnedDetector:
        """Train the learned detector on the corpus, read the way this engine reads messages."""
        examples = load_corpus()
        texts = [" ".join(self._words(self._doc(fold(text)[0]))) for text, _ in examples]
        red_flags = [fid for fid in self.findings if self.is_red_flag(fid)]
        unknown = {label for _, labels in examples for label in labels} - set(self.findings)
        if unknown:
            raise ValueError(f"corpus labels not in the rules: {sorted(unknown)}")
        return LearnedDetector.train(texts, [labels for _, labels in examples], red_flags, digest)

    # -- public ------------------------------------------------------------------------------

    def assess(self, text: str) -> Triage:
        """Triage one message: every finding with its assertion, and the level of what is present."""
        if not text or not text.strip():
            return Triage("none", ())
        folded, origin = fold(text)  # every character: a red flag may come at the end of a long message
        doc = self._doc(folded)
        findings, spans = self._phrase_findings(doc, text, origin)

        def finding_at(finding_id: str, start: int, end: int, value: float) -> Finding:
            return self.finding(finding_id, doc, start, end, text, origin, spans, value=value)

        findings += number_findings(doc, folded, self.numbers, finding_at)
        syllables = [f for f in findings if f.assertion == "present" and re.fullmatch(r"[a-z]{2,5}", f.text.lower())]
        if syllables:
            # a short word of a drug's name heard as words is not a sign ("toss ill is you mab")
            heard = self.heard_drug_names(text, around=syllables)
            findings = [f for f in findings if not any(s <= f.start and f.end <= e for s, e in heard)]
        if self.learned is not None:
            findings += learned_findings(self, doc, text, origin, spans, findings)
        findings = resolve(findings)
        level = "none"
        for finding in findings:
            if finding.assertion == "present" and LEVELS.index(finding.level) > LEVELS.index(level):
                level = finding.level
        readings = any(finding.value is not None for finding in findings)
        concern = self._concern(doc, text, origin, spans, readings) if level == "none" else None
        return Triage(level, tuple(findings), concern)

    def _concern(self, doc: Doc, text: str, origin: List[int], spans: Spans, readings: bool) -> str | None:
        """The words of a report of someone's current state that names no sign, if any: a
        `state_changes` phrase of the rules read as present, or a sentence the classifier finds
        close to a red flag without naming one."""
        for _, start, end in self.state_changes(doc):
            if self.assertions.read(doc, start, end, "emergency", spans) == "present":
                return text[slice(*original_span(doc, origin, start, end))]
        if self.learned is not None and not readings:
            # (readings on the safe side, "sats 97 pulse 88", are no cause for concern)
            near = learned_concern(self, doc, spans)
            if near is not None:
                start, end = near
                return text[slice(*original_span(doc, origin, start, end))]
        return None

    def asking(self, text: str) -> Asking:
        """Where the message asks a question of its own, not about what it tells (character
        spans of the text as written); whether it plainly asks: a question that starts as one,
        with nothing told in the present outside it; and where its questions that start as
        questions are, whatever else it tells (learned_reading.asking_parts). One reading of the
        message for all three."""
        if not text or not text.strip() or text.lstrip().startswith("/"):
            return NOT_ASKING
        folded, origin = fold(text)
        doc = self._doc(folded)

        def spans(parts: List[Tuple[int, int]]) -> Tuple[Tuple[int, int], ...]:
            return tuple(original_span(doc, origin, start, end) for start, end in parts if end > start)

        questions = asking_parts(doc, plainly=True)
        plainly = bool(questions) and not told_now_outside(doc, questions)
        return Asking(spans(asking_parts(doc)), plainly, spans(questions))

    def answer(self, text: str) -> str | None:
        """Read a short reply to a yes/no question: "present", "absent", "unsure" or None."""
        return self.answers.answer(text)

    def heard_drug_names(self, text: str, around: Sequence[Finding] = ()) -> List[Tuple[int, int]]:
        """Where a drug's name is heard as several words by voice-to-text ("toss ill is you mab",
        "decks a meth a zone"; crs.content.treatments): character spans of the text (only near
        the findings `around`, when given: a heard name is at most five words)."""
        windows = [(max(0, f.start - 30), min(len(text), f.end + 30)) for f in around] or [(0, len(text))]
        spans: List[Tuple[int, int]] = []
        for first, last in windows:
            part = text[first:last].lower()
            for treatment, heard in find_treatments(self.treatments, part):
                if " " not in heard or treatment.pattern.fullmatch(heard):
                    continue  # a name as written, not heard
                words = r"[\W_]+".join(re.escape(word) for word in heard.split())
                pattern = r"(?<![a-z0-9])" + words + r"(?![a-z0-9])"
                spans += [(first + m.start(), first + m.end()) for m in re.finditer(pattern, part)]
        return spans

    def is_stop(self, text: str) -> bool:
        """A request to stop the yes/no check ("STOP", "cancel")."""
        return self.answers.is_stop(text)

    def _background_words(self, lists: Dict[str, Any]) -> frozenset:
        """The words of a background sentence: the rules' lists and the treatments' names."""
        names: List[str] = [name for treatment in self.treatments for name in treatment.names + treatment.aliases]
        if NLU_TREATMENTS_PATH.exists():  # the drug names people write, as the classifier learned them
            names += re.findall(r"\[([^\]]+)\]\(treatment\)", NLU_TREATMENTS_PATH.read_text(encoding="utf-8"))
        words = {t.norm_ for name in names for t in self._doc(fold(name)[0]) if not t.is_punct}
        # a treatment's name never brings a word of a sign ("fever" of "fever reducers")
        words -= phrase_words(p for spec in self.rules["findings"] for p in spec["phrases"])
        return frozenset(words | {str(word) for values in lists.values() for word in values or []})

    def is_background(self, doc: Doc, start: int, end: int) -> bool:
        """Tokens [start, end) say only who someone is and what treatment they have or will have
        ("my son is 9 and about to have kymriah"): no word of a sign, no state, nothing else."""
        words = [t.norm_ for t in doc[start:end] if not t.is_punct]
        return bool(words) and all(
            word in self.background or (word.isdecimal() and int(word) <= _OLDEST_AGE) for word in words
        )

    # -- steps -------------------------------------------------------------------------------

    def _doc(self, folded: str) -> Doc:
        doc = self.nlp.make_doc(folded)
        for token in doc:
            token.norm_ = self.speller.canonical(token.lower_)
        return doc

    @staticmethod
    def _words(doc: Doc) -> List[str]:
        return [token.norm_ for token in doc if not token.is_space]

    def is_red_flag(self, finding_id: str) -> bool:
        return self.findings.get(finding_id, {}).get("level") == "emergency"

    def idiom_spans(self, doc: Doc) -> List[Tuple[int, int]]:
        """Figures of speech that use a sign's words ("took my breath away"): never a finding."""
        if "idioms" not in doc.user_data:
            doc.user_data["idioms"] = [(start, end) for _, start, end in self.idioms(doc)]
        return doc.user_data["idioms"]

    def vetoed(self, finding_id: str, doc: Doc, start: int, end: int) -> bool:
        """A `not_when` pattern of this finding overlaps tokens [start, end)."""
        if "vetoes" not in doc.user_data:
            doc.user_data["vetoes"] = [(self.nlp.vocab.strings[m], s, e) for m, s, e in self.vetoes(doc)]
        return any(
            fid == finding_id and v_start < end and start < v_end for fid, v_start, v_end in doc.user_data["vetoes"]
        )

    def _phrase_findings(self, doc: Doc, text: str, origin: List[int]) -> Tuple[List[Finding], Spans]:
        vetoed: Dict[str, List[Tuple[int, int]]] = {}
        for match_id, start, end in self.vetoes(doc):
            vetoed.setdefault(self.nlp.vocab.strings[match_id], []).append((start, end))
        idioms = self.idiom_spans(doc)
        matches = []
        for match_id, start, end in self.symptoms(doc):
            if any(start < i_end and i_start < end for i_start, i_end in idioms):
                continue
            finding_id = self.nlp.vocab.strings[match_id]
            if not any(start < v_end and v_start < end for v_start, v_end in vetoed.get(finding_id, [])):
                matches.append((finding_id, start, end))
        spans = sorted({(start, end, self.findings[fid]["level"]) for fid, start, end in matches})
        findings = [self.finding(fid, doc, start, end, text, origin, spans) for fid, start, end in matches]
        # "breathing is fine", "temp normal": a mention followed by an all-clear word
        all_clear = self.assertions.matches("all_clear_cues", doc)
        for match_id, start, end in self.mentions(doc):
            finding_id = self.nlp.vocab.strings[match_id]
            for clear_start, clear_end in all_clear:
                gap = doc[end:clear_start]
                denied = any(t.norm_ in _DENIALS for t in gap)  # "breathing isnt normal"
                if 0 <= clear_start - end <= 3 and all(t.norm_ in _ALL_CLEAR_GLUE or t.norm_ in _DENIALS for t in gap):
                    # "not sure he is breathing normally" is a doubt, not an all-clear
                    uncertain = self.assertions.uncertain(doc, start, clear_end)
                    assertion = "present" if uncertain or denied else "negated"
                    findings.append(
                        self.finding(finding_id, doc, start, clear_end, text, origin, spans, assertion=assertion)
                    )
                    break
        return findings, spans

    def finding(
        self,
        finding_id: str,
        doc: Doc,
        start: int,
        end: int,
        text: str,
        origin: List[int],
        spans: Spans,
        value: float | None = None,
        assertion: str | None = None,
        detector: str = "rules",
        score: float | None = None,
    ) -> Finding:
        spec = self.findings[finding_id]
        char_start, char_end = original_span(doc, origin, start, end)
        return Finding(
            id=finding_id,
            level=spec["level"],
            label=spec.get("label", finding_id),
            text=text[char_start:char_end],
            assertion=assertion
            or self.assertions.read(doc, start, end, spec["level"], spans, reading=value is not None),
            start=char_start,
            end=char_end,
            passage_id=spec["passage"],
            value=value,
            detector=detector,
            score=score,
        )


@lru_cache(maxsize=1)
def default_engine() -> TriageEngine:
    """The engine for this process (rules loaded once)."""
    return TriageEngine.load()


def assess(text: str) -> Triage:
    return default_engine().assess(text)
