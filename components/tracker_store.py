"""The tracker store: Rasa's SQL store, with personal data redacted before anything is written.

Configured in endpoints.yml (``tracker_store: type: components.tracker_store.RedactingSQLTrackerStore``).
Every event is redacted (``crs.redaction.redact_event``) on its way to the database; the tracker
in memory, which triage and answers use during the turn, keeps the original text. A SQLite file
is created readable and writable by its owner only (0600). ``delete(conversation_id)`` removes a
conversation ("forget me"), ``purge(days)`` every conversation idle for longer (``make purge``).

Writes do not grow with the conversation (issue 13): Rasa's store counts the events already stored
(a query over the whole session) on every save to find the new ones. Here the tracker remembers how
many events it was read with (or last saved), and only the events after those are written; a
tracker that was not read by this store (or was copied) falls back to Rasa's count.

SQLite runs in write-ahead-log mode (``_sqlite_settings``): a commit no longer waits for the disk.
Writes run in one writer thread of their own: SQLAlchemy's calls are blocking, and a commit waits
for the disk (fsync), which held up the server's event loop, and so every other conversation, for
17% of its time under load. The turn still waits for its own write (the lock on the conversation
is held until it is stored, and the reply goes out after it), so nothing is reordered or lost.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Iterator, List

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker

from crs.redaction import owner_only, redact_event, safe_id

logger = logging.getLogger(__name__)

_STORES: List[RedactingSQLTrackerStore] = []
# one thread writes, in the order the turns finish (no two writers contend for SQLite's lock)
_WRITER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tracker-store-writer")
# attribute of a tracker: how many of its events are in the database (set when read or saved)
STORED = "_crs_events_stored"


class _RedactedEvent:
    """An event as stored: ``as_dict`` redacted, the rest of the event as it is."""

    def __init__(self, event: Event) -> None:
        self._event = event
        self.type_name = event.type_name

    def as_dict(self) -> dict:
        return redact_event(self._event.as_dict())


def _sqlite_settings(connection: Any, _: Any) -> None:
    """SQLite in write-ahead-log mode with ``synchronous=NORMAL``: a commit no longer waits for
    the disk (an fsync of about 20 ms here, per save, added to every turn); the log is synced at
    checkpoints. A crash of the server loses nothing; a power cut can lose the last commits
    (SQLite's documented trade-off). The log files get the database file's permissions (0600)."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _keep_open(db: str) -> Any:
    """One connection kept open for the server's life: SQLite checkpoints (and syncs) whenever
    the last connection closes, which with SQLAlchemy's connection-per-session would be every
    save. Copy a live database with SQLite's backup API (``sqlite3 trackers.db .backup copy.db``),
    not by copying the file: the latest commits may still be in ``trackers.db-wal``."""
    import sqlite3

    keeper = sqlite3.connect(db, check_same_thread=False)
    keeper.execute("PRAGMA journal_mode=WAL")
    keeper.execute("SELECT count(*) FROM sqlite_master").fetchall()
    return keeper


class RedactingSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore that redacts personal data and keeps its SQLite file private."""

    def __init__(self, *args: Any, dialect: str = "sqlite", db: str = "rasa.db", **kwargs: Any) -> None:
        if dialect == "sqlite" and db and db != ":memory:":
            owner_only(db)
        super().__init__(*args, dialect=dialect, db=db, **kwargs)
        import sqlalchemy as sa

        self._keeper = None
        if dialect == "sqlite" and db and db != ":memory:":
            sa.event.listen(self.engine, "connect", _sqlite_settings)
            self._keeper = _keep_open(db)

        table = self.SQLEvent.__tablename__
        self._events_sql = sa.text(
            f"SELECT data FROM {table} WHERE sender_id = :sender AND (:all_sessions OR NOT EXISTS "
            f"(SELECT 1 FROM {table} WHERE sender_id = :sender AND type_name = '{SessionStarted.type_name}') "
            f"OR timestamp >= (SELECT max(timestamp) FROM {table} WHERE sender_id = :sender "
            f"AND type_name = '{SessionStarted.type_name}')) ORDER BY id"
        )
        _STORES.append(self)

    async def _retrieve(self, sender_id: str, fetch_events_from_all_sessions: bool) -> DialogueStateTracker | None:
        """Rasa's query (the events of the latest session, or of all, in the order stored) as one
        prepared SQL statement that reads only the event data: the ORM query cost a tenth of the
        server's time under load."""
        with self.session_scope() as session:
            rows = session.execute(
                self._events_sql, {"sender": sender_id, "all_sessions": bool(fetch_events_from_all_sessions)}
            )
            events = [json.loads(data) for (data,) in rows]
        if not (self.domain and events):
            return None
        tracker = DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        if not fetch_events_from_all_sessions:
            # Rasa's save counts the events of the latest session, which is what was read here
            setattr(tracker, STORED, len(tracker.events))
        return tracker

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Rasa's ``SQLTrackerStore.save``, with the database work in the writer thread."""
        await self.stream_events(tracker)
        await asyncio.get_running_loop().run_in_executor(_WRITER, self._write, tracker)
        setattr(tracker, STORED, len(tracker.events))

    def _write(self, tracker: DialogueStateTracker) -> None:
        from rasa.shared.nlu.constants import INTENT_NAME_KEY

        with self.session_scope() as session:
            for event in self._additional_events(session, tracker):
                data = event.as_dict()
                session.add(
                    self.SQLEvent(
                        sender_id=tracker.sender_id,
                        type_name=event.type_name,
                        timestamp=data.get("timestamp"),
                        intent_name=data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
                        action_name=data.get("name"),
                        data=json.dumps(data),
                    )
                )
            session.commit()

    def _additional_events(self, session: Any, tracker: DialogueStateTracker) -> Iterator:  # type: ignore[override]
        stored = getattr(tracker, STORED, None)
        if isinstance(stored, int) and 0 <= stored <= len(tracker.events):
            events: Iterator = itertools.islice(tracker.events, stored, len(tracker.events))
        else:
            events = super()._additional_events(session, tracker)
        for event in events:
            yield _RedactedEvent(event)

    def delete(self, conversation_id: str) -> int:
        """Delete every event of one conversation; the number of events deleted."""
        with self.session_scope() as session:
            count = session.query(self.SQLEvent).filter(self.SQLEvent.sender_id == conversation_id).delete()
            session.commit()
        logger.info("conversation deleted conversation=%s events=%d", safe_id(conversation_id), count)
        return count

    def purge(self, days: float, now: float | None = None) -> List[str]:
        """Delete every conversation whose latest event is older than ``days``; their ids."""
        import sqlalchemy as sa

        cutoff = (time.time() if now is None else now) - days * 86400
        with self.session_scope() as session:
            old = [
                row[0]
                for row in session.query(self.SQLEvent.sender_id)
                .group_by(self.SQLEvent.sender_id)
                .having(sa.func.max(self.SQLEvent.timestamp) < cutoff)
                .all()
            ]
            for conversation_id in old:
                session.query(self.SQLEvent).filter(self.SQLEvent.sender_id == conversation_id).delete()
            session.commit()
        return old


def active_store() -> RedactingSQLTrackerStore | None:
    """The tracker store of this server (for "forget me"), if it is ours."""
    return _STORES[-1] if _STORES else None
