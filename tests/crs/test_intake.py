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


def _fold_verbatim(text):
    """crs.languages._fold before its ASCII shortcut (issue 13), verbatim."""
    import unicodedata

    from crs.languages import _latin

    folded, origin = [], []
    for index, char in enumerate(text):
        decomposed = unicodedata.normalize("NFD", char.lower())
        base = (
            "".join(c for c in decomposed if not unicodedata.combining(c)) if char.isascii() or _latin(char) else char
        )
        base = {"ł": "l", "’": "'", "‘": "'"}.get(base, base)
        for c in base:
            folded.append(c)
            origin.append(index)
    return "".join(folded), origin


def _red_flags_verbatim(guard, text):
    from crs.languages import Match

    if not text:
        return []
    folded, origin = _fold_verbatim(text)
    found = []
    for language, finding_id, pattern in guard.patterns:
        for match in pattern.finditer(folded):
            start = origin[match.start()]
            end = origin[match.end() - 1] + 1
            found.append(Match(finding_id, start, end, language, text[start:end]))
    return found


def _language_verbatim(guard, text):
    from crs.languages import _WORD

    letters = [c for c in text if c.isalpha()]
    if not letters:
        return None
    for name, script in guard.scripts.items():
        if sum(1 for c in letters if script.match(c)) > len(letters) * 0.3:
            return name
    words = [w for w in _WORD.findall(_fold_verbatim(text)[0])]
    if not words:
        return None
    counts = {lang: sum(1 for w in words if w in markers) for lang, markers in guard.markers.items()}
    english = counts.pop("english", 0)
    if not counts:
        return None
    best = max(counts, key=lambda lang: counts[lang])
    if counts[best] >= 2 and counts[best] > english:
        return best
    flagged = [m.language for m in _red_flags_verbatim(guard, text)]
    return flagged[0] if flagged and english < 2 else None


def test_other_languages_shortcuts_give_the_same_results():
    """Issue 13: ASCII text folded at once, scripts and non-ASCII phrases skipped for it, one
    search for any red-flag phrase first: the same language and the same matches as before."""
    import random

    import yaml

    from crs.languages import LANGUAGES_PATH, _fold

    guard = default_languages()
    rules = yaml.safe_load(LANGUAGES_PATH.read_text(encoding="utf-8"))
    phrases = [str(p) for findings in rules["red_flags"].values() for ps in findings.values() for p in ps]
    markers = [str(w) for words in rules["markers"].values() for w in words]
    pieces = phrases + markers + ["my dad", "has a", "fever", "I can't", "é", "ł", "’", "Ω", "ж", "  ", ".", "7", "\n"]
    rng = random.Random(13)
    matched = other = 0
    for _ in range(3000):
        words = [rng.choice(pieces) for _ in range(rng.randint(0, 8))]
        if rng.random() < 0.3:
            words = [w.upper() if rng.random() < 0.5 else w for w in words]
        text = " ".join(words)
        assert _fold(text) == _fold_verbatim(text)
        found = guard.red_flags(text)
        assert found == _red_flags_verbatim(guard, text), text
        language = guard.language(text)
        assert language == _language_verbatim(guard, text), text
        matched += bool(found)
        other += language is not None
    assert matched > 500 and other > 500  # the comparison covers real matches
