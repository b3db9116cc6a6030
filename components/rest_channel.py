"""The REST channel, at /webhooks/rest/webhook, hardened (issue 10).

Replaces Rasa's ``rest`` channel (credentials.yml). Differences:

- the body must be a JSON object with ``sender`` (1 to 64 of ``A-Z a-z 0-9 _ . -``, and not a
  phone number or other identifier), ``message`` (a string) and optionally ``metadata`` (an
  object; only ``locale`` is read) and optionally ``message_id`` (the client's id of this message,
  same characters as ``sender``): anything else is a 400 with a JSON ``error``;
- a message sent again with the same ``message_id`` (a retry after a lost answer) gets the replies
  stored for it, not a second turn (``components.health.once``, issue 13);
- ``GET /webhooks/rest/health`` is the health of this process (``components.health.report``);
- a body over ``MAX_BODY_BYTES`` is a 413 with a JSON ``error`` and the reply (the triage of what
  was read, and a notice naming the emergency number);
- the conversation id is ``rest:<sender>``: REST cannot write into a widget or SMS conversation;
- a browser request from an origin that is not allowed (CRS_ALLOWED_ORIGINS) is a 403;
- ``GET /webhooks/rest/health``: the Rasa server's health (``components.observability``);
- every message goes through ``components.intake.Intake`` (limits, rate, triage of the whole text,
  forget me, the apology on any exception), and a turn is never silent.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any, Awaitable, Callable, Dict

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request

from components import health, helpline, observability, speed
from components.intake import Intake, long_triage_pool, triage_text
from crs import intake
from crs.content import default_library
from crs.settings import allowed_origins, origin_allowed

logger = logging.getLogger(__name__)

PREFIX = "rest:"
SENDER = re.compile(r"[A-Za-z0-9_.-]{1,64}")
LONG_NUMBER = re.compile(
    r"(?<![A-Za-z0-9])\d(?:[._-]?\d){8,}(?![A-Za-z0-9])"
)  # a phone, NHS or card number used as a sender id
MAX_BODY_BYTES = 4 * intake.READ_LIMIT + 4096  # READ_LIMIT characters of UTF-8 with room for the JSON


def error(status: int, message: str, **extra: Any) -> Any:
    return response.json({"error": message, **extra}, status=status)


class RestChannel(InputChannel):
    """POST {"sender": ..., "message": ..., "metadata": {"locale": ...}} -> the bot's messages."""

    @classmethod
    def name(cls) -> str:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: Dict[str, Any] | None) -> InputChannel:
        return cls()

    def __init__(self) -> None:
        self.intake = Intake("rest")
        self.origins = allowed_origins()
        self.library = default_library()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = Blueprint("hardened_rest_webhook", __name__)

        @blueprint.listener("after_server_start")
        async def settle(_: Any, loop: Any) -> None:
            # the model is loaded before the server starts; the console and workers start now
            loop.call_later(speed.FREEZE_AFTER_SECONDS, speed.freeze_startup_objects)

        @blueprint.route("/", methods=["GET"])
        async def alive(_: Request) -> Any:
            return response.json({"status": "ok"})

        @blueprint.route("/health", methods=["GET"])
        async def healthy(request: Request) -> Any:
            # the process's health for the load balancer (issue 13): 503 until the model is loaded,
            # or while the tracker store or the lock store does not answer; with memory and workers
            pool = long_triage_pool()
            workers = getattr(pool, "_processes", None) or {}
            status, body = observability.health(getattr(request.app.ctx, "agent", None), workers.values())
            stores_status, stores = await health.report(request.app)
            if status == 200 and stores_status != 200:
                status, body["status"] = stores_status, stores["status"]
            body.update({key: value for key, value in stores.items() if key != "status"})
            return response.json(body, status=status)

        @blueprint.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> Any:
            if not origin_allowed(request.headers.get("origin"), request.headers.get("host"), self.origins):
                return error(403, "origin not allowed")
            body = request.body or b""
            if len(body) > MAX_BODY_BYTES:
                return await self._too_large(body)
            try:
                data = json.loads(body.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                return error(400, "the body must be a JSON object")
            if not isinstance(data, dict):
                return error(400, "the body must be a JSON object")
            sender, message, metadata = data.get("sender"), data.get("message"), data.get("metadata")
            if not isinstance(sender, str) or not SENDER.fullmatch(sender):
                return error(400, "sender must be a string of 1 to 64 letters, digits, '_', '.' or '-'")
            if LONG_NUMBER.search(sender):
                return error(400, "sender must be an opaque id, not a phone number or other personal data")
            if not isinstance(message, str):
                return error(400, "message must be a string")
            if metadata is not None and not isinstance(metadata, dict):
                return error(400, "metadata must be an object")
            locale = (metadata or {}).get("locale")
            if locale is not None and not isinstance(locale, str):
                return error(400, "metadata.locale must be a string")
            message_id = data.get("message_id")
            if message_id is not None and (not isinstance(message_id, str) or not SENDER.fullmatch(message_id)):
                return error(400, "message_id must be a string of 1 to 64 letters, digits, '_', '.' or '-'")
            handler = health.once(request.app, message_id, on_new_message) if message_id else on_new_message
            collector = CollectingOutputChannel()
            await self.intake.handle(PREFIX + sender, message, locale, collector, handler)
            # never silent (design.md rule 9), except while a nurse holds the conversation (issue 12)
            if not collector.messages and not helpline.holder_of(PREFIX + sender):
                place = self.library.locale(locale)
                collector.messages.append(
                    {
                        "recipient_id": PREFIX + sender,
                        "text": intake.apology(place.emergency_number, place.advice_line, place.helpline),
                    }
                )
            return response.json(collector.messages)

        return blueprint

    async def _too_large(self, body: bytes) -> Any:
        """A body too large to read: the triage of what was read, and a notice."""
        read = body[: intake.READ_LIMIT * 4].decode("utf-8", "ignore")[: intake.READ_LIMIT]
        collector = CollectingOutputChannel()
        place = self.library.locale(None)
        triage = await self.intake.triage(read) if len(read) > self.intake.limit else triage_text(read)
        await self.intake.triage_only(
            collector, "rest", place, triage, intake.long_notice(place.emergency_number, self.intake.limit, False)
        )
        return error(413, f"the body is larger than {MAX_BODY_BYTES} bytes", messages=collector.messages)
