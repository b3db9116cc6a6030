"""Which conversations belong in the nurses' queue, and in which order (pure functions of the
assistant's own events, as the tracker store holds them).

A conversation enters the queue when a message of the person reached ``emergency`` or ``urgent``
(the red-flag check, or a yes to a question of the yes/no check), or when the person asked for a
human (message metadata ``crs_helpline_request``, set by the channel intake). Only events after
the case was last resolved count, so a resolved case comes back with its next finding.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Iterable, List

REQUEST_KEY = "crs_helpline_request"
RANK = {"emergency": 0, "urgent": 1, "request": 2}
CHANNELS = {"widget:": "widget", "rest:": "rest", "sms-": "sms"}


def channel_of(conversation_id: str, events: Iterable[Dict[str, Any]] = ()) -> str:
    for prefix, name in CHANNELS.items():
        if conversation_id.startswith(prefix):
            return name
    for event in events:
        if event.get("event") == "user" and event.get("input_channel"):
            return str(event["input_channel"])
    return "other"


def user_level(event: Dict[str, Any]) -> str:
    triage = (event.get("parse_data") or {}).get("triage") or {}
    return triage.get("level") or "none"


def asked_for_human(event: Dict[str, Any]) -> bool:
    return bool((event.get("metadata") or {}).get(REQUEST_KEY))


@dataclass
class Derived:
    """The queue facts of one conversation since it was last resolved."""

    level: str  # emergency | urgent | request
    requested: bool
    first_finding_at: float
    last_event_at: float
    channel: str


def derive(conversation_id: str, events: List[Dict[str, Any]], since: float | None = None) -> Derived | None:
    """Queue facts from a conversation's events (None: nothing for the nurses)."""
    level = None
    requested = False
    first = None
    last = 0.0
    for event in events:
        at = float(event.get("timestamp") or 0)
        last = max(last, at)
        if since is not None and at <= since:
            continue
        found = None
        if event.get("event") == "user":
            found = user_level(event)
            if asked_for_human(event):
                requested = True
                found = found if found != "none" else "request"
        elif event.get("event") == "slot" and event.get("name") == "triage_level":
            found = event.get("value")
        if found in RANK:
            first = at if first is None else first
            level = found if level is None or RANK[found] < RANK[level] else level
    if level is None or first is None:
        return None
    return Derived(level, requested, first, last, channel_of(conversation_id, events))


def order_key(case: Dict[str, Any]) -> tuple:
    """Most urgent first, then the oldest first finding."""
    return (RANK.get(case["level"], 9), case["first_finding_at"], case["conversation_id"])
