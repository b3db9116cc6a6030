"""End to end over HTTP: the real action server and Rasa server, the REST channel.

Checks every topic, the quotes (verbatim in their source file, no gap), triage in every turn,
the emergency and urgent replies, no silent cancel, bad input, and what happens with the action
server stopped (design.md rule 9). The last tests stop and restart the action server.
"""

from __future__ import annotations

import uuid

import pytest

from crs.content import TOPIC_IDS, default_library
from tests.conftest import payloads, texts
from tests.quote_checks import assert_quote_is_verbatim_and_intact

pytestmark = pytest.mark.rasa

LIBRARY = default_library()
QUESTIONS = {
    "about_crs": "what is cytokine release syndrome",
    "symptoms": "what are the symptoms of crs",
    "causes": "what causes crs",
    "risk_factors": "who is more at risk of getting crs",
    "grading": "what are the grades of crs",
    "when_to_get_help": "when should i call the doctor about crs",
    "prevention": "can crs be prevented",
    "treatment": "how do they treat crs",
    "diagnosis": "how do doctors diagnose crs",
    "outlook": "will i recover from crs",
    "recurrence": "can crs happen again with my next dose",
}


def sender() -> str:
    return f"test-{uuid.uuid4().hex[:10]}x"  # never an all-digit id, which REST refuses as personal data


def check_quotes(messages):
    found = [q for p in payloads(messages) for q in p.get("quotes", [])]
    for quote in found:
        assert_quote_is_verbatim_and_intact(LIBRARY, quote)
    return found


@pytest.mark.parametrize("topic", TOPIC_IDS)
def test_every_topic_by_button_payload(servers, topic):
    intent = next(
        i for i, t in {**{f"ask_{t}": t for t in TOPIC_IDS}, "ask_about_crs": "about_crs"}.items() if t == topic
    )
    messages = servers.say(sender(), f"/{intent}")
    answer = [p for p in payloads(messages) if p.get("topic") == topic]
    assert answer, messages
    quotes = check_quotes(messages)
    assert quotes
    for quote in quotes:
        assert quote["text"].split("\n")[0][:60] in texts(messages)


@pytest.mark.parametrize("topic, question", sorted(QUESTIONS.items()))
def test_every_topic_by_a_question(servers, topic, question):
    messages = servers.say(sender(), question)
    topics = [p.get("topic") for p in payloads(messages)]
    assert topic in topics, (question, topics, texts(messages)[:300])
    assert check_quotes(messages)


def test_every_turn_carries_the_triage_payload(servers):
    conversation = sender()
    for text in ("hello", "what is crs", "are you a bot?", "what's the weather like", "thanks"):
        messages = servers.say(conversation, text)
        assert messages, text
        triage = [p["triage"] for p in payloads(messages) if "triage" in p]
        assert triage and triage[0]["level"] == "none", (text, messages)


def test_greeting_notice(servers):
    reply = texts(servers.say(sender(), "hi"))
    assert "not medical advice" in reply and "999" in reply


def test_out_of_scope_and_bot(servers):
    pizza = servers.say(sender(), "can you recommend a good pizza place")
    assert "I can only help with information about CRS" in texts(pizza) or "does not cover" in texts(pizza)
    assert payloads(pizza)[0]["coverage"] == "not_covered"
    assert "automated assistant" in texts(servers.say(sender(), "am i talking to a real person?"))


def test_low_confidence_offers_the_topics(servers):
    messages = servers.say(sender(), "blorp zing wibble")
    buttons = [b for m in messages for b in m.get("buttons", [])]
    assert len(buttons) >= 11 and "999" in texts(messages)


def test_drug_questions(servers):
    rituximab = servers.say(sender(), "Does rituximab cause CRS?")
    assert "rituximab (Rituxan)" in texts(rituximab)
    check_quotes(rituximab)
    unknown = servers.say(sender(), "is crs a side effect of keytruda?")
    reply = texts(unknown)
    assert "does not mention" in reply and "treatment team" in reply


def test_emergency_reply(servers):
    messages = servers.say(sender(), "my husband cant breathe properly")
    reply = texts(messages)
    first = next(m["text"] for m in messages if m.get("text"))
    assert first.startswith("EMERGENCY: Call 999")
    assert reply.index("999") < reply.index("helpline")
    assert "911" not in reply
    payload = next(p for p in payloads(messages) if p.get("triage"))
    assert payload["triage"]["level"] == "emergency" and payload["topic"] is None
    assert payload["triage"]["findings"][0]["id"] == "breathing"
    assert any("difficulty breathing or rapid breathing" in q["text"] for q in check_quotes(messages))


