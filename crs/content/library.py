"""The content library: sources, topics, treatments and locales, validated when loaded.

Plain Python, no Rasa import. ``Library.load()`` reads everything under ``data/`` and raises
``ContentError`` on anything inconsistent, so that the action server refuses to start on invalid
content. Everything here selects and groups *verbatim* source text; nothing writes medical text.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import yaml

from crs.content.learned import load_or_train
from crs.content.model import REQUIRED_PASSAGE_SETS, TOPIC_IDS, Locale, Quote, Segment, Topic, format_date
from crs.content.retrieval import Passage, Ranker, RetrievalConfig, _orphan, build_passages
from crs.content.sources import ALL_LOCALES, ContentError, Source, Unit, load_sources
from crs.content.treatments import Treatment, find_treatments, fold, names_pattern
from crs.settings import Settings, load_settings

__all__ = ["Library", "default_library", "format_date", "Locale", "Quote", "Segment", "Topic", "TOPIC_IDS"]


def _read_yaml(path: Path) -> dict:
    if not path.is_file():
        raise ContentError(f"{path} is missing")
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def _resolve_range(source: Source, spec: dict, where: str) -> Tuple[Unit, ...]:
    def find(prefix: str) -> int:
        hits = [i for i, unit in enumerate(source.units) if unit.text.startswith(prefix)]
        if len(hits) != 1:
            raise ContentError(f"{where}: {prefix!r} matches {len(hits)} units of {source.short_name}")
        return hits[0]

    first = find(spec["from"])
    last = find(spec.get("to", spec["from"]))
    if last < first:
        raise ContentError(f"{where}: range ends before it starts")
    return source.units[first : last + 1]


class Library:
    """All content, loaded and checked once; cheap to query."""

    def __init__(
        self,
        sources: Dict[str, Source],
        topics: Dict[str, Topic],
        treatments: List[Treatment],
        locales: Dict[str, Locale],
        default_locale: str,
        overdue_mode: str,
        caveat: str,
        phrases: Dict[str, str],
        settings: Settings,
        passage_sets: Dict[str, Topic],
    ) -> None:
        self.sources = sources
        self.topics = topics
        self.treatments = treatments
        self.locales = locales
        self.default_locale = default_locale
        self.overdue_mode = overdue_mode
        self.caveat_template = caveat
        self.phrases = phrases
        self.settings = settings
        self.passage_sets = passage_sets
        self._sources_by_id = {source.id: source for source in sources.values()}
        self._retrieval_config: RetrievalConfig | None = None
        self._ranker: Ranker | None = None

    # -- loading ---------------------------------------------------------------------------

    @classmethod
    def load(cls, settings: Settings | None = None) -> Library:
        settings = settings or load_settings()
        content_dir = settings.data_dir / "content"
        review = _read_yaml(content_dir / "review.yml")
        locale_data = _read_yaml(content_dir / "locales.yml")
        locales = {
            key: Locale(id=key, **{**value, "markers": tuple(value.get("markers", ()))})
            for key, value in (locale_data.get("locales") or {}).items()
        }
        if set(locales) != ALL_LOCALES:
            raise ContentError(f"locales.yml must define exactly {sorted(ALL_LOCALES)}")
        default_locale = settings.default_locale or locale_data.get("default", "uk")
        if default_locale not in locales:
            raise ContentError(f"unknown default locale {default_locale!r}")
        overdue_mode = settings.overdue_sources or review.get("overdue_sources", "caveat")
        if overdue_mode not in ("caveat", "exclude"):
            raise ContentError(f"overdue_sources must be caveat or exclude, not {overdue_mode!r}")
        sources = load_sources(
            settings.data_dir / "sources",
            int(review.get("default_review_period_years", 3)),
            {key: list(locale.markers) for key, locale in locales.items()},
        )
        topic_data = _read_yaml(content_dir / "topics.yml")
        topics = cls._load_topics(topic_data.get("topics") or {}, sources)
        passage_sets = {
            name: Topic(name, name, cls._load_ranges(name, specs, sources))
            for name, specs in (topic_data.get("passage_sets") or {}).items()
        }
        for name in REQUIRED_PASSAGE_SETS:
            if name not in passage_sets:
                raise ContentError(f"topics.yml: passage set {name!r} is missing")
        treatments = cls._load_treatments(_read_yaml(content_dir / "treatments.yml"), sources)
        retrieval = RetrievalConfig.from_yaml(_read_yaml(content_dir / "retrieval.yml"))
        for unit_id in retrieval.excerpts:
            source = sources.get(unit_id.split(".")[0])
            try:
                quotable = source is not None and source.unit(unit_id).excerptable
            except KeyError:
                quotable = False
            if not quotable:
                raise ContentError(f"retrieval.yml: excerpt {unit_id} is not an intact unit of a source")
        library = cls(
            sources,
            topics,
            treatments,
            locales,
            default_locale,
            overdue_mode,
            review.get("caveat", "Last reviewed on {last_reviewed}."),
            topic_data.get("phrases") or {},
            settings,
            passage_sets,
        )
        library._retrieval_config = retrieval
        return library

    @staticmethod
    def _load_topics(data: dict, sources: Dict[str, Source]) -> Dict[str, Topic]:
        if set(data) != set(TOPIC_IDS):
            missing, extra = set(TOPIC_IDS) - set(data), set(data) - set(TOPIC_IDS)
            raise ContentError(f"topics.yml: missing {sorted(missing)}, unknown {sorted(extra)}")
        return {
            topic_id: Topic(
                topic_id, spec.get("label", topic_id), Library._load_ranges(topic_id, spec.get("passages"), sources)
            )
            for topic_id, spec in data.items()
        }

    @staticmethod
    def _load_ranges(
        name: str, specs: list | None, sources: Dict[str, Source]
    ) -> Tuple[Tuple[Source, Tuple[Unit, ...]], ...]:
        ranges = []
        for spec_range in specs or []:
            source = sources.get(spec_range.get("source"))
            if source is None:
                raise ContentError(f"{name}: unknown source {spec_range.get('source')!r}")
            ranges.append((source, _resolve_range(source, spec_range, name)))
        if not any(unit.quotable for _, units in ranges for unit in units):
            raise ContentError(f"{name}: no intact passage to quote")
        return tuple(ranges)

    @staticmethod
    def _load_treatments(data: dict, sources: Dict[str, Source]) -> List[Treatment]:
        treatments = []
        for spec in data.get("treatments") or []:
            names = tuple(spec["names"])
            pattern = names_pattern(names)
            units = tuple(
                unit
                for source in sources.values()
                for unit in source.units
                if unit.kind != "heading" and not unit.excluded and pattern.search(fold(unit.text))
            )
            if not units:
                raise ContentError(f"treatment {spec['id']}: no source names {names}")
            treatments.append(
                Treatment(spec["id"], spec.get("label", names[0]), names, tuple(spec.get("aliases", ())), units)
            )
        return treatments

    # -- queries ---------------------------------------------------------------------------

    def locale(self, locale_id: str | None) -> Locale:
        return self.locales.get((locale_id or "").lower(), self.locales[self.default_locale])

    def today(self) -> date:
        return self.settings.today()

    def usable(self, source: Source) -> bool:
        return not (self.overdue_mode == "exclude" and source.is_overdue(self.today()))

    def caveat(self, source: Source) -> str | None:
        if not source.is_overdue(self.today()):
            return None
        return self.caveat_template.format(last_reviewed=format_date(source.last_reviewed))

    def segments_for_units(self, source: Source, units: Sequence[Unit], locale: Locale) -> List[Segment]:
        """Group units into quotes of intact text that stands contiguous in the source.

        A unit with a gap, a heading, a navigation line or a jump in the source ends a quote, so
        every quote is an exact stretch of the source. A lead-in valid only in another country
        ("Call 911 ... :") is replaced by this locale's words. A list that lost items to gaps is
        followed by a note saying so. A quote never ends on a lead-in.
        """
        segments: List[Segment] = []
        run: List[Unit] = []
        lost_items = False

        def close_run() -> None:
            nonlocal run
            if run:
                segments.append(Quote(source, tuple(run)))
            run = []

        for index, unit in enumerate(units):
            if unit.kind != "item" and lost_items:
                close_run()
                segments.append(self.phrases.get("list_incomplete", ""))
                lost_items = False
            orphan = _orphan(source, unit)  # quoted only as an excerpt, with its context
            if unit.quotable and locale.id in unit.locales and not orphan:
                if run and unit.position != run[-1].position + 1:
                    close_run()
                run.append(unit)
                continue
            close_run()
            if unit.kind == "item" and unit.gaps:
                lost_items = True
            following = units[index + 1] if index + 1 < len(units) else None
            if unit.quotable and unit.is_lead_in and following is not None and following.kind == "item":
                segments.append(locale.emergency_list_intro)
        close_run()
        if lost_items:
            segments.append(self.phrases.get("list_incomplete", ""))
        return _drop_dangling_lead_ins([segment for segment in segments if segment])

    def topic_segments(self, topic_id: str, locale: Locale) -> List[Segment]:
        return self._segments(self.topics[topic_id], locale)

    def passage_set_segments(self, name: str, locale: Locale) -> List[Segment]:
        return self._segments(self.passage_sets[name], locale)

    def _segments(self, topic: Topic, locale: Locale) -> List[Segment]:
        segments: List[Segment] = []
        for source, units in topic.ranges:
            if self.usable(source):
                segments.extend(self.segments_for_units(source, units, locale))
        return _dedupe(segments)

    def treatment_segments(self, treatment: Treatment, locale: Locale) -> List[Segment]:
        """The passages naming a treatment: a sentence with its paragraph, an item with its lead-in."""
        segments: List[Segment] = []
        for unit in treatment.units:
            source = self.sources_by_id()[unit.source_id]
            if not self.usable(source) or not unit.quotable:
                continue
            if unit.kind == "item":
                lead_in = _lead_in_of(source, unit)
                units = [lead_in, unit] if lead_in else [unit]
            else:
                units = [u for u in source.units if u.block == unit.block]
            segments.extend(self.segments_for_units(source, units, locale))
        return _dedupe(segments)

    def sources_by_id(self) -> Dict[str, Source]:
        return self._sources_by_id

    # -- retrieval (crs/content/retrieval.py) ----------------------------------------------

    @property
    def retrieval_config(self) -> RetrievalConfig:
        if self._retrieval_config is None:
            self._retrieval_config = RetrievalConfig.load(self.settings.data_dir / "content" / "retrieval.yml")
        return self._retrieval_config

    def ranker(self) -> Ranker:
        """The passage ranker, built once (spaCy's lookup tables load on first use)."""
        if self._ranker is None:
            config = self.retrieval_config
            ranges = {topic_id: topic.ranges for topic_id, topic in self.topics.items()}
            passages = build_passages(self.sources.values(), ranges, config.excerpts)
            treatment_units = {t.id: frozenset(unit.id for unit in t.units) for t in self.treatments}
            ranker = Ranker(passages, config, treatment_units)
            ranker.learned = load_or_train([(passage.id, passage.text) for passage in passages], ranker.context_words)
            self._ranker = ranker
        return self._ranker

    def passage_segments(self, passage: Passage, locale: Locale) -> List[Segment]:
        """A passage as quotes for this locale (an excerpt is one sentence: no lead-in rules)."""
        if not self.usable(passage.source):
            return []
        if passage.context:
            unit = passage.units[0]
            return [Quote(passage.source, (unit,))] if locale.id in unit.locales else []
        return self.segments_for_units(passage.source, passage.units, locale)

    def find_treatments(self, text: str) -> List[Tuple[Treatment, str]]:
        """Treatments named in a message (exact names, aliases and near misspellings)."""
        return find_treatments(self.treatments, text)


def _drop_dangling_lead_ins(segments: List[Segment]) -> List[Segment]:
    """A lead-in ("... include:") stays only where a quoted list item follows it."""
    result: List[Segment] = []
    for index, segment in enumerate(segments):
        if isinstance(segment, Quote) and segment.units[-1].is_lead_in:
            following = segments[index + 1] if index + 1 < len(segments) else None
            if not (isinstance(following, Quote) and following.units[0].kind == "item"):
                units = segment.units[:-1]
                while units and units[-1].is_lead_in:
                    units = units[:-1]
                if not units:
                    continue
                segment = Quote(segment.source, units)
        result.append(segment)
    return result


def _lead_in_of(source: Source, item: Unit) -> Unit | None:
    index = item.position
    while index > 0:
        index -= 1
        unit = source.units[index]
        if unit.kind != "item":
            return unit if unit.is_lead_in else None
    return None


def _dedupe(segments: List[Segment]) -> List[Segment]:
    seen, result = set(), []
    for segment in segments:
        key = tuple(u.id for u in segment.units) if isinstance(segment, Quote) else segment
        if key in seen:
            continue
        # a quote wholly inside one already given adds nothing
        if isinstance(segment, Quote) and any(
            isinstance(other, Quote) and set(u.id for u in segment.units) <= set(u.id for u in other.units)
            for other in result
        ):
            continue
        seen.add(key)
        result.append(segment)
    return result


@lru_cache(maxsize=1)
def default_library() -> Library:
    """The library for this process (loaded once)."""
    return Library.load()
