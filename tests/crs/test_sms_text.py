"""SMS (issue 5): segment counting and cutting without Rasa; the Twilio webhook over HTTP with
requests signed by the real twilio library, against the real Rasa server."""

from __future__ import annotations

import pytest

from crs.content import TOPIC_IDS, default_library
from crs.replies import topic_reply, triage_reply
from crs.sms_text import MORE_HINT, Turn, choice_payload, compose, conversation_id, fit, locale_for, plain, segments
from crs.triage import assess

LIBRARY = default_library()


# -- segments ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("a" * 459, 3),
        ("a" * 460, 4),
        ("€" * 80, 1),
        ("€" * 81, 2),
        ("[" * 80, 1),
        ("[" * 81, 2),
        ("é" * 160, 1),
        ("ä" * 160, 1),
        ("ş" * 70, 1),
        ("ş" * 71, 2),
        ("ş" * 134, 2),
        ("ş" * 135, 3),
        ("🙂" * 35, 1),
        ("🙂" * 36, 2),
        ("", 0),
    ],
)
def test_segment_counting(text, expected):
    assert segments(text) == expected


def test_typographic_punctuation_stays_gsm7():
    assert segments(plain("“It’s – fine…”" + "a" * 140)) == 1


def reply_turn(reply) -> Turn:
    return Turn.from_messages([{"text": reply.text}, {"custom": reply.payload}])


@pytest.mark.parametrize("topic", TOPIC_IDS)
def test_every_answer_fits_three_segments_and_more_continues(topic):
    first, rest = compose(reply_turn(topic_reply(LIBRARY, topic, LIBRARY.locale("uk"))))
    assert segments(first) <= 3
    sent = [first]
    while rest:
        assert first.endswith(MORE_HINT)
        first, rest = fit(rest)
        assert segments(first) <= 3
        sent.append(first)
    assert not sent[-1].endswith(MORE_HINT)

    def flat(text: str) -> str:
        return " ".join(plain(text).replace("- ", " ").replace('"', " ").split())

    whole = flat(" ".join(m.replace(MORE_HINT, "") for m in sent))
    for quote in topic_reply(LIBRARY, topic, LIBRARY.locale("uk")).payload["quotes"]:
        for line in quote["text"].split("\n"):  # nothing is lost between the parts
            assert flat(line) in whole


def test_cut_at_whole_sentences():
    first, rest = compose(reply_turn(topic_reply(LIBRARY, "treatment", LIBRARY.locale("uk"))))
    body = first[: -len(MORE_HINT)].rstrip()
    assert body[-1] in '.:!?")' and rest


def test_emergency_instruction_in_the_first_segment():
    reply = triage_reply(LIBRARY, "utter_emergency", LIBRARY.locale("uk"), assess("he cant breathe").as_dict())
    first, _ = compose(reply_turn(reply))
    assert first.startswith("EMERGENCY: Call 999") and "999" in first[:160]


def test_short_attribution():
    first, _ = compose(reply_turn(topic_reply(LIBRARY, "grading", LIBRARY.locale("uk"))))
    assert "(CRS, UK page, reviewed Jun 2026)" in first


def test_numbered_choices():
    turn = Turn(
        texts=["Pick one"],
        buttons=[{"title": "Symptoms", "payload": "/ask_symptoms"}, {"title": "Causes", "payload": "/ask_causes"}],
    )
    first, _ = compose(turn)
    assert "Reply 1 for Symptoms, 2 for Causes." in first
    assert choice_payload("2", turn.buttons) == "/ask_causes"
    assert choice_payload(" 1. ", turn.buttons) == "/ask_symptoms"
    assert choice_payload("3", turn.buttons) is None and choice_payload("12 cats", turn.buttons) is None


def test_conversation_id_hides_the_number():
    one = conversation_id("+44 7700 900123", "secret")
    assert one == conversation_id("+447700900123", "secret")
    assert one != conversation_id("+447700900123", "other secret")
    assert "7700" not in one and "900123" not in one


def test_locale_from_country_code():
    assert locale_for("+447700900123", "us") == "uk"
    assert locale_for("+12025550123", "uk") == "us"
    assert locale_for("+33612345678", "uk") == "uk"


def test_tell_me_more_is_more_by_sms_not_a_numbered_choice():
    messages = [
        {
            "text": "Here is what the reviewed information says:",
            "buttons": [{"title": "Tell me more", "payload": "/ask_more"}],
        },
        {
            "custom": {
                "quotes": [],
                "display": [{"type": "text", "text": "Here is what the reviewed information says:"}],
            }
        },
    ]
    turn = Turn.from_messages(messages)
    assert turn.more and turn.choices == []
    message, rest = compose(turn)
    assert message.endswith("Reply MORE for more.") and "Reply 1" not in message and not rest
