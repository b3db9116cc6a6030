"""The reviewed source documents: loading, splitting into passages, finding extraction gaps.

Plain Python, no Rasa import. A source is a text file kept verbatim in ``data/sources/`` with a
``<id>.meta.yml`` beside it. Loading splits the article body into *units*: headings, sentences of
paragraphs, and list items. Every unit has a stable id (``uk.p012.s2``: source, block, sentence),
the locales it may be shown in, and the extraction gaps found in it. A unit with a gap is never
quoted (design.md, safety rule 3).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Dict, FrozenSet, Iterable, List, Tuple

import yaml

ALL_LOCALES: FrozenSet[str] = frozenset({"uk", "us"})
BULLET = "•"

# A determiner or possessive directly followed by a word that cannot start a noun phrase: the noun
# was a link and went missing ("stimulates the to release", "remove your before CAR T-cell").
_ORPHAN_DETERMINER = re.compile(
    r"\b(?:the|a|an|your|its|their|his|her|our|my)\s+"
    r"(?:to|or|and|of|with|before|after|in|on|for|from|that|if|[,.;:])(?=\W|$)",
    re.IGNORECASE,
)
# "such as" directly followed by a conjunction or punctuation ("such as or tumour ...").
_EMPTY_SUCH_AS = re.compile(r"\bsuch as\s+(?:or|and|[,.;])(?=\W|$)", re.IGNORECASE)
# A unit that ends on a function word (optionally with a full stop): "help the body with its .",
# the bullet "an", ", including". Lead-ins ending with a colon are handled by the empty-list rule.
_DANGLING_END = re.compile(
    r"(?:^|\s)(?:the|a|an|your|its|of|to|with|as|such as|including|called)\s*\.?\s*$",
    re.IGNORECASE,
)
_LEADING_PUNCT = re.compile(r"^\s*[,;:.]")
# A sentence that leans on the one before it; when that one is broken, it cannot stand alone.
_BACK_REFERENCE = re.compile(r"(?:Or|And|But|So|This|These|That|It|They|Here)\b")
# Sentence boundary inside a paragraph: end punctuation, space, then a capital or an opening mark.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"“‘(])")


class ContentError(ValueError):
    """The content data is invalid; nothing may be quoted from it until it is fixed."""


@dataclass(frozen=True)
class Gap:
    """A hole left in the text where a link was stripped from the web page."""

    source_id: str
    unit_id: str
    rule: str
    text: str
    offset: int  # character offset in the source file
    line: int
    column: int


@dataclass(frozen=True)
class Unit:
    """The smallest quotable piece of a source: a heading, a sentence or a list item."""

    id: str
    source_id: str
    block: int
    position: int  # index among the source's units: contiguous units have consecutive positions
    kind: str  # "heading", "sentence" or "item"
    text: str
    offset: int
    locales: FrozenSet[str] = ALL_LOCALES
    gaps: Tuple[Gap, ...] = ()
    excluded: bool = False  # navigation or link text: never quoted

    @property
    def quotable(self) -> bool:
        return self.kind != "heading" and not self.gaps and not self.excluded

    @property
    def excerptable(self) -> bool:
        """Quotable alone as an excerpt, with our line of context (issue 11): a sentence whose own
        words are intact, though it follows a broken one ("Here the nurses monitor you very
        closely." after "you may need to go to the or ."). Only the excerpts listed in
        data/content/retrieval.yml are quoted so."""
        return self.quotable or (
            self.kind != "heading" and not self.excluded and all(gap.rule == "follows_gap" for gap in self.gaps)
        )

    @property
    def continues(self) -> bool:
        """A second or later sentence of a list item (it carries no bullet of its own)."""
        return self.kind == "item" and not self.id.endswith(".s1")

    @property
    def is_lead_in(self) -> bool:
        return self.text.rstrip().endswith(":")


@dataclass(frozen=True)
class Source:
    id: str
    short_name: str
    title: str
    short_title: str
    publisher: str
    reviewer: str | None
    last_reviewed: date
    next_review: date  # stated on the page, or last_reviewed + the default review period
    next_review_stated: bool
    locale: str
    path: Path
    text: str
    units: Tuple[Unit, ...] = field(default=(), repr=False)

    def is_overdue(self, today: date) -> bool:
        return self.next_review < today

    @property
    def gaps(self) -> List[Gap]:
        return [gap for unit in self.units for gap in unit.gaps]

    def unit(self, unit_id: str) -> Unit:
        for unit in self.units:
            if unit.id == unit_id:
                return unit
        raise KeyError(unit_id)


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _line_col(text: str, offset: int) -> Tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


def _is_heading(line: str) -> bool:
    words = line.split()
    return len(words) <= 14 and (line[-1] not in ".:!," or line.endswith("?"))


def _split_sentences(paragraph: str) -> List[Tuple[int, str]]:
    """Sentences of a paragraph with their offsets inside it."""
    result, start = [], 0
    for match in _SENTENCE_END.finditer(paragraph):
        result.append((start, paragraph[start : match.start()]))
        start = match.end()
    result.append((start, paragraph[start:]))
    return [(offset, sentence.rstrip()) for offset, sentence in result if sentence.strip()]


def _unit_locales(text: str, markers: Dict[str, List[str]]) -> FrozenSet[str]:
    """A unit naming a country's emergency service is shown only in that country."""
    found = {
        locale
        for locale, words in markers.items()
        if any(re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text) for word in words)
    }
    return frozenset(found) if found else ALL_LOCALES


