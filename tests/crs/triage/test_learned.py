"""The learned red-flag detector beside the rules (issue 9): trained from the project's corpus,
combined so that either one escalates, read by the same assertion rules."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from crs.triage.engine import TriageEngine
from crs.triage.learned import ANY_RED_FLAG, MODEL_PATH, LearnedDetector, corpus_digest, load_corpus

ROOT = Path(__file__).resolve().parents[3]


def test_the_corpus_is_large_varied_and_labelled_with_known_ids(engine):
    examples = load_corpus()
    assert len(examples) >= 3000
    labels = [label for _, row in examples for label in row]
    red_flags = [fid for fid, spec in engine.findings.items() if spec["level"] == "emergency"]
    for flag in red_flags:  # every red flag has examples of its own
        assert labels.count(flag) >= 100, flag
    assert sum(1 for _, row in examples if not row) >= 1000  # messages with no sign
    assert set(labels) <= set(engine.findings)


def test_the_saved_detector_matches_the_corpus_and_a_stale_one_is_not_used(tmp_path):
    assert LearnedDetector.load(MODEL_PATH, digest=corpus_digest()) is not None
    assert LearnedDetector.load(MODEL_PATH, digest="another corpus") is None
    assert LearnedDetector.load(tmp_path / "missing.joblib") is None
    broken = tmp_path / "broken.joblib"
    broken.write_bytes(b"not a model")
    assert LearnedDetector.load(broken) is None


def test_the_engine_uses_the_learned_detector(engine):
    assert engine.learned is not None and ANY_RED_FLAG in engine.learned.thresholds


@pytest.mark.parametrize(
    "text",
    [
        # described, not named: a scene, an event, an idiom (written for this test, not from a set)
        "grandad keeps waving at the grandchildren in the corner but there is nobody in the corner",
        "she went down in the bathroom like a sack of potatoes and it took her a minute to come back to us",
        "he is talking but it is like a radio between stations, none of it goes together",
        "my wife has gone a funny dusky colour round the mouth",
        "the baby is so floppy and we can barely rouse her",
    ],
)
def test_descriptions_the_rules_do_not_list_are_emergencies(engine, text):
    result = engine.assess(text)
    assert result.level == "emergency", [(f.id, f.assertion, f.detector) for f in result.findings]


def test_either_detector_escalates(engine):
    """A learned finding escalates where the rules find nothing, and the rules still escalate
    where the classifier is unsure."""
    described = engine.assess(
        "she went down in the bathroom like a sack of potatoes and it took her a minute to come back to us"
    )
    assert any(f.detector == "learned" and f.assertion == "present" for f in described.findings)
    rules_only = TriageEngine(engine.rules)  # no learned detector
    assert rules_only.assess("I can't breathe").level == "emergency"
    assert engine.assess("I can't breathe").level == "emergency"


@pytest.mark.parametrize(
    "text, assertion",
    [
        ("my heart isnt racing at all", "negated"),
        ("what does it look like when someone is having a fit after car t?", "hypothetical"),
        ("my friend's dad had a seizure on car-t years ago", "historical"),
    ],
)
def test_context_rules_still_decide_for_the_learned_detector(engine, text, assertion):
    result = engine.assess(text)
    assert result.level != "emergency", [(f.id, f.assertion, f.detector) for f in result.findings]


@pytest.mark.parametrize(
    "text",
    [
        "took my breath away how kind the nurses were",
        "my heart goes out to everyone on the ward",
        "im sick of waiting on hold",
        "he passed his driving test today",
        "nearly passed out when I saw the parking charge",
        # a word the asker keeps meeting, one illness taken for another (issue 11)
        "I keep hearing the word cytokine on the ward. What is it?",
        "What is immunotherapy? The word keeps coming up.",
        "Could CRS be confused with sepsis?",
        "could the symptoms get mixed up with adrenal insufficiency",
        "Could you explain why CRS and sepsis get mixed up?",
    ],
)
def test_idioms_are_not_signs_for_either_detector(engine, text):
    assert engine.assess(text).level == "none"


@pytest.mark.parametrize(
    "text",
    [
        # the same words about a person stay signs
        "she keeps hearing the word mum when no one is there",
        "he is confused with a high temperature",
        "mum gets confused with her tablets",
        "he keeps getting mixed up with names",
        # a colour hedged ("kind of bluish") or after "to look"
        "my fingernails look kind of bluish",
        "Is it normal for my fingernails to look kind of bluish? Just noticed it",
        "her lips are slightly blue",
    ],
)
def test_idioms_and_hedges_leave_the_signs_about_a_person(engine, text):
    assert engine.assess(text).level == "emergency"


@pytest.mark.parametrize(
    "text",
    [
        "I had ATG before my kidney transplant years ago and I'm now having CAR-T. Is ATG one of the CRS drugs?",
        "I work in restaurant kitchen. After epcoritamab I can go to work same day?",
        "I have diabetes and heart trouble. Does that change my CRS risk?",
        "I wonder if you could explain to me what a cytokine actually is? I keep hearing the word on the ward.",
    ],
)
def test_a_question_told_with_its_askers_situation_is_no_sign(engine, text):
    """The detector learned from the situations told around questions (data/triage/corpus/
    question_negatives.yml, scripts/question_negatives.py): these had got the emergency
    instruction in place of their answer."""
    assert engine.assess(text).level == "none", [(f.id, f.text, f.detector) for f in engine.assess(text).present]


def test_a_stray_not_of_broken_grammar_is_no_negation(engine):
    result = engine.assess("my husband is not can wake up properly")
    assert result.level == "emergency"


def test_the_command_line_says_which_detector_fired_and_why():
    completed = subprocess.run(
        [sys.executable, "-m", "crs.triage", "she went down in the bathroom like a sack of potatoes, temp 39.4"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert completed.returncode == 0, completed.stderr
    output = json.loads(completed.stdout)
    assert output["level"] == "emergency"
    why = "\n".join(output["why"])
    assert "high_fever" in why and "reading: 39.4" in why
    assert any(f["detector"] in ("rules", "learned") for f in output["findings"])


def test_the_fast_featurizer_computes_what_the_fitted_vectorizer_computes(engine):
    # the detector builds its TF-IDF rows itself (speed); they must be sklearn's, to the last bit
    texts = [text for text, _ in load_corpus()[::7]] + ["", "zzz qqq", "a", "cant   breathe!!", "é ü 🙂"]
    expected = engine.learned.vectorizer.transform(texts)
    built = engine.learned._features(texts)
    assert built.shape == expected.shape
    assert abs(expected - built).max() < 1e-12
