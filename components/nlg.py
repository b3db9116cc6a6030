"""Response generation in the Rasa server: locale wording, and triage replies from the sources.

Configured in endpoints.yml (``nlg: type: components.nlg.CrsResponseGenerator``). It fills the
locale placeholders of domain responses ({emergency_number}, {helpline}, ...), builds the triage
replies (emergency, urgent, restated emergency, check result) from the Rasa-free core with their
quotes, and makes sure every turn carries the triage payload of design.md.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Any, Dict

from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from components.triage_policy import triage_of
from crs.content import default_library
from crs.dialogue import ANSWER_IF_QUESTION, answer_follows_urgent
from crs.replies import NO_TRIAGE, payload, triage_reply
from crs.triage import default_engine

logger = logging.getLogger(__name__)

TRIAGE_RESPONSES = ("utter_emergency", "utter_urgent", "utter_emergency_restate", "utter_check_result")
# what a domain response says about the question (design.md `coverage`; answers set their own)
COVERAGE: Dict[str, Dict[str, str]] = {}


def _this_turn(tracker: DialogueStateTracker) -> list:
    events = []
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            break
        events.append(event)
    return list(reversed(events))


class CrsResponseGenerator(TemplatedNaturalLanguageGenerator):
    """Domain responses in the reader's locale, with triage replies built from the sources."""

    def __init__(self, endpoint_config: Any = None, domain: Domain | None = None, **kwargs: Any) -> None:
        super().__init__(domain.responses if domain else {})
        self.library = default_library()  # invalid content stops the server

    async def generate(
        self, utter_action: str, tracker: DialogueStateTracker, output_channel: str, **kwargs: Any
    ) -> Dict[str, Any] | None:
        locale = self.library.locale(tracker.get_slot("locale"))
        values = {key: value for key, value in asdict(locale).items() if isinstance(value, str)}
        latest = tracker.latest_message
        triage = triage_of(latest) if latest is not None and latest.text is not None else None
        triage_data = triage.as_dict() if triage else dict(NO_TRIAGE)
        this_turn = _this_turn(tracker)
        if utter_action == "utter_urgent" and answer_follows(tracker):
            # the answer action gives the turn's one payload, this instruction first (issue 11)
            reply = triage_reply(self.library, utter_action, locale, triage_data)
            return {"text": reply.text}
        if utter_action == "utter_service_problem" and _urgent_without_payload(this_turn):
            # the answer could not be given: the urgent payload goes with the apology
            urgent = triage_reply(self.library, "utter_urgent", locale, triage_data)
            message = await super().generate(utter_action, tracker, output_channel, **{**values, **kwargs})
            text = (message or {}).get("text") or ""
            custom = dict(urgent.payload)
            custom["display"] = list(custom.get("display") or []) + [{"type": "text", "text": text}]
            return {**(message or {}), "text": text, "custom": custom}
        if utter_action in TRIAGE_RESPONSES:
            try:
                reply = triage_reply(
                    self.library,
                    utter_action,
                    locale,
                    triage_data,
                    slots={name: tracker.get_slot(name) for name in ("red_flags", "symptoms", "check_symptoms")},
                    urgent_already=any(
                        isinstance(e, BotUttered) and (e.data or {}).get("custom", {}).get("triage_reply") == "urgent"
                        for e in this_turn
                    ),
                )
                return {"text": reply.text, "custom": reply.payload}
            except Exception:  # never lose a triage reply: fall back to the domain wording
                logger.exception("triage reply %s could not be built; using the domain response", utter_action)
        message = await super().generate(utter_action, tracker, output_channel, **{**values, **kwargs})
        if message is not None and any(
            isinstance(e, BotUttered) and e.text and e.text == message.get("text") for e in this_turn
        ):
            return None  # never the same message twice in a turn (issue 11)
        if message is not None and "custom" not in message:
            already = any(isinstance(e, BotUttered) and (e.data or {}).get("custom") for e in this_turn)
            if not already:  # every turn carries the triage result (design.md)
                message["custom"] = payload(None, triage_data, [], **COVERAGE.get(utter_action, {}))
        return message


def answer_follows(tracker: DialogueStateTracker) -> bool:
    """Will the answer action follow the urgent instruction in this turn (crs.dialogue)?"""
    latest = tracker.latest_message
    parse = (latest.parse_data or {}) if latest is not None else {}
    original = parse.get("original_intent") or (latest.intent_name if latest is not None else None)
    text = (latest.text or "") if latest is not None else ""
    if tracker.active_loop_name is not None:
        return False
    # as the triage policy reads the message (the engine's reading only when the intent needs it)
    asking = default_engine().asking(text).spans if original in ANSWER_IF_QUESTION else ()
    return answer_follows_urgent(original, text, asking)


def _urgent_without_payload(this_turn: list) -> bool:
    uttered = [e for e in this_turn if isinstance(e, BotUttered)]
    urgent = any(isinstance(e, ActionExecuted) and e.action_name == "utter_urgent" for e in this_turn)
    return urgent and not any((e.data or {}).get("custom") for e in uttered)
