"""NLU evaluation on held-out phrasings (tests/e2e/nlu/topic_phrasings.yml), written apart from the
training data: topic accuracy is printed, and the test fails below 90%."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT

pytestmark = pytest.mark.rasa

ENTITY = re.compile(r"\[([^\]]+)\]\([^)]+\)|\[([^\]]+)\]\{[^}]+\}")


def examples(path: Path):
    for block in yaml.safe_load(path.read_text())["nlu"]:
        if "intent" not in block:
            continue
        for line in block["examples"].splitlines():
            line = line.strip()
            if line.startswith("- "):
                text = ENTITY.sub(lambda m: m.group(1) or m.group(2), line[2:].strip())
                yield block["intent"], text


def normalise(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


HELD_OUT = list(examples(ROOT / "tests" / "e2e" / "nlu" / "topic_phrasings.yml"))


def test_held_out_phrasings_are_not_training_data():
    training = {normalise(text) for path in (ROOT / "data" / "nlu").glob("*.yml") for _, text in examples(path)}
    overlap = [text for _, text in HELD_OUT if normalise(text) in training]
    assert len(HELD_OUT) >= 150
    assert not overlap, overlap


def test_topic_accuracy(servers, record_property):
    wrong = []
    per_intent = Counter()
    correct = Counter()
    for intent, text in HELD_OUT:
        parsed = servers.api("POST", "/model/parse", json={"text": text}).json()
        predicted = parsed.get("original_intent") or parsed["intent"]["name"]
        per_intent[intent] += 1
        if predicted == intent:
            correct[intent] += 1
        else:
            wrong.append((intent, predicted, text))
    accuracy = sum(correct.values()) / len(HELD_OUT)
    lines = [f"NLU topic accuracy on {len(HELD_OUT)} held-out phrasings: {accuracy:.1%}"]
    lines += [f"  {intent:22s} {correct[intent]}/{count}" for intent, count in sorted(per_intent.items())]
    lines += [f"  wrong: {i} -> {p}: {t}" for i, p, t in wrong]
    report = "\n".join(lines)
    print("\n" + report)
    (ROOT / "results").mkdir(exist_ok=True)
    (ROOT / "results" / "nlu_accuracy.txt").write_text(report + "\n")
    record_property("nlu_accuracy", accuracy)
    assert accuracy >= 0.90, report
