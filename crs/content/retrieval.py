"""Which passages answer a question: BM25 over lemmatised passages, with the dialogue's signals.

Plain Python, no Rasa import. A *passage* is a run of intact, contiguous units of one source: the
intact sentences of a paragraph, a lead-in with its list, or an excerpt (an intact sentence of a
broken passage, listed in ``data/content/retrieval.yml`` with our line of context). Passages are
ranked by BM25 (``rank-bm25``) over words lemmatised with spaCy's lookup lemmatizer
(``spacy-lookups-data``, no model download), plus the signals the dialogue knows: the classifier's
topic (the topic map ``topics.yml`` says which passages belong to it), the treatment, grade and
person named (now or earlier in the conversation) and the symptoms found by the red-flag check.

``coverage()`` is the calibrated "not covered": the share of the question's words that the sources
never use (after synonyms). Nothing here writes medical text: it only selects verbatim passages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Dict, FrozenSet, Iterable, List, Sequence, Set, Tuple

import yaml

from crs.content.sources import Source, Unit

_WORD = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")
_GRADE = re.compile(r"\b(?:grade|stage|level)\s*(1|2|3|4|one|two|three|four|i{1,3}|iv)\b")
_GRADE_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "i": 1, "ii": 2, "iii": 3, "iv": 4}
# short follow-ups that lean on the last answer
_FOLLOW_UP_START = re.compile(
    r"^\s*(?:(?:ok|okay|right|hmm|oh)\b[\s,]*)?"
    r"(?:and|but|so|also|what about|how about|what if|is that|is it|does that|does it|was that|"
    r"how long|how many|how much|which|why|when|who|then|ok so|okay so)\b",
    re.IGNORECASE,
)

# words that point back at the last answer: "for that", "with those", "them", "there?", "then?"
_POINTS_BACK = re.compile(
    r"\b(?:for|with|after|about|like|from|of|to|on|by|at|during|before|than|without)\s+"
    r"(?:that|this|those|these|them)\b|\b(?:those|these|them)\b|\b(?:that|there|then)\s*[?.!]*\s*$",
    re.IGNORECASE,
)


@lru_cache(maxsize=1)
def _nlp():
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    return nlp


@lru_cache(maxsize=4096)
def lemmas(text: str) -> Tuple[str, ...]:
    """Lower-case lemmas of the words of a text (spaCy's lookup lemmatizer)."""
    folded = text.lower().replace("’", "'").replace("‘", "'")
    words = [word for word in _WORD.findall(folded)]
    if not words:
        return ()
    doc = _nlp()(" ".join(words))
    found = (_LEMMA_FIXES.get(token.text, token.lemma_.lower()) for token in doc)
    return tuple(lemma for lemma in found if _WORD.fullmatch(lemma))


# the lookup table's few wrong lemmas for words people use in questions ("does it matter?" is
# not about someone called Matt)
_LEMMA_FIXES = {"matter": "matter", "matters": "matter", "mattered": "matter"}


# spaCy stop words that still help to rank ("how long after", "more than once"), but say too little
# to decide on their own whether the sources cover a question
RANKING_ONLY = frozenset(
    {"first", "once", "again", "before", "after", "during", "more", "most", "several", "few", "other", "never"}
    | {"always", "back", "last", "full", "well", "above", "down"}
)


def stop_words() -> FrozenSet[str]:
    from spacy.lang.en.stop_words import STOP_WORDS

    keep = RANKING_ONLY | {"serious", "stop", "everyone"}
    return frozenset(w for w in STOP_WORDS if w not in keep)


def grade_of(text: str) -> int | None:
    match = _GRADE.search(text.lower())
    if not match:
        return None
    value = match.group(1)
    return int(value) if value.isdecimal() else _GRADE_WORDS.get(value)


def is_follow_up(text: str, informative: Sequence[str]) -> bool:
    """A short question that leans on the last answer ("and older people?", "how long?", "would I
    have to go into intensive care for that?")."""
    leans = _FOLLOW_UP_START.match(text) or _POINTS_BACK.search(text)
    return bool(leans) and len(informative) <= 4 or len(informative) <= 1


@dataclass(frozen=True)
class Passage:
    """A run of intact, contiguous units of one source that can be quoted as one block."""

    id: str
    source: Source
    units: Tuple[Unit, ...]
    heading: str
    topics: FrozenSet[str]
    first_of: FrozenSet[str]  # topics whose first range this passage opens
    context: str | None = None  # an excerpt: our line that introduces it

    @property
    def text(self) -> str:
        return " ".join(unit.text for unit in self.units)

    @property
    def words(self) -> int:
        return len(self.text.split())

    def unit_ids(self) -> FrozenSet[str]:
        return frozenset(unit.id for unit in self.units)


@dataclass
class Query:
    """What is asked, with the signals the dialogue knows."""

    text: str
    topic: str | None = None  # the classifier's topic
    treatments: Tuple[str, ...] = ()  # treatment ids named
    treatment_weight: float = 1.0  # lower where the treatment is the setting, not the subject
    grade: int | None = None
    person: str | None = None  # child | older
    symptom_passages: Tuple[str, ...] = ()  # unit ids of the findings' source passages
    context_text: str = ""  # the last question, for a follow-up
    context_topic: str | None = None
    shown: FrozenSet[str] = frozenset()  # passage ids already shown in this thread
    after: FrozenSet[str] = frozenset()  # passage ids of the last answer: what comes next in the source
    words: Tuple[str, ...] | None = None  # the words to rank by (default: the text's content words)
    learned: Dict[str, float] | None = None  # the answer model's probability for each passage id
    learned_weight: float = 1.0  # its share: less in a follow-up, where the context says more


@dataclass
class Ranked:
    passage: Passage
    score: float
    lexical: float = 0.0


@dataclass
class RetrievalConfig:
    synonyms: Dict[str, Tuple[str, ...]]
    phrases: Dict[str, str]
    ignore: FrozenSet[str]
    persons: Dict[str, FrozenSet[str]]
    excerpts: Dict[str, str]
    weights: Dict[str, float]
    words_budget: int
    unknown_share: float
    not_covered: Dict[str, float] = field(default_factory=dict)
    contrasts: Tuple[FrozenSet[str], ...] = ()

    @classmethod
    def from_yaml(cls, data: dict) -> RetrievalConfig:
        synonyms = {str(key): tuple(value) for key, value in (data.get("synonyms") or {}).items()}
        # a question's words are looked up by their lemma: a key the lemmatizer reads otherwise
        # ("tired" -> "tire", "exhausted" -> "exhaust") is found by its lemma too, unless that
        # lemma is a key of its own
        for key, value in list(synonyms.items()):
            for lemma in lemmas(key):
                synonyms.setdefault(lemma, value)
        return cls(
            synonyms=synonyms,
            phrases={str(key).lower(): str(value) for key, value in (data.get("phrases") or {}).items()},
            ignore=frozenset(str(word) for word in data.get("ignore") or ()),
            persons={key: frozenset(str(w) for w in value) for key, value in (data.get("persons") or {}).items()},
            excerpts=dict(data.get("excerpts") or {}),
            weights={key: float(value) for key, value in (data.get("weights") or {}).items()},
            words_budget=int(data.get("words_budget", 75)),
            unknown_share=float((data.get("not_covered") or {}).get("unknown_share", 0.5)),
            not_covered={key: float(value) for key, value in (data.get("not_covered") or {}).items()},
            contrasts=tuple(frozenset(str(w) for w in group) for group in data.get("contrasts") or ()),
        )

    @classmethod
    def load(cls, path) -> RetrievalConfig:
        return cls.from_yaml(yaml.safe_load(path.read_text(encoding="utf-8")) or {})


def build_passages(
    sources: Iterable[Source],
    topic_ranges: Dict[str, Sequence[Tuple[Source, Sequence[Unit]]]],
    excerpts: Dict[str, str],
) -> List[Passage]:
    """Split every source into passages (see module docstring)."""
    in_topic: Dict[str, Set[str]] = {}
    first: Dict[str, Set[str]] = {}
    for topic_id, ranges in topic_ranges.items():
        for index, (_, units) in enumerate(ranges):
            for unit in units:
                in_topic.setdefault(unit.id, set()).add(topic_id)
                if index == 0:
                    first.setdefault(unit.id, set()).add(topic_id)
    passages: List[Passage] = []

    def add(source: Source, units: List[Unit], heading: str, context: str | None = None) -> None:
        units = [
            unit for unit in units if (unit.excerptable if context else unit.quotable and not _orphan(source, unit))
        ]
        while units and units[-1].is_lead_in and not context:
            units.pop()  # a lead-in whose list is gone
        if not units:
            return
        for chunk in _chunks(units) if not context else [units]:
            topics = frozenset(t for unit in chunk for t in in_topic.get(unit.id, ()))
            firsts = frozenset(t for t in first.get(chunk[0].id, ()))
            passages.append(Passage(chunk[0].id, source, tuple(chunk), heading, topics, firsts, context))

    for source in sources:
        heading = ""
        current: List[Unit] = []
        in_list = False
        units = source.units
        for index, unit in enumerate(units):
            if unit.id in excerpts and unit.excerptable:
                add(source, [unit], heading, excerpts[unit.id])
            if unit.kind == "heading" or unit.excluded:
                add(source, current, heading)
                current, in_list = [], False
                if unit.kind == "heading":
                    heading = unit.text
                continue
            previous = units[index - 1] if index else None
            if unit.kind == "item":
                if not in_list and current and previous is not None and previous.block != unit.block:
                    # items with no lead-in before them start a list of their own
                    if not current[-1].is_lead_in:
                        add(source, current, heading)
                        current = []
                in_list = True
                if unit.quotable:
                    current.append(unit)
                continue
            # a sentence: a new block closes the passage (a list closes when prose resumes)
            new_block = previous is None or previous.block != unit.block
            if new_block or not unit.quotable:
                add(source, current, heading)
                current, in_list = [], False
            if unit.quotable:
                current.append(unit)
        add(source, current, heading)
    return passages


def _orphan(source: Source, unit: Unit) -> bool:
    """A later sentence of a list item whose first sentence is broken: quoted only as an excerpt."""
    return unit.continues and not source.units[unit.position - 1].quotable


_LEANS_BACK = re.compile(r"(?:Or|And|But|So|This|These|That|It|They|Here|However|Due to this|As a result|Those)\b")


def _chunks(units: List[Unit], most_words: int = 45) -> List[List[Unit]]:
    """A long paragraph becomes chunks of about two sentences; a sentence that leans on the one
    before it stays with it, and a lead-in stays with its list."""
    words = sum(len(unit.text.split()) for unit in units)
    sentences = [unit for unit in units if unit.kind != "item"]
    if words <= most_words or len(sentences) <= 2:
        return [units]
    chunks: List[List[Unit]] = []
    for unit in units:
        joins = (
            chunks
            and (
                unit.kind == "item"
                or _LEANS_BACK.match(unit.text)
                or len([u for u in chunks[-1] if u.kind != "item"]) < 2
                and not chunks[-1][-1].kind == "item"
            )
            and not (chunks[-1][-1].kind == "item" and unit.kind != "item")
        )
        if joins:
            chunks[-1].append(unit)
        else:
            chunks.append([unit])
    return chunks


class Ranker:
    """BM25 over the passages' lemmas, with the dialogue's signals added."""

    def __init__(
        self,
        passages: Sequence[Passage],
        config: RetrievalConfig,
        treatment_units: Dict[str, FrozenSet[str]],
    ) -> None:
        from rank_bm25 import BM25Okapi

        self.passages = list(passages)
        self.config = config
        self.treatment_units = treatment_units
        self.stop = stop_words()
        self.documents = [self._document(passage) for passage in self.passages]
        self.vocabulary = frozenset(word for document in self.documents for word in document)
        self.bm25 = BM25Okapi(self.documents, k1=1.2, b=0.5)
        self.learned = None  # the answer model (crs.content.learned), set by the library
        self.successor = _successors(self.passages)
        # every word that names a person (persons map): who is asked about, never what
        self.people = frozenset().union(*config.persons.values())

    def _document(self, passage: Passage) -> List[str]:
        words = [w for w in lemmas(f"{passage.text} {passage.heading} {passage.context or ''}") if w not in self.stop]
        return words or ["_"]

    # -- the words of a question -----------------------------------------------------------

    def content_words(self, text: str) -> List[str]:
        text = text.lower()
        for phrase, replacement in self.config.phrases.items():
            text = re.sub(rf"\b{re.escape(phrase)}\b", replacement, text)
        return [w for w in lemmas(text) if w not in self.stop and w not in self.config.ignore and not w.isdigit()]

    def informative(self, text: str, treatment_words: Iterable[str] = ()) -> List[str]:
        """Words that say what is asked: not stop words, chat, people or the treatment's name."""
        named = {w for name in treatment_words for w in lemmas(name)}
        # a capitalised word inside a sentence that the sources never use is a name (of a person or
        # a place): it says nothing about what is asked
        names = {
            word.lower()
            for word in re.findall(r"(?<=[a-z,;] )[A-Z][a-z]+", text)
            if word.lower() not in self.vocabulary
        }
        return [w for w in self.content_words(text) if w not in named and w not in self.people and w not in names]

    def known(self, words: Sequence[str]) -> List[str]:
        """The words the sources use (or a synonym maps to them), in order."""
        unknown = set(self.unknown(words))
        return [word for word in words if word not in unknown]

    def context_words(self, text: str) -> List[str]:
        """What the answer context keeps of a question: its words the sources know (lemmas)."""
        return self.known(self.informative(text))[:12]

    def expand(self, words: Iterable[str]) -> List[str]:
        return list(self.weighted(words))

    def weighted(self, words: Iterable[str], synonym_weight: float = 0.5) -> Dict[str, float]:
        """The words to search, each with its weight: the question's own, then their synonyms."""
        result: Dict[str, float] = {}
        words = list(words)
        for word in words:
            if word not in self.stop:
                result[word] = result.get(word, 0.0) + 1.0
        for word in words:
            for synonym in self.config.synonyms.get(word, ()):
                for w in lemmas(synonym):
                    if w not in self.stop and w not in result:
                        result[w] = synonym_weight
        return result

    def unknown(self, words: Iterable[str]) -> List[str]:
        """Words the sources never use and no synonym maps to them."""
        return [w for w in words if w not in self.vocabulary and w not in self.config.synonyms]

    def unknown_share(self, words: Sequence[str]) -> float:
        words = [w for w in words if w not in RANKING_ONLY]
        if not words:
            return 0.0
        return len(self.unknown(words)) / len(words)

    def person_of(self, text: str) -> str | None:
        words = set(_WORD.findall(text.lower())) | set(lemmas(text))
        for person, cues in self.config.persons.items():
            if words & cues:
                return person
        return None

    # -- ranking ---------------------------------------------------------------------------

    def _lexical(self, words: Dict[str, float]) -> List[float]:
        if not words:
            return [0.0] * len(self.passages)
        scores = [0.0] * len(self.passages)
        for word, weight in words.items():
            for index, score in enumerate(self.bm25.get_scores([word])):
                scores[index] += weight * score
        top = max(scores) if scores else 0.0
        return [score / top if top > 0 else 0.0 for score in scores]

    def rank(self, query: Query, usable=lambda passage: True) -> List[Ranked]:
        weights = self.config.weights
        words = self.weighted(query.words if query.words is not None else self.content_words(query.text))
        lexical = self._lexical(words)
        context = self._lexical(self.weighted(self.content_words(query.context_text))) if query.context_text else None
        treatment_units: Set[str] = set()
        for treatment in query.treatments:
            treatment_units |= self.treatment_units.get(treatment, frozenset())
        next_ids = {self.successor[pid] for pid in query.after if pid in self.successor}
        ranked: List[Ranked] = []
        positions: List[int] = []  # issue 13: each passage's place, instead of passages.index() per sort key
        for index, passage in enumerate(self.passages):
            if not usable(passage):
                continue
            score = lexical[index]
            if context is not None:
                score += weights.get("context", 0.35) * context[index]
            for topic, weight in ((query.topic, 1.0), (query.context_topic, 0.6)):
                if topic and topic in passage.topics:
                    score += weight * weights.get("topic", 0.6)
                    if topic in passage.first_of:
                        score += weight * weights.get("topic_first", 0.15)
            ids = passage.unit_ids()
            if treatment_units and ids & treatment_units:
                score += weights.get("treatment", 1.0) * query.treatment_weight
                if passage.units[0].id in treatment_units:  # it is about the treatment, not a list naming it
                    score += 0.3 * query.treatment_weight
            if query.grade is not None and f"grade {query.grade}" in f"{passage.heading} {passage.text}".lower():
                score += weights.get("grade", 0.8)
            if query.person and set(lemmas(passage.text)) & self.config.persons.get(query.person, frozenset()):
                score += weights.get("person", 0.8)
            if query.symptom_passages and ids & set(query.symptom_passages):
                score += weights.get("symptom", 0.3)
            if query.learned:
                score += weights.get("learned", 1.0) * query.learned_weight * query.learned.get(passage.id, 0.0)
            if passage.context:
                score -= weights.get("excerpt", 0.15)  # an excerpt stands in for its passage only
            if passage.id in query.shown:
                score -= weights.get("shown", 0.25)
            elif passage.id in next_ids:
                score += weights.get("next", 0.0)
            ranked.append(Ranked(passage, score, lexical[index]))
            positions.append(index)
        order = sorted(range(len(ranked)), key=lambda i: (-ranked[i].score, positions[i]))
        return _near_ties([ranked[i] for i in order], query.learned or {}, weights.get("near_tie", 0.0))


def _near_ties(ranked: List[Ranked], learned: Dict[str, float], margin: float) -> List[Ranked]:
    """Passages next in the ranking whose scores are within ``margin`` of the first of them are put
    in the answer model's order: so little apart, the difference comes from how often a word such
    as "symptoms" occurs in each, and the model, trained on how people ask, is the better judge
    ("crs symptoms?" -> "Most people have a high temperature", not the list by part of the body
    that uses the word twice). A run of three near-tied passages is sorted as a whole, not swapped
    pair by pair (a single pass of swaps left the model's second choice first)."""
    if margin <= 0 or not learned:
        return ranked
    result: List[Ranked] = []
    index = 0
    while index < len(ranked):
        top = ranked[index].score
        end = index + 1
        while end < len(ranked) and top - ranked[end].score <= margin + 1e-9:
            end += 1
        group = ranked[index:end]  # (sorted is stable: equal model values keep the ranking's order)
        result += sorted(group, key=lambda item: -learned.get(item.passage.id, 0.0))
        index = end
    return result


def _successors(passages: Sequence[Passage]) -> Dict[str, str]:
    """Each passage's next one in its source (not an excerpt): a follow-up such as "and then
    what?" or "and if that doesn't help?" often asks what the page says next."""
    by_source: Dict[str, List[Passage]] = {}
    for passage in passages:
        if not passage.context:
            by_source.setdefault(passage.source.id, []).append(passage)
    result: Dict[str, str] = {}
    for run in by_source.values():
        run.sort(key=lambda passage: passage.units[0].position)
        for before, after in zip(run[:-1], run[1:], strict=True):
            result[before.id] = after.id
    return result


def first_reply(ranked: Sequence[Ranked], budget: int, most: int = 3, ratio: float = 0.7) -> List[Ranked]:
    """The one to three best passages within the word budget (one long list may exceed it)."""
    chosen: List[Ranked] = []
    words = 0
    used: Set[str] = set()
    for item in ranked:
        if len(chosen) == most:
            break
        if chosen and item.score < ratio * chosen[0].score:
            break
        if item.passage.unit_ids() & used:
            continue
        if chosen and words + item.passage.words > budget:
            break  # keep the order of relevance: no smaller, less relevant passage jumps ahead
        chosen.append(item)
        words += item.passage.words
        used |= item.passage.unit_ids()
    return chosen


def following(ranked: Sequence[Ranked], shown: Iterable[str], most: int = 8, floor: float = 0.35) -> List[str]:
    """Passage ids for "Tell me more": the next best ones not shown, not overlapping."""
    shown = set(shown)
    result: List[str] = []
    used: Set[str] = set()
    by_id = {r.passage.id: r for r in ranked}
    for item in ranked:
        if item.passage.id in shown:
            used |= item.passage.unit_ids()
    for item in ranked:
        if len(result) == most or item.score < floor:
            break
        if item.passage.id in shown or item.passage.unit_ids() & used:
            continue
        result.append(item.passage.id)
        used |= item.passage.unit_ids()
    return [pid for pid in result if pid in by_id]


__all__ = [
    "Passage",
    "Query",
    "Ranked",
    "Ranker",
    "RetrievalConfig",
    "build_passages",
    "first_reply",
    "following",
    "grade_of",
    "is_follow_up",
    "lemmas",
]
