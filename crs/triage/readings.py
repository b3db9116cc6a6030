"""Readings of numbers: temperatures, blood pressure, pulse, oxygen and breathing rate.

Thresholds are data (``numbers`` in ``data/triage/red_flags.yml``) with their provenance.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Dict, List, Tuple

from spacy.tokens import Doc

from crs.triage.findings import Finding, with_assertion
from crs.triage.number_words import digits_for_words

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
    r"(?<![\d/.])(?P<sys>\d{2,3})\s*(?:/|over|on)\s*(?P<dia>\d{2,3})(?![\d/])"
)
_SYSTOLIC = re.compile(
    r"(?:systolic|top number)\D{0,12}?(?P<value>\d{2,3})\b|\b(?P<value2>\d{2,3})\s*systolic"
    r"|(?:bp|blood pressure)(?: machine| cuff| monitor| reading)?\b[^0-9\n.?!;]{0,15}?(?<![\d/.])(?P<value3>\d{2,3})(?![\d/.%])"
)
_HR = re.compile(
    r"(?:(?P<ctx>heart ?rate|hr|pulse|heart ?beat|heart|watch|fitbit|garmin|heart monitor|ticker)\b[^0-9\n.?!;%]{0,30}?"
    r"(?<![\d/.])(?P<value>\d{2,3})(?![\d/.%])(?!\s*(?:degrees|deg|c\b|f\b|°|percent|steps|mins?|minutes|hours|years))"
    r"|(?<![\d/.])(?P<value2>\d{2,3})\s*(?:bpm|beats?\b|b\.p\.m))"
)
_SATS = re.compile(
    r"(?:(?:sats?|saturations?|o2|spo2|oxygen(?: levels?| sats?| saturation)?|oximeter|oximetre|pulse ox|finger (?:thing|clip|probe|monitor|gadget|machine)|the clip)"
    r"\b[^0-9\n.?!;]{0,40}?(?<![\d/.])(?P<value>\d{2,3})\s*%?"
    r"|(?<![\d/.])(?P<value2>\d{2,3})\s*(?:%|percent)\s*(?:oxygen|o2|sats?|saturation))"
)
_OXYGEN_CONTEXT = re.compile(
    r"\b(?:sats?|saturations?|o2|spo2|oxygen|oximet\w*|pulse ox|finger (?:thing|clip|probe|monitor))\b"
)
_SENTENCE = re.compile(r"[^.!?;\n]+")
# In a sentence about oxygen, every number from 70 to 100 is a saturation, unless another vital
# sign names it ("sats 97, pulse 88"); a number after "usually", "baseline", "from" is the usual one.
_SENTENCE_NUMBER = re.compile(
    r"(?P<before>[a-z ]{0,14})(?<![\d/.,])(?P<value>\d{2,3})(?![\d/]|[.,]\d)\s*%?(?P<after>\s*(?:bpm|beats|degrees|deg|c\b|f\b|°)?)"
)
_OTHER_VITAL = re.compile(r"(?:pulse|hr|heart|bp|pressure|temp|temperature|rr|resp|breaths?|rate)\W*$")
_USUAL_AFTER = re.compile(r"\s*%?\s*(?:is\s+)?(?:usual(?:ly)?|normal(?:ly)?|at baseline|baseline|most days|before)\b")
_USUAL_CUE = re.compile(r"\b(?:usual(?:ly)?|normal(?:ly)?|always|baseline|before|from|discharge|typically|most days)\b")
# A temperature read already, or named, and a later number said to be where it is now ("38.9 all
# day and now it says 39").
_TEMP_CONTEXT = re.compile(r"\b(?:temp(?:erature)?s?|fever|thermometer|feverish)\b")
_LATER_TEMP = re.compile(
    r"\b(?:now|says|reads|reading|up to|went to|gone to|gone up to|hit|hits|reached|risen to|rose to|climbed to)\s+"
    r"(?:a\s+|about\s+|around\s+)?(?P<value>3[5-9](?:[.,]\d)?|4[0-3](?:[.,]\d)?|(?:9[5-9]|10[0-9])(?:[.,]\d)?)(?![\d/%.,])"
)
# Breaths counted in a sentence about breathing ("counted his breaths ... 24 in a minute").
_BREATH_CONTEXT = re.compile(r"\b(?:breaths?|breathing|breathes|resps?)\b")
_COUNT_PER_MINUTE = re.compile(r"(?<![\d/.])(?P<value>\d{2,3})\s*(?:in|a|per|each|every)\s+(?:one\s+)?min(?:ute)?s?\b")
# A decimal body temperature on its own ("39.4 and shivering", "thirty nine point two"): no unit
# of weight, volume, time or percentage after it.
_LONE_TEMP = re.compile(
    r"(?<![\d/.,])(?P<value>3[5-9][.,]\d{1,2}|4[0-3][.,]\d{1,2}|(?:99|10[0-9])[.,]\d{1,2})(?![\d/%])"
    r"(?!\s*(?:kg|kilo|mg|ml|mmol|g\b|l\b|litre|liter|cm|mm|lb|pound|stone|mile|km|percent|week|year|hour|min|day|mph|quid|pounds))"
)
_RR = re.compile(
    r"(?:resp(?:iratory)? rate|breathing rate|rr|breaths? (?:a|per) min(?:ute)?)\b[^0-9\n.?!;]{0,15}?(?<![\d/.])(?P<value>\d{2,3})"
    r"|(?<![\d/.])(?P<value2>\d{2,3})\s*(?:breaths?|times) (?:a|per|in a) min"
)


def number_findings(doc: Doc, folded: str, numbers: Dict[str, Any], finding_at: FindingAt) -> List[Finding]:
    """Readings with units (temperature, blood pressure, pulse, oxygen, breathing rate) as findings.

    Numbers said in words are read as digits first ("thirty nine point four"). `finding_at(
    finding_id, start_token, end_token, value)` builds the finding with its assertion; a reading
    on the safe side of its threshold is a statement that the finding is absent.
    """
    text, to_folded = digits_for_words(folded)
    found: List[Finding] = []
    taken: List[Tuple[int, int]] = []

    def add(kind: str, match: re.Match, value: float, fires: bool, finding_id: str | None = None) -> None:
        if not fresh(match):
            return
        spec = numbers.get(kind)
        if not spec:
            return
        start, end = to_folded[match.start()], to_folded[match.end() - 1] + 1
        span = doc.char_span(start, end, alignment_mode="expand")
        if span is None or not len(span):
            return
        taken.append((match.start(), match.end()))
        finding = finding_at(finding_id or spec["finding"], span.start, span.end, value)
        if not fires and finding.assertion == "present":
            finding = with_assertion(finding, "negated")
        found.append(finding)

    def fresh(match: re.Match) -> bool:
        return not any(match.start() < e and s < match.end() for s, e in taken)

    def value_of(match: re.Match, *groups: str) -> int:
        return int(next(match.group(g) for g in groups if match.group(g)))

    def temperature(match: re.Match, celsius: float) -> None:
        spec = numbers["temperature"]
        high = spec.get("high") or {}
        if high and celsius >= high["at_or_above_c"]:
            add("temperature", match, celsius, True, high["finding"])
        else:
            add("temperature", match, celsius, celsius >= spec["at_or_above_c"])

    sats = numbers.get("oxygen_saturation") or {}
    for sentence in _SENTENCE.finditer(text):
        if _OXYGEN_CONTEXT.search(sentence.group(0)):
            oxygen_sentence(sentence, sats, add)
    for match in _BP.finditer(text):
        if not fresh(match):
            continue
        systolic, diastolic = int(match.group("sys")), int(match.group("dia"))
        plausible = 50 <= systolic <= 250 and 20 <= diastolic <= 150 and systolic > diastolic
        if plausible and (match.group("ctx") or systolic >= 60):
            add("blood_pressure", match, float(systolic), systolic < numbers["blood_pressure"]["systolic_below"])
    for match in _SYSTOLIC.finditer(text):
        systolic = value_of(match, "value", "value2", "value3")
        if fresh(match) and 50 <= systolic <= 250:
            add("blood_pressure", match, float(systolic), systolic < numbers["blood_pressure"]["systolic_below"])
    for match in _SATS.finditer(text):
        value = value_of(match, "value", "value2")
        if fresh(match) and 50 <= value <= 100:
            add("oxygen_saturation", match, float(value), value < sats["below_percent"])
    for match in _RR.finditer(text):
        value = value_of(match, "value", "value2")
        if fresh(match) and 5 <= value <= 80:
            add("respiratory_rate", match, float(value), value > numbers["respiratory_rate"]["above"])
    for match in _BARE_TEMP.finditer(text):
        if not fresh(match):
            continue
        value = float(match.group("value").replace(",", "."))
        celsius = round((value - 32) * 5 / 9, 1) if value >= 80 else value
        if 34.0 <= celsius <= 45.0:
            temperature(match, celsius)
    for match in _TEMP.finditer(text):
        if not fresh(match):
            continue
        celsius = _celsius(match)
        if celsius is not None:
            temperature(match, celsius)
    for match in _LONE_TEMP.finditer(text):
        if fresh(match):
            value = float(match.group("value").replace(",", "."))
            temperature(match, round((value - 32) * 5 / 9, 1) if value >= 80 else value)
    if (
        found
        and any(f.value is not None and f.id in ("fever", "high_fever") for f in found)
        or _TEMP_CONTEXT.search(text)
    ):
        for match in _LATER_TEMP.finditer(text):
            if fresh(match):
                value = float(match.group("value").replace(",", "."))
                temperature(match, round((value - 32) * 5 / 9, 1) if value >= 80 else value)
    for sentence in _SENTENCE.finditer(text):
        if _BREATH_CONTEXT.search(sentence.group(0)):
            for match in _COUNT_PER_MINUTE.finditer(text, sentence.start(), sentence.end()):
                value = int(match.group("value"))
                if fresh(match) and 5 <= value <= 80:
                    add("respiratory_rate", match, float(value), value > numbers["respiratory_rate"]["above"])
    for match in _HR.finditer(text):
        value = value_of(match, "value", "value2")
        if fresh(match) and 30 <= value <= 250:
            add("heart_rate", match, float(value), value > numbers["heart_rate"]["above"])
    return found


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


def oxygen_sentence(sentence: re.Match, sats: Dict[str, Any], add: Callable[..., None]) -> None:
    """Every saturation in a sentence about oxygen: below the threshold, or a fall from the usual
    level by `drop_from_usual` points or more, is a red flag; otherwise a statement it is fine."""
    usual, current = [], []
    previous_end = sentence.start()
    for match in _SENTENCE_NUMBER.finditer(sentence.string, sentence.start(), sentence.end()):
        value = int(match.group("value"))
        # the words since the previous number say what this one is
        lead = sentence.string[max(previous_end, match.start("value") - 30) : match.start("value")]
        previous_end = match.end("value")
        if not 70 <= value <= 100 or match.group("after").strip() or _OTHER_VITAL.search(match.group("before")):
            continue
        # "96 usually", "normally 98": a usual cue just before or just after the number
        trail = sentence.string[match.end("value") : min(sentence.end(), match.end("value") + 14)]
        after = _USUAL_AFTER.match(trail)
        said_usual = _USUAL_CUE.search(lead) or after
        if after:  # the cue belongs to this number, not to the next one
            previous_end = match.end("value") + after.end()
        (usual if said_usual else current).append((value, match))
    if not current:
        return
    value, match = min(current, key=lambda item: item[0])
    fall = bool(usual) and sats.get("drop_from_usual") and max(u for u, _ in usual) - value >= sats["drop_from_usual"]
    add("oxygen_saturation", match, float(value), value < sats["below_percent"] or bool(fall))
