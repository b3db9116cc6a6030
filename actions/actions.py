"""Custom actions (Rasa SDK): thin adapters around the Rasa-free content core.

The action server imports this module at start-up; the content library is loaded and validated
then, so the server refuses to start on invalid content (a broken range, a missing source).
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from crs.answers import Answer, Asked, answer
from crs.content import Library, default_library
from crs.dialogue import TOPIC_INTENTS
from crs.redaction import safe_id
from crs.replies import Reply, triage_reply

logger = logging.getLogger(__name__)

LIBRARY: Library = default_library()  # fail fast on invalid content
LIBRARY.ranker()  # and build the passage index now, not on the first question


class ActionAnswerTopic(Action):
    """Answers a question by quoting the passages of the reviewed sources that answer it best.

    The ranking, "not covered" and follow-ups are in the Rasa-free core (``crs.answers``); this
    action reads the tracker (intent, treatments, triage, the slot ``answer_context``) and sends
    one message with the payload of design.md. In an urgent turn the instruction was spoken by the
    Rasa server without a payload; this answer carries the turn's one payload, instruction first.
    """

    def name(self) -> str:
        return "action_answer_topic"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[Dict[str, Any]]:
        started = time.perf_counter()
        result = self.answer_for(tracker)
        reply = result.reply
        dispatcher.utter_message(text=reply.text, buttons=reply.buttons or None, json_message=reply.payload)
        # one structured line per answer, never the message text (issue 13)
        logger.info(
            json.dumps(
                {
                    "event": "answer",
                    "conversation": safe_id(tracker.sender_id),
                    "topic": reply.payload.get("topic"),
                    "coverage": reply.payload.get("coverage"),
                    "quotes": [quote["passage_id"] for quote in reply.payload.get("quotes", [])],
                    "latency_ms": round((time.perf_counter() - started) * 1000, 1),
                },
                separators=(",", ":"),
            )
        )
        # an event that says the answer was given (a failed action leaves none: see TriagePolicy)
        return [SlotSet("answer_failed", False), SlotSet("answer_context", result.context)]

    @staticmethod
    def reply_for(tracker: Tracker) -> Reply:
        return ActionAnswerTopic.answer_for(tracker).reply

    @staticmethod
    def answer_for(tracker: Tracker) -> Answer:
        message = tracker.latest_message or {}
        intent = message.get("original_intent") or (message.get("intent") or {}).get("name")
        triage = message.get("triage")
        locale = LIBRARY.locale(tracker.get_slot("locale"))
        known, unknown = _treatments(message.get("entities") or [])
        text = message.get("text") or ""
        asked = Asked(
            text=text,
            intent=intent,
            topic=TOPIC_INTENTS.get(intent or ""),
            treatments=known,
            unknown_treatment=unknown,
            triage=triage,
            by_button=text.startswith("/"),
        )
        result = answer(LIBRARY, asked, locale, tracker.get_slot("answer_context"))
        if _urgent_this_turn(tracker):
            urgent = triage_reply(LIBRARY, "utter_urgent", locale, triage)
            result.reply = result.reply.after(urgent)
        return result


def _urgent_this_turn(tracker: Tracker) -> bool:
    """Did the Rasa server give the urgent instruction in this turn (its payload left to us)?"""
    for event in reversed(tracker.events or []):
        if event.get("event") == "user":
            return False
        if event.get("event") == "action" and event.get("name") == "utter_urgent":
            return True
    return False


def _treatments(entities: List[Dict[str, Any]]) -> tuple:
    """Known treatments (by id) and the words of an unknown one, from the message's entities."""
    by_id = {treatment.id: treatment for treatment in LIBRARY.treatments}
    known, unknown = [], None
    for entity in entities:
        if entity.get("entity") != "treatment":
            continue
        value = str(entity.get("value") or "")
        if value in by_id and by_id[value] not in known:
            known.append(by_id[value])
        elif value and unknown is None:
            # the classifier's entity: check it is not a known name after all (typo, brand)
            found = LIBRARY.find_treatments(value)
            if found:
                if found[0][0] not in known:
                    known.append(found[0][0])
            else:
                unknown = value
    return known, _clean(unknown)


def _clean(name: str | None) -> str | None:
    if not name:
        return None
    name = " ".join(name.split())[:60]
    return name or None