def _body_bounds(text: str, meta: dict) -> Tuple[int, int]:
    content = meta.get("content") or {}
    start = text.find(content["starts_at"]) if content.get("starts_at") else 0
    end = text.find(content["ends_before"]) if content.get("ends_before") else len(text)
    if start < 0 or end < 0 or end <= start:
        raise ContentError(f"{meta['id']}: content anchors not found in the source text")
    return start, end


def _also_bounds(text: str, meta: dict, body_end: int) -> List[Tuple[int, int]]:
    """Regions after the body that are information, not furniture (``content.also``: the nurse
    helpline's number and hours in the UK page's footer)."""
    bounds = []
    for region in (meta.get("content") or {}).get("also") or []:
        start = text.find(region["starts_at"], body_end)
        end = text.find(region["ends_before"], start) if start >= 0 else -1
        if start < 0 or end <= start:
            raise ContentError(f"{meta['id']}: anchors of an 'also' region not found after the body")
        bounds.append((start, end))
    return bounds


def _raw_units(text: str, start: int, end: int, short: str, block: int = 0) -> List[dict]:
    """Split the body into headings, sentences and list items (one line is one block); blocks are
    numbered on from ``block``."""
    units: List[dict] = []
    offset = start
    for raw_line in text[start:end].split("\n"):
        line_offset = offset
        offset += len(raw_line) + 1
        line = raw_line.strip()
        if not line:
            continue
        block += 1
        lead = raw_line.index(line[0]) + line_offset
        if line.startswith(BULLET):
            item = line[len(BULLET) :].strip()
            item_offset = line_offset + raw_line.index(item) if item else lead
            # an item of several sentences is split like a paragraph, so that an intact sentence
            # next to a gap can still be quoted (the bullet belongs to the first one)
            for n, (rel, sentence) in enumerate(_split_sentences(item) or [(0, item)], start=1):
                units.append(dict(block=block, kind="item", text=sentence, offset=item_offset + rel, n=n))
        elif _is_heading(line):
            units.append(dict(block=block, kind="heading", text=line, offset=lead, n=1))
        else:
            for n, (rel, sentence) in enumerate(_split_sentences(line), start=1):
                units.append(dict(block=block, kind="sentence", text=sentence, offset=lead + rel, n=n))
    for unit in units:
        unit["id"] = f"{short}.p{unit['block']:03d}.s{unit['n']}"
    return units


def _find_gaps(units: List[dict], text: str, source_id: str, known: Iterable[str]) -> Dict[str, List[Gap]]:
    """Apply every gap rule; return the gaps found per unit id."""
    found: Dict[str, List[Gap]] = {}

    def add(unit: dict, rule: str, rel_start: int, snippet: str) -> None:
        offset = unit["offset"] + rel_start
        line, column = _line_col(text, offset)
        found.setdefault(unit["id"], []).append(Gap(source_id, unit["id"], rule, snippet, offset, line, column))

    for index, unit in enumerate(units):
        body = unit["text"]
        if unit["kind"] == "heading":
            continue
        if _LEADING_PUNCT.match(body):
            add(unit, "starts_with_punctuation", 0, body[:30])
        for pattern, rule in ((_ORPHAN_DETERMINER, "missing_noun"), (_EMPTY_SUCH_AS, "missing_noun")):
            for match in pattern.finditer(body):
                add(unit, rule, match.start(), match.group(0))
        match = _DANGLING_END.search(body)
        if match:
            words = match.group(0).strip()
            add(unit, "dangling_end", match.start() + match.group(0).index(words), words)
        if body.rstrip().endswith(":"):
            following = units[index + 1] if index + 1 < len(units) else None
            # A lead-in must be followed by its list (or, as in the grading section, by the
            # sub-headings it introduces); anything else means the list was a set of links.
            if following is None or following["kind"] not in ("item", "heading"):
                add(unit, "empty_list", max(len(body) - 40, 0), body[-40:])
        previous = units[index - 1] if index else None
        if (
            previous is not None
            and previous["block"] == unit["block"]
            and previous["id"] in found
            and _BACK_REFERENCE.match(body)
        ):
            add(unit, "follows_gap", 0, body[:30])
        for snippet in known:
            position = body.find(snippet)
            if position >= 0:
                add(unit, "known_gap", position, snippet)
    return found


