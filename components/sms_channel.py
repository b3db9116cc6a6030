"""SMS over Twilio's webhook, at /webhooks/twilio/webhook (issue 5).

Unlike Rasa's built-in Twilio connector: every request must carry a valid X-Twilio-Signature
(403 otherwise, nothing touched); the reply is TwiML in the webhook response (nothing can be
lost to a failed send); replies are cut to fit three segments with MORE for the rest; STOP,
START and HELP are handled; the phone number is never stored or logged, the conversation id is
a keyed hash of it. Settings come from the environment (README: SMS):

  TWILIO_AUTH_TOKEN  checks the signature (required)      SMS_ID_SECRET   keys the hash (required)
  TWILIO_ACCOUNT_SID, TWILIO_NUMBER  shown in logs only    TWILIO_WEBHOOK_URL  public URL Twilio calls
  SMS_STATE_DB  where opt-outs and pending replies are kept (default .rasa/sms.db)

Without the two required settings the channel answers 503 and `make run` says SMS is off.

Hardening (issue 10): a replayed request (a MessageSid already seen) is answered once; the whole
Body is triaged (``components.intake.Intake``: limits, rate, forget me, the apology on any
exception); a red flag from a number that opted out is logged and recorded for the helpline as an
escalation, since Twilio blocks any reply to it.
"""

from __future__ import annotations

import logging
import os
from typing import Any, Awaitable, Callable, Dict
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request

from components import helpline
from components.intake import Intake, texts_of
from crs.content import default_library
from crs.redaction import safe_id
from crs.settings import ROOT
from crs.sms_text import (
    MORE_HINT,
    MORE_PAYLOAD,
    SmsState,
    Turn,
    choice_payload,
    compose,
    conversation_id,
    fit,
    locale_for,
)

logger = logging.getLogger(__name__)

MAX_FORM_BYTES = 64 * 1024  # Twilio's Body is at most 1,600 characters
STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"}
START_WORDS = {"START", "YES", "UNSTOP"}


def twiml(text: str | None) -> Any:
    body = f"<Message>{escape(text)}</Message>" if text else ""
    return response.text(
        f'<?xml version="1.0" encoding="UTF-8"?><Response>{body}</Response>', content_type="application/xml"
    )


