"""Readings of numbers: temperatures, blood pressure, pulse, oxygen and breathing rate.

Thresholds are data (``numbers`` in ``data/triage/red_flags.yml``) with their provenance.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Dict, List, Tuple

from spacy.tokens import Doc

from crs.triage.findings import Finding, with_assertion

# builds a finding of an id over tokens [start, end) with a reading's value
FindingAt = Callable[[str, int, int, float], Finding]

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


def number_findings(doc: Doc, folded: str, numbers: Dict[str, Any], finding_at: FindingAt) -> List[Finding]:
    """Readings with units (temperature, blood pressure, pulse, oxygen, breathing rate) as findings.

    `finding_at(finding_id, start_token, end_token, value)` builds the finding with its assertion;
    a reading on the safe side of its threshold is a statement that the finding is absent.
    """
    found: List[Finding] = []
    taken: List[Tuple[int, int]] = []

    def token_span(start_char: int, end_char: int) -> Tuple[int, int] | None:
        span = doc.char_span(start_char, end_char, alignment_mode="expand")
        return (span.start, span.end) if span is not None and len(span) else None

    def add(kind: str, match: re.Match, value: float, fires: bool) -> None:
        spec = numbers.get(kind)
        if not spec:
            return
        span = token_span(match.start(), match.end())
        if span is None:
            return
        taken.append((match.start(), match.end()))
        finding = finding_at(spec["finding"], span[0], span[1], value)
        if not fires:
            # a reading on the safe side of the threshold is a statement that it is absent
            if finding.assertion == "present":
                finding = with_assertion(finding, "negated")
        found.append(finding)

    def overlaps(match: re.Match) -> bool:
        return any(match.start() < e and s < match.end() for s, e in taken)

    for match in _BP.finditer(folded):
        systolic, diastolic = int(match.group("sys")), int(match.group("dia"))
        plausible = 50 <= systolic <= 250 and 20 <= diastolic <= 150 and systolic > diastolic
        if plausible and (match.group("ctx") or systolic >= 60):
            limit = numbers["blood_pressure"]["systolic_below"]
            add("blood_pressure", match, float(systolic), systolic < limit)
    for match in _SYSTOLIC.finditer(folded):
        if overlaps(match):
            continue
        systolic = int(match.group("value") or match.group("value2"))
        if 50 <= systolic <= 250:
            add(
                "blood_pressure",
                match,
                float(systolic),
                systolic < numbers["blood_pressure"]["systolic_below"],
            )
    for match in _SATS.finditer(folded):
        if overlaps(match):
            continue
        value = int(match.group("value") or match.group("value2"))
        if 50 <= value <= 100:
            add("oxygen_saturation", match, float(value), value < numbers["oxygen_saturation"]["below_percent"])
    for match in _HR.finditer(folded):
        if overlaps(match):
            continue
        value = int(match.group("value") or match.group("value2"))
        if 30 <= value <= 250:
            add("heart_rate", match, float(value), value > numbers["heart_rate"]["above"])
    for match in _RR.finditer(folded):
        if overlaps(match):
            continue
        value = int(match.group("value") or match.group("value2"))
        if 5 <= value <= 80:
            add("respiratory_rate", match, float(value), value > numbers["respiratory_rate"]["above"])
    for match in _BARE_TEMP.finditer(folded):
        if overlaps(match):
            continue
        value = float(match.group("value").replace(",", "."))
        celsius = round((value - 32) * 5 / 9, 1) if value >= 80 else value
        if 34.0 <= celsius <= 45.0:
            add("temperature", match, celsius, celsius >= numbers["temperature"]["at_or_above_c"])
    for match in _TEMP.finditer(folded):
        if overlaps(match):
            continue
        celsius = _celsius(match)
        if celsius is not None:
            add("temperature", match, celsius, celsius >= numbers["temperature"]["at_or_above_c"])
    return found


# -- combining ---------------------------------------------------------------------------


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