def load_source(meta_path: Path, default_review_years: int, locale_markers: Dict[str, List[str]]) -> Source:
    """Load one source and its metadata, split it into units and find its gaps."""
    meta = yaml.safe_load(meta_path.read_text(encoding="utf-8"))
    text_path = meta_path.with_name(f"{meta['id']}.txt")
    if not text_path.is_file():
        raise ContentError(f"{meta_path.name}: source text {text_path.name} is missing")
    text = text_path.read_text(encoding="utf-8")
    for key in ("id", "short_name", "title", "last_reviewed", "locale"):
        if not meta.get(key):
            raise ContentError(f"{meta_path.name}: '{key}' is required")
    known = [entry["text"] for entry in meta.get("known_gaps") or []]
    for snippet in known:
        if snippet not in text:
            raise ContentError(f"{meta_path.name}: known gap {snippet!r} is not in the text")
    excluded_lines = set(meta.get("exclude_lines") or [])
    start, end = _body_bounds(text, meta)
    raw = _raw_units(text, start, end, meta["short_name"])
    for also_start, also_end in _also_bounds(text, meta, end):
        also = _raw_units(text, also_start, also_end, meta["short_name"], raw[-1]["block"] if raw else 0)
        raw += [{**unit, "also": True} for unit in also]
    gaps = _find_gaps(raw, text, meta["id"], known)
    block_text: Dict[int, str] = {}
    for unit in raw:
        block_text[unit["block"]] = (block_text.get(unit["block"], "") + " " + unit["text"]).strip()
    units = tuple(
        Unit(
            id=unit["id"],
            source_id=meta["id"],
            block=unit["block"],
            position=position,
            kind=unit["kind"],
            text=unit["text"],
            offset=unit["offset"],
            # a footer line is shown where its whole line may be ("Questions about cancer?" goes
            # with the freephone number, UK only)
            locales=_unit_locales(block_text[unit["block"]] if unit.get("also") else unit["text"], locale_markers),
            gaps=tuple(gaps.get(unit["id"], ())),
            excluded=block_text[unit["block"]] in excluded_lines,
        )
        for position, unit in enumerate(raw)
    )
    last_reviewed = meta["last_reviewed"]
    next_review = meta.get("next_review")
    return Source(
        id=meta["id"],
        short_name=meta["short_name"],
        title=meta["title"],
        short_title=meta.get("short_title") or meta["title"],
        publisher=meta.get("publisher", ""),
        reviewer=meta.get("reviewer"),
        last_reviewed=last_reviewed,
        next_review=next_review or _add_years(last_reviewed, default_review_years),
        next_review_stated=next_review is not None,
        locale=meta["locale"],
        path=text_path,
        text=text,
        units=units,
    )


def load_sources(directory: Path, default_review_years: int, locale_markers: Dict[str, List[str]]) -> Dict[str, Source]:
    """All sources in a directory, keyed by their short name (``uk``, ``us``)."""
    sources = {}
    for meta_path in sorted(directory.glob("*.meta.yml")):
        source = load_source(meta_path, default_review_years, locale_markers)
        if source.short_name in sources:
            raise ContentError(f"two sources are called {source.short_name!r}")
        sources[source.short_name] = source
    if not sources:
        raise ContentError(f"no sources found in {directory}")
    return sources


def normalise_for_comparison(text: str) -> str:
    """Collapse whitespace and bullet marks: how quotes are compared with their source file."""
    return " ".join(text.replace(BULLET, " ").split())
