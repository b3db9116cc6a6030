"""The safety net (issue 9): a message that describes someone's current state but names no sign
starts the yes/no check; questions and normal readings do not."""

from __future__ import annotations

import pytest

from crs.triage.engine import TriageEngine


@pytest.mark.parametrize(
    "text",
    [
        "she has gone downhill since lunch",
        "my husband has come over all peculiar",
        "something is not right with dad tonight",
        "he's acting strangely this evening",
        "pt not her usual self per daughter",
    ],
)
def test_a_change_in_someone_starts_the_check(engine, text):
    result = engine.assess(text)
    assert result.level != "none" or result.concern, result


@pytest.mark.parametrize("text", ["what if he gets worse?", "what is crs", "thanks, that helps", "sats 98%"])
def test_questions_and_small_talk_do_not(engine, text):
    result = engine.assess(text)
    assert result.level == "none" and not result.concern, result


def test_concern_is_in_the_payload_dict(engine):
    rules_only = TriageEngine(engine.rules)  # the state-change rules alone, no classifier
    data = rules_only.assess("she has gone downhill since lunch").as_dict()
    assert data["level"] == "none" and data["concern"] == "gone downhill"
