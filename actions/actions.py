"""Custom actions (Rasa SDK): thin adapters around the Rasa-free content core.

The action server imports this module at start-up; the content library is loaded and validated
then, so the server refuses to start on invalid content (a broken range, a missing source).
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from crs.content import Library, default_library
from crs.dialogue import TOPIC_INTENTS
from crs.replies import Reply, topic_reply, treatment_reply, unknown_treatment_reply

logger = logging.getLogger(__name__)

LIBRARY: Library = default_library()  # fail fast on invalid content

# A drug question that is not about a drug the sources name falls back to this topic.
INTENTS_ABOUT_TREATMENTS = {"ask_about_drug", "ask_causes", "ask_risk_factors"}


class ActionAnswerTopic(Action):
    """Answers a topic or drug question by quoting the reviewed sources verbatim.

    The topic comes from the intent (the classifier's guess where a triage intent replaced it);
    a named treatment gets the passages that name it; a drug the sources do not name gets an
    honest "not mentioned", never a "no". The reply carries the payload of design.md.
    """

    def name(self) -> str:
        return "action_answer_topic"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[Dict[str, Any]]:
        reply = self.reply_for(tracker)
        dispatcher.utter_message(text=reply.text, json_message=reply.payload)
        logger.info(
            "answered conversation=%s topic=%s quotes=%s",
            tracker.sender_id,
            reply.payload.get("topic"),
            [quote["passage_id"] for quote in reply.payload.get("quotes", [])],
        )
        # an event that says the answer was given (a failed action leaves none: see TriagePolicy)
        return [SlotSet("answer_failed", False)]

    @staticmethod
    def reply_for(tracker: Tracker) -> Reply:
        message = tracker.latest_message or {}
        intent = message.get("original_intent") or (message.get("intent") or {}).get("name")
        triage = message.get("triage")
        locale = LIBRARY.locale(tracker.get_slot("locale"))
        known, unknown = _treatments(message.get("entities") or [])
        if intent in INTENTS_ABOUT_TREATMENTS and known:
            return treatment_reply(LIBRARY, known, locale, triage)
        if intent == "ask_about_drug":
            return unknown_treatment_reply(LIBRARY, unknown, locale, triage)
        topic = TOPIC_INTENTS.get(intent or "", "when_to_get_help")
        return topic_reply(LIBRARY, topic, locale, triage)


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
