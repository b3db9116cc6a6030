"""The chat widget's channel: Rasa's socket.io channel, fixed, plus the widget's files.

Configured in credentials.yml as ``components.widget_channel.WidgetChannel``. Differences from
Rasa 3.6's ``socketio`` channel:

- custom payloads reach the browser as ``{"custom": {...}}`` (Rasa's own output passes the payload
  as keyword arguments of ``emit``, which breaks on any payload that is not ``{"data": ...}``);
- the widget script, its socket.io client and the demo page are served by the Rasa server at
  ``/webhooks/widget/`` (no third-party host at run time);
- the session id is issued by the server and signed (``<random>.<HMAC>`` with
  WIDGET_SESSION_SECRET): a browser can resume its own conversation (the widget keeps the id in
  local storage) but cannot join another one, and a message whose session id is not one the server
  issued is answered with a friendly error; the conversation id is ``widget:<random>``;
- a browser from an origin that is not allowed (CRS_ALLOWED_ORIGINS; the server's own origin
  always is) cannot connect;
- every message goes through ``components.intake.Intake`` (limits, rate, triage of the whole text,
  forget me, the apology on any exception).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import inspect
import logging
import os
import re
import secrets
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint
from sanic import Blueprint, response
from sanic.request import Request
from socketio import AsyncServer

from components.intake import Intake
from crs import intake
from crs.settings import allowed_origins, origin_allowed

logger = logging.getLogger(__name__)

WIDGET_DIR = Path(__file__).resolve().parent.parent / "widget"
CONTENT_TYPES = {".js": "application/javascript", ".html": "text/html", ".css": "text/css", ".png": "image/png"}
MAX_MESSAGE_CHARS = intake.CHANNEL_LIMITS["widget"]
PREFIX = "widget:"
# socket.io frames larger than this are refused (the most a message may carry, with room for JSON)
MAX_FRAME_BYTES = 4 * intake.READ_LIMIT + 4096
_TOKEN = re.compile(r"([A-Za-z0-9_-]{24})\.([A-Za-z0-9_-]{43})")
_ACTIVE: list = []  # the running channel, for messages sent from outside a turn (helpline replies)


def shared_rooms() -> Any:
    """In the cluster (REDIS_HOST set), socket.io rooms are shared through Redis: a message for a
    conversation sent by any replica (a nurse's reply from the helpline console, issue 12) reaches
    the person on the replica their socket is connected to. One server: rooms in this process."""
    host = os.environ.get("REDIS_HOST")
    if not host:
        return None
    from urllib.parse import quote

    from socketio import AsyncRedisManager

    password = os.environ.get("REDIS_PASSWORD")
    auth = f":{quote(password, safe='')}@" if password else ""
    port = os.environ.get("REDIS_PORT") or "6379"
    database = os.environ.get("REDIS_DB") or "1"
    return AsyncRedisManager(f"redis://{auth}{host}:{port}/{database}", channel="crs-widget")


def active_output() -> WidgetOutput | None:
    """The output to every widget room of the running channel (None before it starts)."""
    return _ACTIVE[-1].get_output_channel() if _ACTIVE else None


class SessionIds:
    """Session ids issued by the server: ``<random>.<HMAC-SHA256 of it>``, base64url."""

    def __init__(self, secret: str | None) -> None:
        if not secret:
            logger.warning("WIDGET_SESSION_SECRET is not set: widget sessions will not survive a restart.")
        self.secret = (secret or secrets.token_hex(32)).encode()

    def _sign(self, nonce: str) -> str:
        digest = hmac.new(self.secret, nonce.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def issue(self) -> str:
        nonce = secrets.token_urlsafe(18)
        return f"{nonce}.{self._sign(nonce)}"

    def conversation(self, token: object) -> str | None:
        """The conversation id of a session id the server issued, else None."""
        match = _TOKEN.fullmatch(token) if isinstance(token, str) else None
        if not match or not hmac.compare_digest(match.group(2), self._sign(match.group(1))):
            return None
        return PREFIX + match.group(1)


async def _enter_room(sio: AsyncServer, sid: str, room: str) -> None:
    """python-socketio 5.x made enter_room a coroutine (Rasa 3.6 calls it without awaiting)."""
    result = sio.enter_room(sid, room)
    if inspect.isawaitable(result):
        await result


class WidgetOutput(OutputChannel):
    """Sends bot messages to one conversation's room."""

    @classmethod
    def name(cls) -> str:
        return "widget"

    def __init__(self, sio: AsyncServer, bot_message_evt: str) -> None:
        self.sio = sio
        self.bot_message_evt = bot_message_evt

    async def _send(self, room: str, message: Dict[str, Any]) -> None:
        await self.sio.emit(self.bot_message_evt, message, room=room)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self._send(recipient_id, {"text": text})

    async def send_text_with_buttons(self, recipient_id: str, text: str, buttons: list, **kwargs: Any) -> None:
        quick_replies = [{"title": b["title"], "payload": b["payload"]} for b in buttons]
        await self._send(recipient_id, {"text": text, "quick_replies": quick_replies})

    async def send_custom_json(self, recipient_id: str, json_message: Dict[str, Any], **kwargs: Any) -> None:
        await self._send(recipient_id, {"custom": json_message})

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self._send(recipient_id, {"text": image})

    async def send_attachment(self, recipient_id: str, attachment: Any, **kwargs: Any) -> None:  # type: ignore[override]
        await self._send(recipient_id, {"text": str(attachment)})


class WidgetChannel(InputChannel):
    """socket.io for the chat widget, and the widget's own files."""

    @classmethod
    def name(cls) -> str:
        return "widget"

    @classmethod
    def from_credentials(cls, credentials: Dict[str, Any] | None) -> InputChannel:
        credentials = credentials or {}
        return cls(
            credentials.get("user_message_evt", "user_uttered"),
            credentials.get("bot_message_evt", "bot_uttered"),
            credentials.get("socketio_path", "/socket.io"),
        )

    def __init__(self, user_message_evt: str, bot_message_evt: str, socketio_path: str) -> None:
        self.user_message_evt = user_message_evt
        self.bot_message_evt = bot_message_evt
        self.socketio_path = socketio_path
        self.sio: AsyncServer | None = None
        self.sessions = SessionIds(os.environ.get("WIDGET_SESSION_SECRET"))
        self.origins = allowed_origins()
        self.intake = Intake("widget")

    def get_output_channel(self) -> OutputChannel | None:
        return WidgetOutput(self.sio, self.bot_message_evt) if self.sio else None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        # origins are checked on connect (below), for the websocket transport too; engine.io's own
        # CORS handling is off so that it does not answer for us
        sio = AsyncServer(
            async_mode="sanic",
            cors_allowed_origins=[],
            max_http_buffer_size=MAX_FRAME_BYTES,
            client_manager=shared_rooms(),
        )
        self.sio = sio
        _ACTIVE.append(self)
        blueprint = SocketBlueprint(sio, self.socketio_path, "widget_webhook", __name__)

        @blueprint.route("/", methods=["GET"])
        async def health(_: Request) -> Any:
            return response.json({"status": "ok"})

        @blueprint.route("/<name:path>", methods=["GET"])
        async def static(_: Request, name: str) -> Any:
            path = (WIDGET_DIR / name).resolve()
            if WIDGET_DIR not in path.parents or not path.is_file() or path.suffix not in CONTENT_TYPES:
                return response.text("not found", status=404)
            return await response.file(
                str(path),
                headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
                mime_type=CONTENT_TYPES[path.suffix],
            )

        @sio.on("connect")
        async def connect(sid: str, environ: Dict[str, Any], auth: Any = None) -> bool:
            if not origin_allowed(environ.get("HTTP_ORIGIN"), environ.get("HTTP_HOST"), self.origins):
                logger.warning("widget connection refused: origin not allowed")
                return False
            return True

        @sio.on("session_request")
        async def session_request(sid: str, data: Dict | None) -> None:
            data = data if isinstance(data, dict) else {}
            token = data.get("session_id")
            conversation = self.sessions.conversation(token)
            if conversation is None:  # none yet, or not one we issued: a new conversation
                token = self.sessions.issue()
                conversation = self.sessions.conversation(token)
            await sio.save_session(sid, {"conversation": conversation})
            await _enter_room(sio, sid, conversation)
            await sio.emit("session_confirm", token, room=sid)

        @sio.on(self.user_message_evt)
        async def handle_message(sid: str, data: Any) -> None:
            conversation = self.sessions.conversation(data.get("session_id")) if isinstance(data, dict) else None
            if conversation is None:
                await sio.emit(
                    self.bot_message_evt,
                    {"text": "Sorry, something went wrong with this chat. Please reload the page."},
                    room=sid,
                )
                return
            session = await sio.get_session(sid)
            if session.get("conversation") != conversation:  # a reconnect that skipped session_request
                await sio.save_session(sid, {"conversation": conversation})
                await _enter_room(sio, sid, conversation)
            message = data.get("message")
            text = message if isinstance(message, str) else ""
            metadata = data.get("metadata")
            locale = metadata.get("locale") if isinstance(metadata, dict) else None
            await self.intake.handle(
                conversation,
                text,
                locale if isinstance(locale, str) else None,
                WidgetOutput(sio, self.bot_message_evt),
                on_new_message,
            )

        return blueprint
