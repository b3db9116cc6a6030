"""Limits, fair share, "/intent" syntax, forget me, other languages (issue 10, no Rasa)."""

from __future__ import annotations

import pytest

from crs import intake
from crs.languages import default_languages


def test_rate_limiter_allows_a_burst_then_one_every_few_seconds():
    limiter = intake.RateLimiter(burst=3, seconds=2.0)
    assert [limiter.allow("a", now=0.0) for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("b", now=0.0)  # per sender
    assert not limiter.allow("a", now=1.0)
    assert limiter.allow("a", now=3.1)


def test_rate_limiter_memory_is_bounded():
    limiter = intake.RateLimiter(burst=1, seconds=1.0, max_keys=10)
    for n in range(100):
        limiter.allow(f"s{n}", now=float(n * 10))
    assert len(limiter._buckets) <= 11


@pytest.mark.parametrize(
    "text, expected",
    [
        ("/ask_symptoms", "/ask_symptoms"),
        ("  /ask_symptoms ", "/ask_symptoms"),
        ("/ask_about_crs he can't breathe", "ask_about_crs he can't breathe"),
        ('/affirm{"check_answer": "absent"}', 'affirm{"check_answer": "absent"}'),
        ("//", "?"),
        ("what is crs", "what is crs"),
    ],
)
def test_intent_syntax_only_as_a_bare_intent(text, expected):
    assert intake.user_text(text) == expected


@pytest.mark.parametrize("text", ["forget me", "Please delete my data.", "delete this conversation", "FORGET ME!"])
def test_forget_requests(text):
    assert intake.is_forget_request(text)


@pytest.mark.parametrize("text", ["forget me, he can't breathe", "I forget my meds", "delete"])
def test_not_forget_requests(text):
    assert not intake.is_forget_request(text)


def test_forget_needs_a_recent_confirmation():
    requests = intake.ForgetRequests(seconds=60)
    requests.ask("c", now=0.0)
    assert requests.pending("c", now=30.0)
    assert not requests.pending("c", now=31.0)  # asked once
    requests.ask("c", now=0.0)
    assert not requests.pending("c", now=120.0)
    assert intake.is_confirmation("YES") and not intake.is_confirmation("yes he can't breathe")


def test_every_notice_names_the_emergency_number():
    for notice in (
        intake.long_notice("999", 2000, True),
        intake.long_notice("999", 2000, False),
        intake.rate_notice("999"),
        intake.language_notice("999"),
        intake.apology("999", "your advice line", "the helpline"),
        intake.forget_done("999"),
    ):
        assert "999" in notice


@pytest.mark.parametrize(
    "text, language, finding",
    [
        ("Mon mari ne peut pas respirer", "french", "breathing"),
        ("Mój mąż nie może oddychać", "polish", "breathing"),
        ("Mi esposo no puede respirar", "spanish", "breathing"),
        ("میرا بیٹا بے ہوش ہے", "arabic", "fainting"),  # Urdu, in Arabic script
        ("ਮੇਰੇ ਪਿਤਾ ਨੂੰ ਦੌਰਾ ਪਿਆ", "gurmukhi", "seizure"),  # Punjabi
        ("আমার বাবার শ্বাসকষ্ট হচ্ছে", "bengali", "breathing"),
        ("زوجي لا يستطيع التنفس", "arabic", "breathing"),
        ("il a des CONVULSIONS", "french", "seizure"),
    ],
)
def test_other_languages_and_their_red_flags(text, language, finding):
    guard = default_languages()
    assert guard.language(text) == language
    found = guard.red_flags(text)
    assert finding in {m.finding_id for m in found}
    assert all(text[m.start : m.end] == m.text for m in found)


@pytest.mark.parametrize("text", ["what are the symptoms of crs", "no fever but he cant breathe", "hi", "", "38.5"])
def test_english_is_english(text):
    assert default_languages().language(text) is None


def test_merging_triage_keeps_every_finding_the_higher_level_and_other_fields():
    whole = intake.triage_text("what is crs? " * 300 + "he can't breathe")
    head = intake.triage_text("what is crs? " * 10)
    merged = intake.merge_triage({**head, "concern": None}, {**whole, "concern": "not himself"})
    assert merged["level"] == "emergency" and [f["id"] for f in merged["findings"]] == ["breathing"]
    assert merged["concern"] == "not himself"  # a field of a newer engine is not dropped
    forged = intake.merge_triage(head, {"level": "none", "findings": [{"id": "x", "evil": 1}]})
    assert forged["findings"] == head["findings"]


def test_assess_reads_any_spacing_and_points_into_the_text_as_written():
    from crs.triage import default_engine

    text = "hi\tthere.  my husband can't \t breathe"
    result = intake.assess(default_engine(), text)
    assert result["level"] == "emergency"
    assert all(text[f["start"] : f["end"]] == f["text"] for f in result["findings"])
