"""Replies built from the content library: text for people, payload for machines (design.md).

Plain Python, no Rasa import. Every medical sentence in a reply is a verbatim quote; the only
words of ours are the short connecting phrases and instructions kept as data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

from actions.content import Library, Locale, Quote, Segment, Treatment, format_date

NO_TRIAGE: Dict[str, Any] = {"level": "none", "findings": []}


@dataclass
class Reply:
    """What one answer sends: paragraphs of text and the machine-readable payload."""

    paragraphs: List[str]
    payload: Dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)


def _attribution(library: Library, quote: Quote) -> str:
    source = quote.source
    caveat = library.caveat(source)
    if caveat:
        return f"— {source.title}. {caveat}"
    return f"— {source.title} (last reviewed {format_date(source.last_reviewed)})"


def render_segments(library: Library, segments: Sequence[Segment]) -> List[str]:
    """Quotes as quoted paragraphs, each run of quotes from one source followed by its attribution."""
    paragraphs: List[str] = []
    for index, segment in enumerate(segments):
        if not isinstance(segment, Quote):
            paragraphs.append(segment)
            continue
        paragraphs.append(f"“{segment.text}”")
        following = segments[index + 1] if index + 1 < len(segments) else None
        if not (isinstance(following, Quote) and following.source.id == segment.source.id):
            paragraphs[-1] += "\n" + _attribution(library, segment)
    return paragraphs


def quote_payloads(library: Library, segments: Sequence[Segment]) -> List[Dict[str, Any]]:
    today = library.today()
    return [segment.payload(today) for segment in segments if isinstance(segment, Quote)]


def payload(
    topic: Optional[str],
    triage: Optional[Dict[str, Any]],
    quotes: List[Dict[str, Any]],
    **extra: Any,
) -> Dict[str, Any]:
    return {"topic": topic, "triage": triage or dict(NO_TRIAGE), "quotes": quotes, **extra}


def topic_reply(library: Library, topic_id: str, locale: Locale, triage: Optional[dict] = None) -> Reply:
    topic = library.topics[topic_id]
    segments = library.topic_segments(topic_id, locale)
    phrases = library.phrases
    if not any(isinstance(segment, Quote) for segment in segments):
        text = phrases["nothing_to_quote"].format(label=topic.label)
        return Reply([text, f"You can also call {locale.helpline}."], payload(topic_id, triage, []))
    paragraphs = [phrases["intro"].format(label=topic.label)] + render_segments(library, segments)
    return Reply(paragraphs, payload(topic_id, triage, quote_payloads(library, segments)))


def treatment_reply(
    library: Library, treatments: Sequence[Treatment], locale: Locale, triage: Optional[dict] = None
) -> Reply:
    """Quote every intact passage naming the treatments asked about (never a yes or no of ours)."""
    paragraphs: List[str] = []
    quotes: List[Dict[str, Any]] = []
    for treatment in treatments:
        segments = library.treatment_segments(treatment, locale)
        if any(isinstance(segment, Quote) for segment in segments):
            paragraphs.append(f"Here is what the reviewed information says that mentions {treatment.label}:")
            paragraphs += render_segments(library, segments)
            quotes += quote_payloads(library, segments)
        else:
            paragraphs.append(
                f"The reviewed information mentions {treatment.label}, but only in a part of the page "
                "that our copy cannot show in full. Your treatment team can tell you more."
            )
    extra = {"treatments": [treatment.id for treatment in treatments]}
    return Reply(paragraphs, payload("causes", triage, quotes, **extra))


def unknown_treatment_reply(
    library: Library, name: Optional[str], locale: Locale, triage: Optional[dict] = None
) -> Reply:
    """A drug the sources do not name: say so honestly, never "no"."""
    named = f"“{name}”" if name else "that treatment"
    paragraphs = [
        f"The reviewed information I have does not mention {named}. That does not mean it can or "
        "cannot cause CRS: your treatment team can tell you about your own treatment.",
    ]
    segments = library.passage_set_segments("unknown_treatment", locale)
    paragraphs += render_segments(library, segments)
    return Reply(
        paragraphs,
        payload("causes", triage, quote_payloads(library, segments), treatments=[], unknown_treatment=name),
    )
