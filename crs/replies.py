"""Replies built from the content library: text for people, payload for machines (design.md).

Plain Python, no Rasa import. Every medical sentence in a reply is a verbatim quote; the only
words of ours are the short connecting phrases and instructions kept as data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Sequence

from crs.content import Library, Locale, Quote, Segment, Treatment, format_date

NO_TRIAGE: Dict[str, Any] = {"level": "none", "findings": []}


@dataclass
class Reply:
    """What one answer sends: paragraphs of text and the machine-readable payload."""

    paragraphs: List[str]
    payload: Dict[str, Any] = field(default_factory=dict)
    buttons: List[Dict[str, str]] = field(default_factory=list)
    # the text this message says, where part of the reply was already said (an urgent instruction
    # spoken by the Rasa server): the payload's `display` still shows the whole reply
    spoken: List[str] | None = None

    def __post_init__(self) -> None:
        if self.payload:
            self.payload["display"] = display_parts(self.paragraphs, self.payload.get("quotes") or [])

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs if self.spoken is None else self.spoken)

    def after(self, first: Reply) -> Reply:
        """One reply of two parts in this order (an urgent instruction, then this answer): one
        payload for the turn (design.md), the triage of the first, quotes in the order shown."""
        quotes = [dict(quote, role=quote.get("role", "triage")) for quote in first.payload.get("quotes") or []]
        quotes += self.payload.get("quotes") or []
        merged = {**first.payload, **self.payload, "quotes": quotes}
        for key in ("triage", "triage_reply", "instruction"):
            if key in first.payload:
                merged[key] = first.payload[key]
        merged.pop("display", None)
        return Reply(first.paragraphs + self.paragraphs, merged, self.buttons, spoken=list(self.paragraphs))


def display_parts(paragraphs: Sequence[str], quotes: Sequence[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The reply in order, for channels that show quotes as quotes: our own text, or a pointer to
    a quote of the payload (its attribution is rebuilt from the quote's title and dates)."""
    parts: List[Dict[str, Any]] = []
    next_quote = 0
    for paragraph in paragraphs:
        if next_quote < len(quotes) and paragraph.startswith(f"“{quotes[next_quote]['text']}”"):
            parts.append({"type": "quote", "index": next_quote})
            next_quote += 1
        else:
            parts.append({"type": "text", "text": paragraph})
    return parts


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
    topic: str | None,
    triage: Dict[str, Any] | None,
    quotes: List[Dict[str, Any]],
    **extra: Any,
) -> Dict[str, Any]:
    return {"topic": topic, "triage": triage or dict(NO_TRIAGE), "quotes": quotes, **extra}


def topic_reply(library: Library, topic_id: str, locale: Locale, triage: dict | None = None) -> Reply:
    topic = library.topics[topic_id]
    segments = library.topic_segments(topic_id, locale)
    phrases = library.phrases
    if not any(isinstance(segment, Quote) for segment in segments):
        text = phrases["nothing_to_quote"].format(label=topic.label)
        return Reply([text, f"You can also call {locale.helpline}."], payload(topic_id, triage, []))
    paragraphs = [phrases["intro"].format(label=topic.label)] + render_segments(library, segments)
    return Reply(paragraphs, payload(topic_id, triage, quote_payloads(library, segments)))


def treatment_reply(
    library: Library, treatments: Sequence[Treatment], locale: Locale, triage: dict | None = None
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


def unknown_treatment_reply(library: Library, name: str | None, locale: Locale, triage: dict | None = None) -> Reply:
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


# -- triage replies (design.md: triage levels; safety rules 5, 7, 8) ---------------------------


def _findings_words(triage: dict | None, level: str) -> List[str]:
    return [
        finding["text"]
        for finding in (triage or {}).get("findings", [])
        if finding.get("assertion") == "present" and finding.get("level") == level
    ]


def triage_reply(
    library: Library,
    response: str,
    locale: Locale,
    triage: dict | None,
    slots: Dict[str, Any] | None = None,
    urgent_already: bool = False,
) -> Reply:
    """The text and payload of a triage response. The instruction always comes first, and the
    emergency instruction names the emergency number before anything else (rule 7)."""
    slots = slots or {}
    triage = dict(triage or NO_TRIAGE)
    if response == "utter_emergency":
        words = _findings_words(triage, "emergency")
        said = "What you told me" + (f" (“{'”, “'.join(words)}”)" if words else "")
        paragraphs = [
            f"EMERGENCY: {locale.emergency_instruction}",
            f"{said} can be a danger sign. Do not wait for a call back: the nurse helpline is not an emergency service.",
        ]
        segments = library.passage_set_segments("danger_signs", locale)
        paragraphs += render_segments(library, segments)
        triage["level"] = "emergency"
        return Reply(
            paragraphs, payload(None, triage, quote_payloads(library, segments), **_instruction(locale, "emergency"))
        )
    if response == "utter_emergency_restate":
        present = [flag for flag, status in (slots.get("red_flags") or {}).items() if status in ("present", "unsure")]
        paragraphs = [
            f"I understand. But what you described can be a danger sign, so I must say it once more: {locale.emergency_instruction}",
            f"Please reply to confirm that you have called {locale.emergency_number}, or that someone is getting help.",
        ]
        extra = {**_instruction(locale, "emergency"), "restated": True, "red_flags_recorded": present}
        return Reply(paragraphs, payload(None, triage, [], **extra))
    if response == "utter_urgent" or (response == "utter_check_result" and _check_found_symptoms(slots)):
        if response == "utter_check_result" and urgent_already:
            return Reply(
                [f"That was my last question. Please contact {locale.advice_line} now."],
                payload(None, triage, [], triage_reply="urgent"),
            )
        words = _findings_words(triage, "urgent")
        paragraphs = [locale.urgent_instruction]
        if words:
            paragraphs.append(f"You mentioned: “{'”, “'.join(words)}”. Here is why it matters:")
        segments = library.passage_set_segments("urgent_reasons", locale)
        paragraphs += render_segments(library, segments)
        triage["level"] = max(triage.get("level", "none"), "urgent", key=["none", "urgent", "emergency"].index)
        return Reply(
            paragraphs, payload(None, triage, quote_payloads(library, segments), **_instruction(locale, "urgent"))
        )
    if response == "utter_check_result":
        paragraphs = [
            "From your answers, none of the danger signs I asked about is there now. This is not a diagnosis.",
            f"If anything changes or you are worried, contact {locale.advice_line}. In an emergency call {locale.emergency_number}.",
        ]
        segments = library.passage_set_segments("check_clear", locale)
        paragraphs += render_segments(library, segments)
        return Reply(paragraphs, payload(None, triage, quote_payloads(library, segments), triage_reply="none"))
    raise ValueError(f"not a triage response: {response}")


def _check_found_symptoms(slots: Dict[str, Any]) -> bool:
    symptoms = slots.get("symptoms") or {}
    return slots.get("check_symptoms") in ("present", "unsure") or any(
        status in ("present", "unsure") for status in symptoms.values()
    )


def _instruction(locale: Locale, level: str) -> Dict[str, Any]:
    text = locale.emergency_instruction if level == "emergency" else locale.urgent_instruction
    return {
        "triage_reply": level,
        "instruction": {"level": level, "text": text, "emergency_number": locale.emergency_number, "locale": locale.id},
    }
