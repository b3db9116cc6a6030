"""The intent classifier (issue 13), trained here on the project's NLU data: its fast path gives
the figures scikit-learn gives, and it sets the intent and the ranking as Rasa expects."""

from __future__ import annotations

import numpy as np
from rasa.shared.nlu.training_data.message import Message

from components.classifier import TopicClassifier, build_pipeline
from tests.conftest import ROOT
from tests.e2e.test_nlu_eval import HELD_OUT, examples

TRAINING = [example for path in sorted((ROOT / "data" / "nlu").glob("*.yml")) for example in examples(path)]


def trained() -> TopicClassifier:
    model = build_pipeline(100.0).fit([text for _, text in TRAINING], [intent for intent, _ in TRAINING])
    return TopicClassifier({}, None, None, model)


def test_the_fast_path_gives_scikit_learns_probabilities_and_intents():
    classifier = trained()
    texts = [text for _, text in HELD_OUT] + ["", "!!!", "zzzz qqqq", "what is crs " * 300]
    fast, classes = classifier._probabilities(texts)
    assert classes == [str(c) for c in classifier.model.classes_]
    assert np.allclose(fast, classifier.model.predict_proba(texts), atol=1e-9)
    messages = classifier.process([Message(data={"text": text}) for _, text in HELD_OUT])
    right = sum(m.get("intent")["name"] == intent for m, (intent, _) in zip(messages, HELD_OUT, strict=True))
    assert right / len(HELD_OUT) >= 0.9  # the classifier alone, before the fallback and triage
    ranking = messages[0].get("intent_ranking")
    assert len(ranking) == 10 and ranking[0] == messages[0].get("intent")
    assert all(isinstance(r["confidence"], float) for r in ranking)
