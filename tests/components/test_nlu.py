"""The RedFlagDetector's reading of a message the classifier was torn on (issue 13): a symptom and
a question in one message keep the question when the classifier's next guess is sure enough."""

from __future__ import annotations

import pytest
from rasa.shared.nlu.training_data.message import Message

from components.nlu import RedFlagDetector

TEXT = "my wife has a temp of 38.6, what is CRS exactly"


def parsed(question_confidence: float) -> Message:
    ranking = [
        {"name": "nlu_fallback", "confidence": 0.3},
        {"name": "triage_urgent", "confidence": 0.41},
        {"name": "ask_about_crs", "confidence": question_confidence},
        {"name": "ask_about_drug", "confidence": 0.04},
    ]
    message = Message(data={"text": TEXT, "intent": dict(ranking[0]), "intent_ranking": ranking})
    RedFlagDetector({}).process([message])
    return message


@pytest.mark.parametrize(("confidence", "question"), [(0.38, "ask_about_crs"), (0.2, "nlu_fallback")])
def test_a_symptom_and_a_question_keep_the_question_when_the_guess_is_sure_enough(confidence, question):
    message = parsed(confidence)
    assert message.get("intent")["name"] == "triage_urgent"
    assert message.get("original_intent") == question