def test_emergency_in_the_us(servers):
    messages = servers.say(sender(), "my wife is having a seizure", locale="us")
    first = next(m["text"] for m in messages if m.get("text"))
    assert first.startswith("EMERGENCY: Call 911")
    assert "Call 911 or seek emergency care" in texts(messages)


def test_no_silent_cancel(servers):
    conversation = sender()
    servers.say(conversation, "he's not making sense and keeps nodding off")
    restated = texts(servers.say(conversation, "no I'm fine, ignore that"))
    assert "999" in restated and "confirm" in restated
    assert "999" in texts(servers.say(conversation, "ok"))  # acknowledged, instruction repeated once more
    tracker = servers.tracker(f"rest:{conversation}")
    assert tracker["slots"]["red_flags"]["confusion"] == "present"
    assert tracker["slots"]["triage_level"] == "emergency"


def test_urgent_symptom_comes_first_then_the_conversation_goes_on(servers):
    messages = servers.say(sender(), "my wife has a temp of 38.6, what is CRS exactly")
    reply = texts(messages)
    assert reply.startswith("Contact your treatment team's 24-hour advice line now")
    assert all(p["triage"]["level"] == "urgent" for p in payloads(messages) if p.get("triage"))
    # then the question asked is answered, or (when the classifier reads a symptom report)
    # the yes/no check rules out the danger signs
    topics = [p.get("topic") for p in payloads(messages)]
    assert "about_crs" in topics or "hard to breathe" in reply


def test_the_yes_no_check_by_sms_style_answers(servers):
    conversation = sender()
    assert "breathe" in texts(servers.say(conversation, "is this an emergency?"))
    assert "confused" in texts(servers.say(conversation, "N"))
    assert "heart" in texts(servers.say(conversation, "nope"))
    reply = texts(servers.say(conversation, "Y"))
    assert reply.startswith("EMERGENCY: Call 999")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "🙂🙂🙂",
        "<img src=x onerror=alert(1)>",
        "<script>alert('x')</script>",
        "a" * 5000,
        "呼吸困难，怎么办",
        "Ich habe Fieber",
        "'; DROP TABLE events; --",
    ],
)
def test_bad_input_gets_a_reply(servers, text):
    messages = servers.say(sender(), text)
    assert messages and texts(messages).strip()


def test_with_the_action_server_stopped(servers):
    servers.stop_actions()
    try:
        question = texts(servers.say(sender(), "what are the symptoms of crs"))
        assert "999" in question and "helpline" in question and "Sorry" in question
        emergency = servers.say(sender(), "my dad collapsed and wont wake up")
        assert next(m["text"] for m in emergency if m.get("text")).startswith("EMERGENCY: Call 999")
        assert any(p["triage"]["level"] == "emergency" for p in payloads(emergency))
        urgent = texts(servers.say(sender(), "she has a temperature of 38.5"))
        assert urgent.startswith("Contact your treatment team's 24-hour advice line now")
    finally:
        servers.start_actions()
    assert payloads(servers.say(sender(), "what is crs"))[0]["topic"] == "about_crs"


def test_a_change_in_someone_gets_the_check_or_the_emergency_instruction(servers):
    """Issue 9, the safety net: a state described without a sign is never answered with information."""
    messages = servers.say(sender(), "my husband has come over all peculiar this evening")
    text = texts(messages)
    assert text.startswith("EMERGENCY: Call 999") or "hard to breathe" in text, text
    assert len(payloads(messages)) == 1


def test_a_question_told_with_someones_state_is_answered_then_checked(servers):
    """Issue 11 with issue 9: a state described with a question of its own gets the answer first,
    then the yes/no check all the same (one payload, the answer's); the check goes on after it."""
    conversation = sender()
    # a state the rules read as a change in someone, with no sign (the learned detector now takes
    # "come over all peculiar" for a sign and gives the emergency instruction: over-triage, allowed)
    messages = servers.say(conversation, "Dad is not his usual self tonight. What is CRS?")
    answer = payloads(messages)
    assert len(answer) == 1 and answer[0]["coverage"] == "answered" and answer[0]["quotes"], messages
    assert answer[0]["triage"]["level"] == "none"
    last = [m["text"] for m in messages if m.get("text")][-1]
    assert "hard to breathe" in last and last.endswith("(YES / NO / NOT SURE)"), messages
    following = texts(servers.say(conversation, "no"))
    assert following.endswith("(YES / NO / NOT SURE)") and "confused" in following, following


