"""Vital signs however they are written (issue 9): numbers in words, "point", "over", bare
numbers with a device's context, a fall from the usual oxygen level; thresholds as data."""

from __future__ import annotations

import pytest
import yaml

from crs.triage.engine import RULES_PATH
from crs.triage.number_words import digits_for_words


@pytest.mark.parametrize(
    "spoken, digits",
    [
        ("thirty nine point four", "39.4"),
        ("a hundred and ten", "110"),
        ("a hundred n twenty", "120"),
        ("eighty five over fifty", "85 over 50"),
        ("38 point 5", "38.5"),
        ("one hundred and two point five", "102.5"),
        ("no one came at one point", "no one came at one point"),
    ],
)
def test_numbers_in_words_become_digits_and_small_words_stay(spoken, digits):
    text, origin = digits_for_words(spoken)
    assert text == digits
    assert len(origin) == len(text) and all(0 <= i < len(spoken) for i in origin)


@pytest.mark.parametrize(
    "text, finding",
    [
        ("temp thirty nine point four", "high_fever"),
        ("his watch says 135", "rapid_heartbeat"),
        ("pulse is a hundred and twenty", "rapid_heartbeat"),
        ("the finger thing says 88", "breathing"),
        ("bp eighty five over fifty", "low_blood_pressure"),
        ("the bp machine says 84", "low_blood_pressure"),
        ("her oxygen is normally 98 and the meter shows 94", "breathing"),
        ("sats dropped from 97 to 93", "breathing"),
        ("counted her breaths, 28 in a minute", "breathing"),
        ("she was 38.8 earlier and now it says 39.3", "high_fever"),
    ],
)
def test_readings_however_written(engine, text, finding):
    result = engine.assess(text)
    assert result.level == "emergency" and finding in {f.id for f in result.present}, result


@pytest.mark.parametrize("text", ["sats 97 pulse 88", "oxygen 96 and bp 118/74", "her oxygen is usually 97, today 96"])
def test_normal_readings_stay_normal(engine, text):
    result = engine.assess(text)
    assert result.level == "none" and not result.concern


def test_temperature_thresholds_are_data_with_provenance_awaiting_review():
    numbers = yaml.safe_load(RULES_PATH.read_text())["numbers"]
    temperature = numbers["temperature"]
    assert temperature["at_or_above_c"] == 37.5 and "UKONS" in temperature["basis"]
    assert temperature["high"]["at_or_above_c"] == 39.0 and temperature["high"]["finding"] == "high_fever"
    for spec in [temperature, temperature["high"], *(v for k, v in numbers.items() if k != "temperature")]:
        assert spec["status"] == "awaiting_clinical_review"
