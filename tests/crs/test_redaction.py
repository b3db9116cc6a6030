"""Personal data out of what is stored or logged (issue 10, item 4)."""

from __future__ import annotations

import logging
import os
import stat

import pytest

from crs.redaction import install_log_redaction, owner_only, redact, redact_event, safe_id

IDENTIFIERS = {
    "phone": ["07700 900123", "+44 7700 900123", "(020) 7946 0018", "+1 415-555-0132", "07700900123"],
    "email": ["jo.bloggs+crs@example.co.uk", "a_b@mail.example.com"],
    "NHS number": ["943 476 5919", "9434765919"],
    "postcode": ["SW1A 1AA", "m1 1ae", "B33 8TH", "EC1A1BB"],
    "zip": ["90210", "10001-1234"],
    "date": ["12/03/1985", "1985-03-12", "3rd March 1985", "March 3, 1985", "12.3.85"],
    "card number": ["4111 1111 1111 1111", "4111-1111-1111-1111", "378282246310005"],
}


@pytest.mark.parametrize("kind, value", [(k, v) for k, values in IDENTIFIERS.items() for v in values])
def test_every_kind_of_identifier_is_redacted(kind, value):
    redacted = redact(f"my details: {value} thanks")
    assert value not in redacted and "[" in redacted, redacted
    digits = "".join(c for c in value if c.isdigit())
    assert len(digits) < 5 or digits not in "".join(c for c in redacted if c.isdigit())


@pytest.mark.parametrize("identifier", ["sms-12345a6b7c8d9e0f1a2b3c4d5e6f7a8b", "sms-9876543210abcdef", "rest:12345_x"])
def test_conversation_ids_in_logs_are_kept_whole(identifier):
    # an SMS conversation id is a keyed hash (no phone number in it): one starting with five
    # digits (about 1 in 28) used to lose them to the ZIP pattern, and its log line no longer
    # named the conversation the helpline must find
    assert (
        redact(f"sms escalation conversation={identifier} level=emergency").split()[2] == f"conversation={identifier}"
    )


def test_born_on_is_a_date_of_birth():
    assert redact("he was born on 3 March") == "he was [date of birth]"


@pytest.mark.parametrize(
    "text",
    [
        "temp 38.6 and bp 120/80, pulse 130, sats 91%",
        "he can't breathe and is confused",
        "what are the symptoms of crs after car-t on day 7",
        "she had tocilizumab 8 mg/kg at 10:30",
    ],
)
def test_readings_and_words_are_kept(text):
    assert redact(text) == text


def test_bot_text_keeps_review_dates_but_user_events_lose_everything():
    bot = redact_event({"event": "bot", "text": "This page was last reviewed on 28 Feb 2023. Call 07700 900123"})
    assert "28 Feb 2023" in bot["text"] and "07700" not in bot["text"]
    user = redact_event(
        {
            "event": "user",
            "text": "I'm jo@example.com",
            "parse_data": {"text": "I'm jo@example.com", "entities": [{"value": "jo@example.com"}]},
            "metadata": {"note": "SW1A 1AA"},
        }
    )
    assert "jo@example.com" not in str(user) and "SW1A" not in str(user)


def test_safe_id_has_no_line_breaks_and_is_bounded():
    assert "\n" not in safe_id("abc\nINFO forged line") and len(safe_id("x" * 100_000)) <= 67


def test_log_records_are_redacted_and_one_line(caplog):
    install_log_redaction()
    logger = logging.getLogger("tests.redaction")
    with caplog.at_level(logging.INFO, logger="tests.redaction"):
        logger.info("sender=%s said %s", "abc\nFORGED", "call 07700 900123")
    message = caplog.records[-1].getMessage()
    assert "\n" not in message and "07700" not in message and "[phone]" in message


def test_owner_only(tmp_path):
    path = tmp_path / "sub" / "x.db"
    old = os.umask(0)
    try:
        owner_only(path)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_text_without_a_digit_or_an_at_sign_skips_the_patterns_with_the_same_result():
    """Issue 13: ``redact`` returns such text at once; every pattern needs a digit or an @."""
    import random

    from crs import redaction

    rng = random.Random(13)
    letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ .,-/+()'\n\té£born of march dob sept"
    for _ in range(5000):
        text = "".join(rng.choice(letters) for _ in range(rng.randint(1, 80)))
        for _, pattern in redaction._COMPILED:
            assert not pattern.search(text), text
        assert redaction.redact(text) == text
    assert redaction.redact("born on 3rd March") == "[date of birth]"  # a digit: the patterns run
