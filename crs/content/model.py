"""What the content is made of: quotes of verbatim source text, locales, topics and their ids."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import List, Tuple, Union

from crs.content.sources import BULLET, Source, Unit


@dataclass(frozen=True)
class Quote:
    """A run of contiguous, intact units from one source, quoted as one block."""

    source: Source
    units: Tuple[Unit, ...]

    @property
    def text(self) -> str:
        parts: List[str] = []
        previous: Unit | None = None
        for unit in self.units:
            piece = f"{BULLET} {unit.text}" if unit.kind == "item" and not unit.continues else unit.text
            if previous is None:
                parts.append(piece)
            elif previous.block == unit.block:
                parts.append(" " + piece)
            else:
                parts.append("\n" + piece)
            previous = unit
        return "".join(parts)

    def payload(self, today: date) -> dict:
        return {
            "source_id": self.source.id,
            "passage_id": self.units[0].id,
            "passage_ids": [unit.id for unit in self.units],
            "text": self.text,
            "title": self.source.title,
            "short_title": self.source.short_title,
            "last_reviewed": self.source.last_reviewed.isoformat(),
            "next_review": self.source.next_review.isoformat(),
            "next_review_stated": self.source.next_review_stated,
            "review_overdue": self.source.is_overdue(today),
            "locale": self.source.locale,
        }


# A reply is a sequence of quotes and short connecting phrases in our own words.
Segment = Union[Quote, str]


@dataclass(frozen=True)
class Locale:
    id: str
    name: str
    emergency_number: str
    emergency_place: str
    emergency_instruction: str
    advice_line: str
    urgent_instruction: str
    helpline: str
    emergency_list_intro: str
    markers: Tuple[str, ...]


@dataclass(frozen=True)
class Topic:
    id: str
    label: str
    ranges: Tuple[Tuple[Source, Tuple[Unit, ...]], ...]


REQUIRED_PASSAGE_SETS = ("danger_signs", "urgent_reasons", "unknown_treatment", "check_clear")

TOPIC_IDS = (
    "about_crs",
    "symptoms",
    "causes",
    "risk_factors",
    "grading",
    "when_to_get_help",
    "prevention",
    "treatment",
    "diagnosis",
    "outlook",
    "recurrence",
)


def format_date(day: date) -> str:
    return f"{day.day} {day.strftime('%b %Y')}"
