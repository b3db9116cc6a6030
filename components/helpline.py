"""The helpline console inside the Rasa server (issue 12): the glue between Rasa and the
Rasa-free core in ``crs/helpline``.

- ``Runtime`` is created by the console channel when the server starts: it runs the console's
  migrations in the tracker store's database, rebuilds the queue from the tracker store, and then
  follows the assistant's new events there (so every replica sees the same queue);
- ``holder_of`` tells the TriagePolicy and the channels whether a nurse holds a conversation;
- ``helpline_turn`` is the TriagePolicy's rule while a nurse holds a conversation: silence, except
  red-flag triage, which never pauses; a request for a nurse is answered by the channel
  (``after_request``: the hours, the emergency number and the 24-hour line);
- ``deliver`` sends what a nurse says (and the claim and resume notices) through the person's own
  channel: the widget live over socket.io, SMS through Twilio's REST API, and records it in the
  tracker as a bot message marked ``helpline``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Dict, List, Tuple

from rasa.shared.core.events import BotUttered

from crs.dialogue import ACTION_LISTEN, ANSWER, Plan, TurnView, turn_level
from crs.helpline.cases import REQUEST_KEY, channel_of, derive
from crs.helpline.hours import current_hours
from crs.helpline.requests import asks_for_human
from crs.helpline.sms import SmsSendError
from crs.helpline.store import HelplineStore, Sealer
from crs.redaction import safe_id

logger = logging.getLogger(__name__)

POLL_SECONDS = 0.5
FULL_SCAN_SECONDS = 300
SCAN_PAGE = 2000
_RUNTIME: List[Runtime] = []

__all__ = ["REQUEST_KEY", "Runtime", "asks_for_human", "helpline_turn", "holder_of", "runtime"]


def runtime() -> Runtime | None:
    return _RUNTIME[-1] if _RUNTIME else None


def holder_of(conversation_id: str) -> str | None:
    """The nurse holding this conversation, if any. A database problem means no one: the
    assistant answers (it is never silenced by an error)."""
    current = runtime()
    if current is None:
        return None
    try:
        return current.store.holder(conversation_id)
    except Exception as error:  # noqa: BLE001
        logger.error("helpline holder unknown conversation=%s error=%s", safe_id(conversation_id), type(error).__name__)
        return None


def helpline_turn(decision: Plan, view: TurnView, conversation_id: str, requested: bool, groups: Any) -> Plan:
    """What the assistant does at the start of a turn while a nurse holds the conversation, or
    when the person asked for a nurse: listen (silence) unless the message is a red flag."""
    if view.actions_this_turn:
        # only the start of a turn is decided here; red-flag turns go on, but the answer that can
        # follow an emergency instruction (crs.dialogue.answer_follows_emergency) is the nurse's
        if decision.action == ANSWER and holder_of(conversation_id):
            return Plan(ACTION_LISTEN, decision.events)
        return decision
    level = turn_level(view, groups)
    if level == "emergency":
        return decision  # red-flag triage never pauses
    if holder_of(conversation_id):
        return Plan(ACTION_LISTEN, decision.events)
    if requested and level == "none" and runtime() is not None:
        return Plan(ACTION_LISTEN, decision.events)  # the channel answers with the helpline notice
    return decision


class Runtime:
    """The console's state in this server process (see the module docstring)."""

    def __init__(self, app: Any, engine: Any) -> None:
        import os

        from crs.content import default_library
        from crs.helpline.sms import TwilioRestSender
        from crs.triage import default_engine

        self.app = app
        self.store = HelplineStore(engine)
        self.library = default_library()
        self.engine = default_engine()
        secret = os.environ.get("SMS_ID_SECRET") or ""
        self.sealer = Sealer(secret) if secret else None
        self.sms = TwilioRestSender.from_environment()
        self.watermark = 0
        self.event_count = 0
        self.full_scan_at = time.monotonic()
        self.version = 0
        self.changed = asyncio.Condition()
        self.last_changed: List[str] = []

    # -- following the tracker store --------------------------------------------------------
    def scan(self) -> List[str]:
        """Recompute the cases of every conversation with new events; their ids.

        New events are those above the newest id seen. When events were deleted ("forget me",
        ``make purge``) SQLite may give their ids again, so a drop in the number of events, and
        every ``FULL_SCAN_SECONDS``, reads everything again (recomputing a case is idempotent).
        """
        newest, count = self.store.event_marks()
        now = time.monotonic()
        if count < self.event_count or newest < self.watermark or now - self.full_scan_at > FULL_SCAN_SECONDS:
            self.watermark = 0
            self.full_scan_at = now
        self.event_count = count
        ids, newest = self._needing_refresh(self.watermark)
        touched = []
        for conversation_id in ids:
            try:
                changed = self.store.refresh(conversation_id)
                if changed or self.store.case(conversation_id):
                    touched.append(conversation_id)
            except Exception as error:  # noqa: BLE001 - one bad conversation must not stop the queue
                logger.error(
                    "helpline case update failed conversation=%s error=%s",
                    safe_id(conversation_id),
                    type(error).__name__,
                )
        self.watermark = newest
        # open cases whose conversation was deleted ("forget me", ``make purge``); one query whose
        # cost does not grow with the number of open cases (issue 13)
        for conversation_id in self.store.vanished_open_cases():
            if self.store.refresh(conversation_id):
                self.store.forget_address(conversation_id)
                touched.append(conversation_id)
        return touched

    def _needing_refresh(self, after_id: int) -> Tuple[List[str], int]:
        """The conversations with events after ``after_id`` whose case must be derived again,
        and the newest event id. A conversation without a case whose new events carry nothing for
        the nurses (no red flag, no request) is left out: the case ``refresh`` would derive from
        all its events is still none (issue 13: under load every conversation changes at every
        poll, and reading each one whole cost a twentieth of the server). The events are read in
        pages, so the full scan does not hold the whole database in memory."""
        needed: Dict[str, None] = {}
        newest = after_id
        while True:
            page = self.store.events_after(newest, SCAN_PAGE)
            if not page:
                break
            newest = page[-1][0]
            added: Dict[str, List[Dict[str, Any]]] = {}
            for _, conversation_id, event in page:
                if conversation_id not in needed:
                    added.setdefault(conversation_id, []).append(event)
            known = self.store.with_cases(list(added))
            for conversation_id, events in added.items():
                if conversation_id in known or derive(conversation_id, events) is not None:
                    needed[conversation_id] = None
            if len(page) < SCAN_PAGE:
                break
        return list(needed), newest

    async def follow(self) -> None:
        """Poll the tracker store for new events and tell the open consoles (server-sent events)."""
        while True:
            try:
                touched = await asyncio.to_thread(self.scan)
                if touched:
                    await self.notify(touched)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - keep following
                logger.error("helpline queue update failed error=%s", type(error).__name__)
            await asyncio.sleep(POLL_SECONDS)

    async def notify(self, conversation_ids: List[str]) -> None:
        async with self.changed:
            self.version += 1
            self.last_changed = list(conversation_ids)
            self.changed.notify_all()

    # -- what the person is told -------------------------------------------------------------
    async def record(self, conversation_id: str, text: str, custom: Dict[str, Any] | None, nurse: str | None) -> None:
        """A bot message said outside the dialogue, added to the conversation's tracker."""
        agent = self.app.ctx.agent
        metadata = {"helpline": True, **({"nurse": nurse} if nurse else {})}
        async with agent.lock_store.lock(conversation_id):
            tracker = await agent.processor.get_tracker(conversation_id)
            tracker.update(BotUttered(text, {"custom": custom} if custom else {}, metadata))
            await agent.processor.save_tracker(tracker)

    async def deliver(self, conversation_id: str, text: str, kind: str, nurse: str | None) -> str:
        """Send a message of the helpline to the person in their channel; how it went."""
        channel = channel_of(conversation_id)
        if channel == "widget":
            from components.widget_channel import active_output

            output = active_output()
            if output is None:
                raise DeliveryError("the chat widget channel is not running")
            await output.send_text_message(conversation_id, text)
        elif channel == "sms":
            sealed = self.store.address(conversation_id)
            if not (self.sms and self.sealer and sealed):
                raise DeliveryError(
                    "this text-message conversation cannot be replied to (SMS not configured, or no number kept)"
                )
            number = self.sealer.open(conversation_id, sealed)
            try:
                await asyncio.to_thread(self.sms.send, number, text)
            except SmsSendError as error:
                raise DeliveryError(str(error)) from error
        elif kind == "nurse_reply":
            raise DeliveryError(f"replies cannot be sent to the {channel} channel")
        await self.record(conversation_id, text, {"helpline": {"kind": kind}}, nurse)
        return channel

    def keep_sms_address(self, conversation_id: str, number: str, level: str, requested: bool) -> None:
        """Keep the number (sealed) while the conversation may need a nurse's reply by SMS."""
        if self.sealer is None:
            return
        try:
            case = self.store.case(conversation_id)
            if level in ("emergency", "urgent") or requested or (case and case["status"] == "open"):
                self.store.keep_address(conversation_id, self.sealer.seal(conversation_id, number))
        except Exception as error:  # noqa: BLE001
            logger.error(
                "sms reply address not kept conversation=%s error=%s", safe_id(conversation_id), type(error).__name__
            )


class DeliveryError(RuntimeError):
    pass


async def after_request(
    conversation_id: str, locale: Any, output: Any, triage: Dict[str, Any] | None, said_payload: bool
) -> None:
    """The answer to "can I talk to a nurse": in hours a nurse will reply here; out of hours when
    the helpline opens, the emergency number and the 24-hour line. The request waits in the queue."""
    current = runtime()
    if current is None:
        return
    text, is_open = current_hours().request_notice(time.time(), locale.emergency_number, locale.advice_line)
    custom = None
    if not said_payload:  # every turn carries the triage payload (design.md)
        custom = {
            "topic": None,
            "triage": triage or {"level": "none", "findings": []},
            "quotes": [],
            "helpline": {"kind": "request", "open": is_open},
        }
    await output.send_text_message(conversation_id, text)
    if custom is not None:
        await output.send_custom_json(conversation_id, custom)
    try:
        await current.record(conversation_id, text, {"helpline": {"kind": "request", "open": is_open}}, None)
    except Exception as error:  # noqa: BLE001
        logger.error(
            "helpline notice not recorded conversation=%s error=%s", safe_id(conversation_id), type(error).__name__
        )
