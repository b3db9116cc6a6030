"""The chat widget's channel: Rasa's socket.io channel, fixed, plus the widget's files.

Configured in credentials.yml as ``components.widget_channel.WidgetChannel``. Differences from
Rasa 3.6's ``socketio`` channel:

- custom payloads reach the browser as ``{"custom": {...}}`` (Rasa's own output passes the payload
  as keyword arguments of ``emit``, which breaks on any payload that is not ``{"data": ...}``);
- the widget script, its socket.io client and the demo page are served by the Rasa server at
  ``/webhooks/widget/`` (no third-party host at run time);
- conversations persist by session id (the widget keeps it in the browser), and a message that
  arrives without one is answered with a friendly error instead of being dropped.
"""

from __future__ import annotations

import inspect
import json
import logging
import uuid
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint
from sanic import Blueprint, response
from sanic.request import Request
from socketio import AsyncServer

logger = logging.getLogger(__name__)

WIDGET_DIR = Path(__file__).resolve().parent.parent / "widget"
CONTENT_TYPES = {".js": "application/javascript", ".html": "text/html", ".css": "text/css", ".png": "image/png"}
MAX_MESSAGE_CHARS = 2000


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

    def get_output_channel(self) -> OutputChannel | None:
        return WidgetOutput(self.sio, self.bot_message_evt) if self.sio else None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        # cors_allowed_origins=[]: no origin check, so the widget works on any site (it uses the
        # websocket transport, which needs no CORS headers)
        sio = AsyncServer(async_mode="sanic", cors_allowed_origins=[])
        self.sio = sio
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

        @sio.on("session_request")
        async def session_request(sid: str, data: Dict | None) -> None:
            data = data if isinstance(data, dict) else {}
            session_id = str(data.get("session_id") or uuid.uuid4().hex)[:64]
            await _enter_room(sio, sid, session_id)
            await sio.emit("session_confirm", session_id, room=sid)

        @sio.on(self.user_message_evt)
        async def handle_message(sid: str, data: Any) -> None:
            if not isinstance(data, dict) or not data.get("session_id"):
                await sio.emit(
                    self.bot_message_evt,
                    {"text": "Sorry, something went wrong with this chat. Please reload the page."},
                    room=sid,
                )
                return
            session_id = str(data["session_id"])[:64]
            await _enter_room(sio, sid, session_id)
            text = str(data.get("message") or "")[:MAX_MESSAGE_CHARS]
            metadata = data.get("metadata") or {}
            if isinstance(metadata, str):
                try:
                    metadata = json.loads(metadata)
                except ValueError:
                    metadata = {}
            message = UserMessage(
                text,
                WidgetOutput(sio, self.bot_message_evt),
                session_id,
                input_channel=self.name(),
                metadata=metadata if isinstance(metadata, dict) else {},
            )
            await on_new_message(message)

        return blueprint
