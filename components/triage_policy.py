"""The TriagePolicy: the triage flows of design.md, enforced in the Rasa server.

A thin adapter: it turns the tracker into a ``TurnView`` and asks ``crs.dialogue.plan``.
Its predictions have the highest priority and count as "no user" predictions, so they win over
the RulePolicy even while the yes/no check (a form) is active. It reads the triage from the
parse data of the NLU component, and runs the same engine on the text where a message carries
none (a message injected with its intent, or a conversation test), so the check can never be
skipped. It also bounds how long an answer may wait for the action server.
"""

from __future__ import annotations

import logging
import os
from typing import Any, Dict, List

import rasa.core.actions.action as rasa_actions
from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.shared.core.constants import ACTION_LISTEN_NAME, REQUESTED_SLOT
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActionExecutionRejected, SlotSet, UserUttered
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

from components import speed
from components.helpline import REQUEST_KEY, helpline_turn
from crs.dialogue import ANSWER as ANSWER_ACTION
from crs.dialogue import TurnView, check_groups, plan, red_flag_ids
from crs.triage import Finding, Triage, default_engine
from crs.triage.engine import NOT_ASKING

logger = logging.getLogger(__name__)

ACTION_TIMEOUT_ENV = "CRS_ACTION_TIMEOUT"
DEFAULT_ACTION_TIMEOUT = 10.0


def limit_action_server_wait() -> float:
    """Rasa 3.6 waits up to 5 minutes for a custom action (a constant, not a setting). A slow
    action server must not hold back an answer that long: after this many seconds the action
    counts as failed and the user gets the apology naming the emergency number."""
    seconds = float(os.environ.get(ACTION_TIMEOUT_ENV) or DEFAULT_ACTION_TIMEOUT)
    rasa_actions.DEFAULT_REQUEST_TIMEOUT = seconds
    return seconds


def triage_of(event: UserUttered) -> Triage:
    data = (event.parse_data or {}).get("triage")
    if data is not None:
        findings = tuple(Finding(**finding) for finding in data["findings"])
        return Triage(data["level"], findings, data.get("concern"))
    return default_engine().assess(event.text or "")


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True)
class TriagePolicy(Policy):
    """Enforces the red-flag triage flows with the highest priority (see module docstring)."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {"priority": 7}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.engine = default_engine()
        self.groups = check_groups(self.engine.rules)
        self.red_flag_ids = red_flag_ids(self.engine.rules)
        limit_action_server_wait()
        speed.install()  # per-turn costs of Rasa itself (issue 13)

    def train(self, training_trackers: List[TrackerWithCachedStates], domain: Domain, **kwargs: Any) -> Resource:
        with self._model_storage.write_to(self._resource):
            pass  # nothing to learn: the rules are data
        return self._resource

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: Dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        probabilities = self._default_predictions(domain)
        view = self._view(tracker, domain)
        if view is None:
            return self._prediction(probabilities)
        decision = plan(view, self.groups, self.red_flag_ids)
        # issue 12: silent while a nurse holds the conversation, except red-flag triage
        requested = bool((tracker.latest_message.metadata or {}).get(REQUEST_KEY)) if tracker.latest_message else False
        decision = helpline_turn(decision, view, tracker.sender_id, requested, self.groups)
        slot_names = {slot.name for slot in domain.slots}
        events = [
            SlotSet(name, value)
            for name, value in decision.events.items()
            if name in slot_names and tracker.get_slot(name) != value
        ]
        if decision.action is None or decision.action not in domain.action_names_or_texts:
            return self._prediction(probabilities, events=events)
        probabilities[domain.index_for_action(decision.action)] = 1.0
        return self._prediction(probabilities, events=events, is_no_user_prediction=True)

    def _view(self, tracker: DialogueStateTracker, domain: Domain) -> TurnView | None:
        latest: UserUttered | None = None
        earlier: List[UserUttered] = []
        since_user: List[Any] = []
        last_action: str | None = None  # the assistant's last action before the latest message
        before_latest: str | None = None
        for event in tracker.events:
            if isinstance(event, UserUttered):
                if latest is not None:
                    earlier.append(latest)
                latest = event
                since_user = []
                before_latest = last_action
            else:
                since_user.append(event)
                if isinstance(event, ActionExecuted) and event.action_name not in (None, ACTION_LISTEN_NAME):
                    last_action = event.action_name
        if latest is None:
            return None
        actions = [
            e.action_name
            for e in since_user
            if isinstance(e, ActionExecuted) and e.action_name and e.action_name != ACTION_LISTEN_NAME
        ]
        if (
            since_user
            and isinstance(since_user[-1], ActionExecuted)
            and since_user[-1].action_name == ACTION_LISTEN_NAME
        ):
            return None  # waiting for the user: nothing to decide
        answers = [e.get("value") for e in latest.entities or [] if e.get("entity") == "check_answer"]
        text = latest.text or ""
        metadata = latest.metadata or {}
        slots = {
            name: tracker.get_slot(name)
            for name in ("red_flags", "symptoms", "triage_level", "locale", "answer_failed")
        }
        asking = self.engine.asking(text) if tracker.active_loop_name is None else NOT_ASKING
        return TurnView(
            triage=triage_of(latest),
            intent=latest.intent_name,
            original_intent=(latest.parse_data or {}).get("original_intent") or latest.intent_name,
            check_answer=answers[0]
            if answers
            else (self.engine.answer(text) if text and not text.startswith("/") else None),
            active_loop=tracker.active_loop_name,
            requested_slot=tracker.get_slot(REQUESTED_SLOT),
            actions_this_turn=actions,
            loop_rejected_this_turn=any(isinstance(e, ActionExecutionRejected) for e in since_user),
            loop_rejected=tracker.is_active_loop_rejected,
            bot_uttered_this_turn=self._answered(since_user),
            custom_actions=frozenset(
                name for name in domain.user_actions if name.startswith("action_") and name not in domain.form_names
            ),
            earlier_triage=[triage_of(event) for event in earlier],
            slots=slots,
            locale_hint=str(metadata.get("locale") or "").lower() or None,
            emergency_outstanding=self._emergency_outstanding(tracker),
            stop_requested=self.engine.is_stop(text),
            text=text,
            after_answer=before_latest == ANSWER_ACTION,
            asking=asking.spans,
            asks_plainly=asking.plainly,
            questions=asking.questions,
        )

    @staticmethod
    def _answered(since_user: List[Any]) -> bool:
        """Did the latest action do anything? A custom action that failed leaves nothing after
        its ActionExecuted event (Rasa drops its events); ours always utter and set
        `answer_failed: false`, which conversation tests state as a slot event."""
        # only what came after the latest action counts: an urgent instruction said before a failed
        # answer is not the answer (issue 11: the apology must still come)
        return not since_user or not isinstance(since_user[-1], ActionExecuted)

    @staticmethod
    def _emergency_outstanding(tracker: DialogueStateTracker) -> bool:
        """An emergency instruction was given and has not been restated since."""
        outstanding = False
        for event in tracker.events:
            if isinstance(event, ActionExecuted) and event.action_name == "utter_emergency":
                outstanding = True
            elif isinstance(event, ActionExecuted) and event.action_name == "utter_emergency_restate":
                outstanding = False
        return outstanding
