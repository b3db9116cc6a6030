"""Health of one Rasa server process, and turns that happen once however often they are sent.

``report(app)``: whether this process can take a turn now: the model is loaded, the tracker store
answers a query and the lock store (Redis, in the cluster) answers a ping. The REST channel serves
it at ``GET /webhooks/rest/health`` (200 when healthy, 503 otherwise); the cluster's load balancer takes
a replica out of rotation on a 503 or no answer (scripts/cluster.py), as a Kubernetes readiness
probe would.

``once(...)``: a message the client names with its own ``message_id`` is handled at most once per
conversation: inside the conversation's lock, a message id already in the tracker store gets the
replies stored for it, not a second turn. A client that lost the answer (a replica died after the
turn was stored, a timeout) sends the same message again with the same id, safely.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable, Dict, List, Tuple

from rasa.core.channels.channel import UserMessage
from rasa.shared.core.events import BotUttered, UserUttered

from crs.redaction import safe_id

logger = logging.getLogger(__name__)


async def report(app: Any) -> Tuple[int, Dict[str, Any]]:
    """(HTTP status, body) of this process's health."""
    agent = getattr(getattr(app, "ctx", None), "agent", None)
    checks: Dict[str, str] = {}
    checks["model"] = "ok" if agent is not None and agent.is_ready() else "not loaded"
    if agent is not None:
        checks["tracker_store"] = await _check(_tracker_store_ok, agent.tracker_store)
        ping = getattr(agent.lock_store, "ping", None)
        if ping is not None:
            checks["lock_store"] = await _check(lambda _: ping(), agent.lock_store)
    healthy = all(value == "ok" for value in checks.values())
    return (200 if healthy else 503), {"status": "ok" if healthy else "unavailable", **checks}


async def _check(probe: Callable[[Any], Any], store: Any) -> str:
    try:
        result = await asyncio.wait_for(asyncio.get_running_loop().run_in_executor(None, probe, store), 3)
        return "ok" if result is not False else "failing"
    except Exception as error:  # noqa: BLE001 - the report names the failure, never raises
        return f"failing ({type(error).__name__})"


def _tracker_store_ok(store: Any) -> bool:
    inner = getattr(store, "_tracker_store", store)  # Rasa wraps it in an AwareTrackerStore
    session_scope = getattr(inner, "session_scope", None)
    if session_scope is None:
        return True  # not a SQL store: nothing to ask
    import sqlalchemy as sa

    with session_scope() as session:
        session.execute(sa.text("SELECT 1"))
    return True


def stored_replies(events: List[Any], message_id: str) -> List[Dict[str, Any]] | None:
    """The bot messages stored after the user message ``message_id``; None if it is not stored."""
    replies: List[Dict[str, Any]] | None = None
    for event in events:
        if isinstance(event, UserUttered):
            if replies is not None:
                break
            if event.message_id == message_id:
                replies = []
        elif replies is not None and isinstance(event, BotUttered):
            message = {key: value for key, value in (event.data or {}).items() if value is not None}
            if event.text:
                message["text"] = event.text
            replies.append(message)
    return replies


def once(app: Any, message_id: str, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Callable:
    """``on_new_message`` that runs the turn only if ``message_id`` is not stored yet."""

    async def handle(message: UserMessage) -> Any:
        agent = app.ctx.agent
        if agent is None or not agent.is_ready():
            return await on_new_message(message)
        message.message_id = message_id
        async with agent.lock_store.lock(message.sender_id):
            tracker = await agent.tracker_store.retrieve(message.sender_id)
            replies = stored_replies(list(tracker.events), message_id) if tracker is not None else None
            if replies is not None:
                logger.info("message replayed conversation=%s replies=%d", safe_id(message.sender_id), len(replies))
                for reply in replies:
                    await message.output_channel.send_response(message.sender_id, reply)
                return None
            return await agent.processor.handle_message(message)

    return handle
