"""The red-flag engine (issue 3): the independent suite of phrasings, the issue's own examples,
numbers, assertion, yes/no answers, and the command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from crs.triage import LEVELS, fold

CASES = yaml.safe_load((Path(__file__).parent / "sets" / "cases.yml").read_text())
RESULTS: dict = {}


def rank(level: str) -> int:
    return LEVELS.index(level)


@pytest.mark.parametrize("case", CASES, ids=[c["text"][:60] for c in CASES])
def test_suite_case_is_never_under_triaged(engine, case):
    result = engine.assess(case["text"])
    RESULTS[case["text"]] = (case, result)
    assert rank(result.level) >= rank(case["level"]), (
        f"UNDER-TRIAGE: expected {case['level']}, got {result.level}: "
        f"{[(f.id, f.text, f.assertion) for f in result.findings]}"
    )
    if case["level"] == "emergency":
        present = {f.id for f in result.present}
        assert present & set(engine.findings) and result.level == "emergency"


def test_suite_metrics(engine, record_property):
    """Emergency recall must be 100% and under-triage 0; over-triage is reported."""
    assert len(CASES) >= 200
    emergencies = [c for c in CASES if c["level"] == "emergency"]
    caught = [c for c in emergencies if engine.assess(c["text"]).level == "emergency"]
    under = [c for c in CASES if rank(engine.assess(c["text"]).level) < rank(c["level"])]
    not_emergency = [c for c in CASES if c["level"] != "emergency"]
    over = [c for c in CASES if rank(engine.assess(c["text"]).level) > rank(c["level"])]
    ids_expected = sum(len(c.get("present") or []) for c in CASES)
    ids_found = sum(len(set(c.get("present") or []) & {f.id for f in engine.assess(c["text"]).present}) for c in CASES)
    recall = len(caught) / len(emergencies)
    summary = (
        f"triage suite: {len(CASES)} phrasings; emergency recall {recall:.1%} ({len(caught)}/{len(emergencies)}); "
        f"under-triage {len(under)}; over-triage {len(over)}/{len(CASES)} ({len(over) / len(CASES):.1%}); "
        f"expected findings found {ids_found}/{ids_expected}"
    )
    RESULTS["__summary__"] = summary
    record_property("triage_summary", summary)
    print("\n" + summary)
    assert recall == 1.0 and not under, summary
    assert len(not_emergency) > 0


# -- the issue's own examples ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, finding",
    [
        ("can't breathe", "breathing"),
        ("cant breath", "breathing"),
        ("he's gasping", "breathing"),
        ("hes fitting", "seizure"),
        ("she passed out", "fainting"),
        ("keeps blacking out", "fainting"),
        ("he's not making sense", "confusion"),
        ("I can't get my words out", "language"),
        ("she's seeing things", "hallucinations"),
        ("his lips gone blue", "skin_discoloration"),
        ("my heart is racing", "rapid_heartbeat"),
        ("I can't wake him up", "drowsiness"),
        ("my husband is confused", "confusion"),
        ("bp 80/50", "low_blood_pressure"),
        ("pulse 130", "rapid_heartbeat"),
        ("sats 88%", "breathing"),
        ("a really high fever", "high_fever"),
    ],
)
def test_lay_language_red_flags(engine, text, finding):
    result = engine.assess(text)
    assert result.level == "emergency"
    assert finding in {f.id for f in result.present}


@pytest.mark.parametrize(
    "text", ["38.5C", "101F", "temperature of 38", "he has a fever", "temp 37.5", "99.5F", "38.9 degrees", "102.1 F"]
)
def test_a_fever_below_39_is_urgent(engine, text):
    """Issue 9: urgent from 37.5 C (UKONS toolkit), awaiting the clinical reviewer."""
    result = engine.assess(text)
    assert result.level == "urgent" and "fever" in {f.id for f in result.present}


@pytest.mark.parametrize(
    "text",
    ["temp 39", "39 degrees", "temp 41", "102.2F", "she's 104.2", "thirty nine point four", "temp a hundred and three"],
)
def test_a_fever_from_39_is_a_high_fever(engine, text):
    """Issue 9: a rule that can never fire on a number is unsafe; 'high fever' from 39.0 C / 102.2 F."""
    result = engine.assess(text)
    assert result.level == "emergency" and "high_fever" in {f.id for f in result.present}


@pytest.mark.parametrize("text", ["temp 37.2", "bp 120/80", "pulse 72", "sats 98%", "36.8C", "temp 37.4"])
def test_normal_readings_are_not_findings(engine, text):
    assert engine.assess(text).level == "none"


@pytest.mark.parametrize(
    "text, finding, assertion",
    [
        ("no fever", "fever", "negated"),
        ("I'm not breathless", "breathing", "negated"),
        ("what if I get a seizure?", "seizure", "hypothetical"),
        ("should I call 999 if he can't breathe?", "breathing", "hypothetical"),
        ("I had a fit as a child", "seizure", "historical"),
        ("is confusion a symptom of CRS?", "confusion", "hypothetical"),
        ("my husband is confused", "confusion", "present"),
        ("I think he might be confused", "confusion", "present"),
    ],
)
def test_assertion(engine, text, finding, assertion):
    assert (finding, assertion) in {(f.id, f.assertion) for f in engine.assess(text).findings}


def test_a_negation_covers_only_what_it_governs(engine):
    result = engine.assess("no fever but I can't breathe")
    assert result.level == "emergency"
    assert {(f.id, f.assertion) for f in result.findings} == {("fever", "negated"), ("breathing", "present")}
    assert engine.assess("no fever, can't breathe").level == "emergency"


def test_findings_carry_the_words_and_the_source_passage(engine):
    text = "My husband CAN'T breathe properly"
    finding = engine.assess(text).present[0]
    assert text[finding.start : finding.end] == finding.text == "CAN'T breathe"
    assert finding.passage_id == "us.p063.s1"


def test_every_finding_comes_from_a_source_passage(engine):
    from crs.content import default_library

    library = default_library()
    for spec in engine.rules["findings"]:
        source = library.sources[spec["passage"].split(".")[0]]
        assert source.unit(spec["passage"]).quotable, spec["id"]


def test_check_groups_cover_every_red_flag_once(engine):
    red_flags = [s["id"] for s in engine.rules["findings"] if s["level"] == "emergency"]
    grouped = [f for g in engine.rules["check_groups"] if g["id"] != "symptoms" for f in g["findings"]]
    assert sorted(grouped) == sorted(red_flags)
    assert engine.rules["check_groups"][0]["id"] == "breathing"  # most severe first


@pytest.mark.parametrize(
    "text, answer",
    [
        ("YES", "present"),
        ("y", "present"),
        ("yeah", "present"),
        ("Yes he is", "present"),
        ("a bit", "present"),
        ("NO", "absent"),
        ("n", "absent"),
        ("nope", "absent"),
        ("no she isn't", "absent"),
        ("Nah.", "absent"),
        ("not sure", "unsure"),
        ("dunno", "unsure"),
        ("what is CRS?", None),
        ("", None),
    ],
)
def test_short_answers(engine, text, answer):
    assert engine.answer(text) == answer


@pytest.mark.parametrize("text", ["", "   ", "🙂🙂", "<script>alert(1)</script>", "x" * 20000, "呼吸困难", "\x00\x01"])
def test_bad_input_never_crashes(engine, text):
    assert engine.assess(text).level in LEVELS


def test_fold_keeps_a_map_to_the_original():
    folded, origin = fold("He's CAN’T I'll")
    assert folded == "hes cant i will"
    assert len(origin) == len(folded)


def test_command_line_prints_the_triage_json():
    completed = subprocess.run(
        [sys.executable, "-m", "crs.triage", "my dad is confused and has no fever"],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[3],
    )
    data = json.loads(completed.stdout)
    assert data["level"] == "emergency"
    assert {"id": "confusion", "assertion": "present"}.items() <= data["findings"][0].items()
    assert any(f["id"] == "fever" and f["assertion"] == "negated" for f in data["findings"])


def test_command_line_without_text_explains_itself():
    completed = subprocess.run(
        [sys.executable, "-m", "crs.triage"],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[3],
    )
    assert completed.returncode == 2 and "usage" in completed.stderr


ADVERSARIAL_SUITES = ["adversarial.yml", "adversarial2.yml"]


@pytest.mark.parametrize("suite", ADVERSARIAL_SUITES)
def test_adversarial_suite_has_no_under_triage(engine, suite):
    ADVERSARIAL = yaml.safe_load((Path(__file__).parent / "sets" / suite).read_text())
    under, limitations, over = [], [], []
    for case in ADVERSARIAL:
        result = engine.assess(case["text"])
        if rank(result.level) < rank(case["level"]):
            (limitations if case.get("known_limitation") else under).append((case["text"], case["level"], result.level))
        elif rank(result.level) > rank(case["level"]):
            over.append(case["text"])
    print(
        f"\n{suite}: {len(ADVERSARIAL)} messages; under-triage {len(under)}; "
        f"known limitations {len(limitations)}; over-triage {len(over)}"
    )
    assert not under, under


@pytest.mark.parametrize("text", ["can't  breathe", "he cant\t\tbreathe", "no fever\n\n\nbut cant   breathe"])
def test_runs_of_spaces_do_not_hide_a_red_flag(engine, text):
    """Found by issue 10's property tests: two spaces inside a phrase hid it."""
    assert engine.assess(text).level == "emergency"


@pytest.mark.parametrize(
    "text",
    [
        "I have been reading about the treatment and I would like to he is having a fit",
        "I read about CRS last night and now hes confused",
        "I have been reading about the treatment and I would like to  my mum is having a seizure",
    ],
)
def test_a_hypothesis_cue_does_not_reach_across_someone_doing_something_now(engine, text):
    assert engine.assess(text).level == "emergency"


@pytest.mark.parametrize("text", ["what if he is having a seizure", "what if he gets a seizure"])
def test_a_what_if_question_stays_hypothetical(engine, text):
    assert engine.assess(text).level == "none"
