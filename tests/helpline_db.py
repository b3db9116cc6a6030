"""A tracker store database for the helpline console's tests: the events table as Rasa's
SQLTrackerStore creates it, the console's migrations applied, and events added as Rasa stores them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict

import sqlalchemy as sa

from crs.helpline.schema import migrate


def tracker_database(directory: Path) -> sa.engine.Engine:
    engine = sa.create_engine(f"sqlite:///{directory / 'trackers.db'}")
    with engine.begin() as db:
        db.execute(
            sa.text(
                "CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255), type_name VARCHAR(255), "
                "timestamp FLOAT, intent_name VARCHAR(255), action_name VARCHAR(255), data TEXT)"
            )
        )
    migrate(engine)
    return engine


def add_event(engine: sa.engine.Engine, sender: str, event: Dict[str, Any]) -> None:
    with engine.begin() as db:
        db.execute(
            sa.text("INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (:s, :t, :at, :d)"),
            {"s": sender, "t": event["event"], "at": event["timestamp"], "d": json.dumps(event)},
        )