class SmsChannel(InputChannel):
    """Twilio SMS webhook with signature checks, TwiML replies and privacy by hashing."""

    @classmethod
    def name(cls) -> str:
        return "twilio"

    @classmethod
    def from_credentials(cls, credentials: Dict[str, Any] | None) -> InputChannel:
        return cls()

    def __init__(self) -> None:
        self.auth_token = os.environ.get("TWILIO_AUTH_TOKEN") or ""
        self.secret = os.environ.get("SMS_ID_SECRET") or ""
        self.public_url = os.environ.get("TWILIO_WEBHOOK_URL") or ""
        self.state = SmsState(os.environ.get("SMS_STATE_DB") or str(ROOT / ".rasa" / "sms.db"))
        self.library = default_library()
        self.intake = Intake("twilio")
        if not self.enabled:
            logger.warning("SMS is off: set TWILIO_AUTH_TOKEN and SMS_ID_SECRET to turn it on.")

    @property
    def enabled(self) -> bool:
        return bool(self.auth_token and self.secret)

    def help_text(self, locale_id: str) -> str:
        locale = self.library.locale(locale_id)
        return (
            f"This is an automated information service about CRS (cytokine release syndrome), not medical advice. "
            f"In an emergency call {locale.emergency_number}. Nurse helpline: {locale.helpline}. "
            "Reply STOP to stop messages."
        )

    @staticmethod
    def _form(request: Request) -> Dict[str, str]:
        """The posted fields, empty ones included (Twilio signs them too)."""
        fields = parse_qs((request.body or b"").decode("utf-8", "replace"), keep_blank_values=True)
        return {key: values[0] for key, values in fields.items()}

    def _signed(self, request: Request, form: Dict[str, str]) -> bool:
        from twilio.request_validator import RequestValidator

        signature = request.headers.get("X-Twilio-Signature", "")
        if not signature:
            return False
        url = self.public_url or request.url
        return RequestValidator(self.auth_token).validate(url, form, signature)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = Blueprint("sms_webhook", __name__)

        @blueprint.route("/", methods=["GET"])
        async def health(_: Request) -> Any:
            return response.json({"status": "ok" if self.enabled else "off"})

        @blueprint.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> Any:
            if not self.enabled:
                return response.text("SMS is not configured", status=503)
            if len(request.body or b"") > MAX_FORM_BYTES:
                return response.text("too large", status=413)
            form = self._form(request)
            if not self._signed(request, form):
                return response.text("forbidden", status=403)
            number = form.get("From") or ""
            if not number:
                return twiml(None)
            message_sid = form.get("MessageSid") or form.get("SmsSid") or ""
            if message_sid and not self.state.first_time(message_sid):
                logger.info("sms replay ignored message=%s", safe_id(message_sid))
                return twiml(None)  # answered once: the first request had the reply
            conversation = conversation_id(number, self.secret)
            locale = locale_for(number, self.library.default_locale)
            body = (form.get("Body") or "").strip()
            keyword = body.upper().strip(" .!")
            if keyword in STOP_WORDS:
                self.state.opt_out(conversation)
                logger.info("sms opt-out conversation=%s", conversation)
                return twiml(None)
            if keyword in START_WORDS and self.state.opted_out(conversation):
                self.state.opt_in(conversation)
                return twiml("You will get replies again. " + self.help_text(locale))
            if self.state.opted_out(conversation):
                triage = await self.intake.triage(body)
                if triage["level"] != "none":  # Twilio blocks replies: the helpline must know
                    ids = sorted({f["id"] for f in triage["findings"] if f.get("assertion") == "present"})
                    self.state.escalate(conversation, triage["level"], ids)
                    logger.warning(
                        "sms escalation opted_out conversation=%s level=%s findings=%s",
                        conversation,
                        triage["level"],
                        ",".join(ids),
                    )
                return twiml(None)  # nothing is sent until START
            if keyword == "HELP":
                return twiml(self.help_text(locale))
            rest, choices = self.state.recall(conversation)
            if keyword == "MORE" and rest:  # the rest of a long message first
                message, remaining = fit(rest)
                self.state.remember(conversation, remaining, choices)
                return twiml(message)
            if not body:
                media = int(form.get("NumMedia") or 0) if (form.get("NumMedia") or "0").isdecimal() else 0
                what = "I can only read text, not pictures or files." if media else "Your message was empty."
                return twiml(
                    f"{what} Please type your question about CRS. In an emergency call "
                    f"{self.library.locale(locale).emergency_number}."
                )
            # MORE with nothing left of the last message: the next passages of the answer (issue 11)
            collector = CollectingOutputChannel()
            await self.intake.handle(
                conversation,
                body,
                locale,
                collector,
                on_new_message,
                on_forget=self.state.forget,
                payload_text=MORE_PAYLOAD if keyword == "MORE" else choice_payload(body, choices),
            )
            turn = Turn.from_messages(collector.messages)
            self._helpline_address(conversation, number, body, collector.messages)
            if not texts_of(collector.messages) and helpline.holder_of(conversation):
                return twiml(None)  # a nurse holds the conversation (issue 12)
            if not texts_of(collector.messages):  # never silent (design.md rule 9)
                place = self.library.locale(locale)
                turn = Turn.from_messages(
                    [{"text": f"Sorry, I can't answer that right now. In an emergency call {place.emergency_number}."}]
                )
            message, remaining = compose(turn)
            self.state.remember(conversation, remaining, turn.choices or choices)
            return twiml(message)

        return blueprint

    @staticmethod
    def _helpline_address(conversation: str, number: str, body: str, messages: list) -> None:
        """Keep the number, sealed, while a nurse may need to reply by SMS (issue 12)."""
        current = helpline.runtime()
        if current is None:
            return
        levels = [
            ((m.get("custom") or {}).get("triage") or {}).get("level")
            for m in messages
            if isinstance(m.get("custom"), dict)
        ]
        level = "emergency" if "emergency" in levels else "urgent" if "urgent" in levels else "none"
        current.keep_sms_address(conversation, number, level, helpline.asks_for_human(body))


__all__ = ["SmsChannel", "MORE_HINT"]
