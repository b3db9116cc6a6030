"""The intake around every turn, in process with real Rasa objects (no model needed):
an exception anywhere ends in the apology that names the emergency number (design.md rule 9),
with the emergency instruction first when the message carried a red flag."""

from __future__ import annotations

import pytest
from rasa.core.agent import Agent
from rasa.core.channels.channel import CollectingOutputChannel

from components.intake import Intake, merge_triage, triage_text


def texts(collector: CollectingOutputChannel) -> str:
    return "\n".join(m["text"] for m in collector.messages if m.get("text"))


async def broken_dialogue(message):
    raise KeyError("a fault anywhere in the turn")


@pytest.mark.parametrize("channel", ["rest", "widget", "twilio"])
@pytest.mark.parametrize("dialogue", ["silent", "raises"])
async def test_an_exception_or_silence_ends_in_the_apology(channel, dialogue):
    collector = CollectingOutputChannel()
    # an agent without a model answers nothing (Rasa logs "Ignoring message")
    handler = Agent().handle_message if dialogue == "silent" else broken_dialogue
    await Intake(channel).handle("c1", "what is crs", "uk", collector, handler)
    reply = texts(collector)
    assert reply.startswith("Sorry") and "999" in reply and "helpline" in reply.lower()
    assert [m["custom"]["triage"]["level"] for m in collector.messages if m.get("custom")] == ["none"]


async def test_an_exception_with_a_red_flag_gives_the_emergency_instruction_first():
    collector = CollectingOutputChannel()
    filler = "what are the side effects of the treatment? " * 200
    await Intake("widget").handle("c2", filler + "my dad can't breathe", "uk", collector, broken_dialogue)
    reply = texts(collector)
    assert reply.startswith("EMERGENCY: Call 999") and "Sorry" in reply


async def test_the_rate_limit_still_triages():
    intake = Intake("rest")
    intake.rate.burst = 1
    seen = []

    async def dialogue(message):
        seen.append(message.text)
        await message.output_channel.send_text_message(message.sender_id, "an answer")

    await intake.handle("c3", "hello", "uk", CollectingOutputChannel(), dialogue)
    limited = CollectingOutputChannel()
    await intake.handle("c3", "he is having a seizure", "us", limited, dialogue)
    assert seen == ["hello"]
    assert texts(limited).startswith("EMERGENCY: Call 911") and "faster than I can answer" in texts(limited)


async def test_the_dialogue_gets_a_short_copy_and_the_triage_of_the_whole_text():
    got = []

    async def dialogue(message):
        got.append(message)
        await message.output_channel.send_text_message(message.sender_id, "an answer")

    collector = CollectingOutputChannel()
    text = "x " * 3000 + "he cant breathe"
    await Intake("widget").handle("c4", text, "uk", collector, dialogue, metadata=None)
    assert len(got[0].text) <= 2000 and got[0].metadata["crs_full_triage"]["level"] == "emergency"
    assert "checked all of it for danger signs" in texts(collector)


def test_forged_findings_are_not_merged():
    own = triage_text("hello")
    merged = merge_triage(own, {"level": "none", "findings": [{"id": "x", "evil": 1}]})
    assert merged["findings"] == own["findings"]
