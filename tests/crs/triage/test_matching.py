"""The gated matcher (speed of the rules): the same matches as one spaCy Matcher holding every
pattern, on every message of the triage sets and on messages made of the rules' own words."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import yaml
from spacy.matcher import Matcher

from crs.triage import default_engine
from crs.triage.folding import fold
from crs.triage.matching import GatedMatcher, anchor
from crs.triage.phrases import matcher_patterns, phrase_words

SETS = Path(__file__).parent / "sets"


def _texts():
    texts = []
    for path in sorted(SETS.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        items = data if isinstance(data, list) else (data.get("cases") or data.get("messages") or [])
        texts += [item["text"] for item in items if isinstance(item, dict) and "text" in item]
    return texts


@pytest.fixture(scope="module")
def matchers():
    engine = default_engine()
    plain, gated = Matcher(engine.nlp.vocab), GatedMatcher(engine.nlp.vocab)
    for spec in engine.rules["findings"]:
        for phrase in spec["phrases"]:
            plain.add(spec["id"], matcher_patterns(phrase))
            gated.add(spec["id"], matcher_patterns(phrase))
    return engine, plain, gated


def test_the_sets_are_read(matchers):
    assert len(_texts()) > 1500


def test_same_matches_as_one_matcher_on_every_message_of_the_sets(matchers):
    engine, plain, gated = matchers
    for text in _texts():
        doc = engine._doc(fold(text)[0])
        assert sorted(plain(doc)) == sorted(gated(doc)), text


def test_same_matches_on_random_messages_of_the_rules_words(matchers):
    engine, plain, gated = matchers
    words = sorted(phrase_words(p for spec in engine.rules["findings"] for p in spec["phrases"]))
    words += ["not", "no", ",", ".", "he", "she", "is", "very", "really", "and", "12", "1990", "x4"]
    rng = random.Random(9)
    for _ in range(400):
        doc = engine._doc(" ".join(rng.choice(words) for _ in range(rng.randint(1, 40))))
        assert sorted(plain(doc)) == sorted(gated(doc)), doc.text


def test_anchor_is_a_required_word_slot_preferring_rare_words():
    pattern = [{"NORM": "he"}, {"NORM": {"IN": ["cant", "cannot"]}}, {"NORM": "breathe"}]
    assert anchor(pattern) == {"breathe"}
    assert anchor([{"NORM": "blue", "OP": "?"}, {"IS_PUNCT": False}]) == frozenset()
    assert anchor([{"LIKE_NUM": True}, {"NORM": "bpm"}]) == {"bpm"}
