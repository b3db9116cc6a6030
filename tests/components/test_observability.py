"""The turn log (issue 13): one JSON line per turn with the conversation id, outcome, latency,
level and red-flag rule ids, never the message text; in process with real Rasa objects."""

from __future__ import annotations

import json
import logging

from rasa.core.channels.channel import CollectingOutputChannel

from components.intake import Intake
from components.observability import health

SECRET_WORDS = "zanzibar marmalade"


def turn_lines(caplog) -> list:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "crs.turns"]


async def test_a_turn_is_logged_with_rules_and_latency_but_not_its_text(caplog):
    caplog.set_level(logging.INFO, logger="crs.turns")

    async def dialogue(message):
        triage = {"level": "emergency", "findings": [{"id": "breathing", "text": "can't breathe"}]}
        await message.output_channel.send_text_message(message.sender_id, "EMERGENCY: Call 999 now.")
        await message.output_channel.send_custom_json(message.sender_id, {"topic": None, "triage": triage})

    await Intake("rest").handle(
        "rest:t1", f"{SECRET_WORDS} he can't breathe", "uk", CollectingOutputChannel(), dialogue
    )
    [line] = turn_lines(caplog)
    assert line["event"] == "turn" and line["channel"] == "rest" and line["conversation"] == "rest:t1"
    assert line["outcome"] == "ok" and line["level"] == "emergency" and line["rules"] == ["breathing"]
    assert line["messages"] == 2 and line["latency_ms"] >= 0
    assert all(SECRET_WORDS not in r.getMessage() and "breathe" not in r.getMessage() for r in caplog.records)


async def test_a_failed_turn_and_a_rate_limited_one_are_logged_with_their_outcome(caplog):
    caplog.set_level(logging.INFO, logger="crs.turns")

    async def broken(message):
        raise KeyError("fault")

    intake = Intake("widget")
    await intake.handle("widget:t2", SECRET_WORDS, "uk", CollectingOutputChannel(), broken)
    for _ in range(12):  # past the burst of 8
        await intake.handle("widget:t3", "what is crs", "uk", CollectingOutputChannel(), broken)
    outcomes = [(line["conversation"], line["outcome"]) for line in turn_lines(caplog)]
    assert outcomes[0] == ("widget:t2", "apology")
    assert ("widget:t3", "rate_limited") in outcomes
    assert all(SECRET_WORDS not in r.getMessage() for r in caplog.records)


def test_health_is_503_until_the_model_is_loaded():
    class Agent:
        model_id = "m1"

        def __init__(self, ready):
            self.ready = ready

        def is_ready(self):
            return self.ready

    status, body = health(Agent(False))
    assert status == 503 and body["status"] == "loading"
    status, body = health(Agent(True))
    assert status == 200 and body["status"] == "ok" and body["model_id"] == "m1" and body["rss_mb"] > 0
    assert health(None)[0] == 503