def test_a_high_fever_reading_is_an_emergency(servers):
    """Issue 9: a high fever from 39.0 C (awaiting the clinical reviewer); 38.5 stays urgent."""
    messages = servers.say(sender(), "her temperature is thirty nine point four")
    assert texts(messages).startswith("EMERGENCY: Call 999")
    assert payloads(messages)[0]["triage"]["findings"][0]["id"] == "high_fever"


# -- issue 11: answers that answer the question ------------------------------------------------


def test_exactly_one_payload_per_turn(servers):
    conversation = sender()
    for text in (
        "what is crs",
        "my wife has a temp of 38.6, what is CRS exactly",
        "I have a fever, does keytruda cause crs?",
        "blorp zing wibble",
        "tell me more",
        "is it safe to drink alcohol after car t",
        "hello",
        "Pt asking whether rigors are a CRS feature",  # urgent, then the reported question's reply
    ):
        messages = servers.say(conversation, text)
        assert len(payloads(messages)) == 1, (text, payloads(messages))
        said = [m["text"] for m in messages if m.get("text")]
        assert len(said) == len(set(said)), (text, said)  # never the same message twice


def test_urgent_turn_instruction_first_then_the_answer_in_one_payload(servers):
    messages = servers.say(sender(), "my wife has a temp of 38.6, what is CRS exactly")
    [payload] = payloads(messages)
    assert texts(messages).startswith("Contact your treatment team's 24-hour advice line now")
    assert payload["triage"]["level"] == "urgent" and payload["instruction"]["level"] == "urgent"
    assert payload["display"][0]["text"].startswith("Contact your treatment team's 24-hour advice line now")
    if payload.get("coverage"):  # the question was answered after the instruction
        assert payload["topic"] == "about_crs" and payload["coverage"] == "answered"
        roles = [quote["role"] for quote in payload["quotes"]]
        assert roles.index("answer") > max(i for i, role in enumerate(roles) if role == "triage")
    check_quotes(messages)


def test_short_answer_then_tell_me_more(servers):
    conversation = sender()
    first = servers.say(conversation, "how is crs treated")
    [payload] = payloads(first)
    assert payload["coverage"] == "answered" and 1 <= len(payload["quotes"]) <= 3
    assert len(texts(first).split()) <= 160
    assert any(b["payload"] == "/ask_more" for m in first for b in m.get("buttons", []))
    more = servers.say(conversation, "/ask_more")
    [next_payload] = payloads(more)
    shown = {quote["passage_id"] for quote in payload["quotes"]}
    assert next_payload["quotes"] and not shown & {quote["passage_id"] for quote in next_payload["quotes"]}
    check_quotes(more)


def test_follow_up_is_read_with_the_last_answer(servers):
    conversation = sender()
    servers.say(conversation, "who is at risk of crs")
    messages = servers.say(conversation, "what about children?")
    quotes = [quote["text"] for quote in payloads(messages)[0]["quotes"]]
    assert any("Children may be at higher risk" in quote for quote in quotes[:2]), quotes


@pytest.mark.parametrize("text", ["is it safe to drink alcohol after car t", "how much does car t therapy cost"])
def test_honest_not_covered(servers, text):
    messages = servers.say(sender(), text)
    [payload] = payloads(messages)
    assert payload["coverage"] == "not_covered" and payload["quotes"] == [], texts(messages)
    assert "does not cover" in texts(messages) and "helpline" in texts(messages)


def test_urgent_with_the_action_server_stopped_still_one_payload(servers):
    servers.stop_actions()
    try:
        messages = servers.say(sender(), "i feel shivery, what are the grades of crs")
        assert texts(messages).startswith("Contact your treatment team's 24-hour advice line now")
        [payload] = payloads(messages)
        assert payload["triage"]["level"] == "urgent" and payload["instruction"]["level"] == "urgent"
        if "Sorry" in texts(messages):  # the answer could not be given: the apology goes in the one payload
            apology = payload["display"][-1]
            assert apology["type"] == "text" and "Sorry" in apology["text"] and "999" in apology["text"]
    finally:
        servers.start_actions()
