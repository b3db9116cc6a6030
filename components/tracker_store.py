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

A tracker cache (issue 13, part C): the tracker saved at the end of a turn is the one the next turn
reads, so the store keeps, for the last ``CRS_TRACKER_CACHE`` conversations (default 256; 0 turns
it off), the events of their latest session exactly as a read would rebuild them: deserialised
from the redacted JSON that was written, not the original events (a read from the database gives
the redacted text, and so does the cache). A read then costs one indexed query instead of reading
and deserialising every event of the session (about 3 ms for 50 events): the newest event id of
the conversation in the database must equal the one the cache holds, so a write or a deletion by
anything else (another replica of the cluster, ``make purge``) means a full read. "Forget me"
(``delete``) and ``purge`` drop the conversation from the cache; a tracker that was not read
through the cache (a copy) is saved with Rasa's count and drops it too.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import os
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Iterator, List

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event, SessionStarted, deserialise_events
from rasa.shared.core.trackers import DialogueStateTracker

from crs.redaction import owner_only, redact_event, safe_id
from crs.sqlite_reads import KeptReads

logger = logging.getLogger(__name__)

_STORES: List[RedactingSQLTrackerStore] = []
# one thread writes, in the order the turns finish (no two writers contend for SQLite's lock)
_WRITER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tracker-store-writer")
# attribute of a tracker: how many of its events are in the database (set when read or saved)
STORED = "_crs_events_stored"
# attribute of a tracker: the cache generation it was read from (its save may extend that entry)
READ_FROM = "_crs_read_from"
CACHE_ENV = "CRS_TRACKER_CACHE"
DEFAULT_CACHE_SIZE = 256


class _Entry:
    """One conversation in the tracker cache: the newest event id stored, and the events of the
    latest session as a read of the database would give them."""

    __slots__ = ("last_id", "events")

    def __init__(self, last_id: int, events: List[Event]) -> None:
        self.last_id = last_id
        self.events = events


def latest_session(events: List[Event]) -> List[Event]:
    """The events a read of the latest session gives (the SQL of ``_events_sql``): those at or
    after the newest ``SessionStarted`` timestamp, all of them when there is none."""
    starts = [event.timestamp for event in events if isinstance(event, SessionStarted)]
    if not starts:
        return list(events)
    start = max(starts)
    return [event for event in events if event.timestamp is not None and event.timestamp >= start]


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
            self._pool_sqlite_connections()
            self._keeper = _keep_open(db)

        table = self.SQLEvent.__tablename__
        self._events_sql = sa.text(
            f"SELECT data FROM {table} WHERE sender_id = :sender AND (:all_sessions OR NOT EXISTS "
            f"(SELECT 1 FROM {table} WHERE sender_id = :sender AND type_name = '{SessionStarted.type_name}') "
            f"OR timestamp >= (SELECT max(timestamp) FROM {table} WHERE sender_id = :sender "
            f"AND type_name = '{SessionStarted.type_name}')) ORDER BY id"
        )
        self._newest_sql = sa.text(f"SELECT max(id) FROM {table} WHERE sender_id = :sender")
        self._events_with_id_sql = sa.text(
            f"SELECT id, data FROM {table} WHERE sender_id = :sender AND (NOT EXISTS "
            f"(SELECT 1 FROM {table} WHERE sender_id = :sender AND type_name = '{SessionStarted.type_name}') "
            f"OR timestamp >= (SELECT max(timestamp) FROM {table} WHERE sender_id = :sender "
            f"AND type_name = '{SessionStarted.type_name}')) ORDER BY id"
        )
        self._count_sql = sa.text(
            f"SELECT count(*) FROM {table} WHERE sender_id = :sender AND (NOT EXISTS "
            f"(SELECT 1 FROM {table} WHERE sender_id = :sender AND type_name = '{SessionStarted.type_name}') "
            f"OR timestamp >= (SELECT max(timestamp) FROM {table} WHERE sender_id = :sender "
            f"AND type_name = '{SessionStarted.type_name}'))"
        )
        self.reads = KeptReads(self.engine)  # the newest-event check of every read (issue 13, part D)
        self.cache_size = int(os.environ.get(CACHE_ENV) or DEFAULT_CACHE_SIZE)
        self._cache: OrderedDict[str, _Entry] = OrderedDict()
        self._cache_lock = threading.Lock()
        self.cache_hits = self.cache_misses = 0
        _STORES.append(self)
        _create_tracker_stored_with_the_turn()

    def _pool_sqlite_connections(self) -> None:
        """SQLAlchemy 1.4 opens a new SQLite connection for every session on a file (``NullPool``),
        and each new connection ran the write-ahead-log settings: a third of the server's CPU under
        load went to connecting (py-spy, docs/performance.md). The engine is made again with a
        pool that keeps its connections (SQLAlchemy 2.0's default for SQLite files), usable from
        the writer thread, the event loop and the helpline console's thread alike."""
        import sqlalchemy as sa
        from sqlalchemy.pool import QueuePool

        url = self.engine.url
        self.engine.dispose()
        self.engine = sa.create_engine(
            url, poolclass=QueuePool, pool_size=4, max_overflow=8, connect_args={"check_same_thread": False}
        )
        sa.event.listen(self.engine, "connect", _sqlite_settings)
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    async def _retrieve(self, sender_id: str, fetch_events_from_all_sessions: bool) -> DialogueStateTracker | None:
        """Rasa's query (the events of the latest session, or of all, in the order stored) as one
        prepared SQL statement that reads only the event data: the ORM query cost a tenth of the
        server's time under load. The latest session comes from the cache when the database's
        newest event id for the conversation is the cache's."""
        if fetch_events_from_all_sessions:
            with self.session_scope() as session:
                rows = session.execute(self._events_sql, {"sender": sender_id, "all_sessions": True})
                events = [json.loads(data) for (data,) in rows]
            if not (self.domain and events):
                return None
            return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        if not self.domain:
            return None
        newest = self.reads.scalar(self._newest_sql, {"sender": sender_id})
        entry = self._cached(sender_id)
        if entry is not None and newest is not None and entry.last_id == newest:
            self.cache_hits += 1
            evts = list(entry.events)
        else:
            self.cache_misses += 1
            self._forget_cached(sender_id)
            if newest is None:
                return None
            with self.session_scope() as session:
                rows = session.execute(self._events_with_id_sql, {"sender": sender_id}).all()
            evts = deserialise_events([json.loads(data) for (_, data) in rows])
            entry = _Entry(int(newest), list(evts))
            self._remember(sender_id, entry)
        if not evts:
            return None
        tracker = DialogueStateTracker.from_events(sender_id, evts, self.domain.slots)
        # Rasa's save counts the events of the latest session, which is what was read here
        setattr(tracker, STORED, len(tracker.events))
        setattr(tracker, READ_FROM, entry)
        return tracker

    # -- the tracker cache ------------------------------------------------------------------------
    def _cached(self, sender_id: str) -> _Entry | None:
        with self._cache_lock:
            entry = self._cache.get(sender_id)
            if entry is not None:
                self._cache.move_to_end(sender_id)
            return entry

    def _remember(self, sender_id: str, entry: _Entry) -> None:
        if self.cache_size <= 0:
            return
        with self._cache_lock:
            self._cache[sender_id] = entry
            self._cache.move_to_end(sender_id)
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)

    def _forget_cached(self, sender_id: str) -> None:
        with self._cache_lock:
            self._cache.pop(sender_id, None)

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Rasa's ``SQLTrackerStore.save``, with the database work in the writer thread."""
        await self.stream_events(tracker)
        await asyncio.get_running_loop().run_in_executor(_WRITER, self._write, tracker)
        setattr(tracker, STORED, len(tracker.events))

    def _write(self, tracker: DialogueStateTracker) -> None:
        from rasa.shared.nlu.constants import INTENT_NAME_KEY

        read_from = getattr(tracker, READ_FROM, None)
        stored = getattr(tracker, STORED, None)
        # the save extends the cached session only when the tracker is the one read from it
        extends = (
            isinstance(read_from, _Entry)
            and isinstance(stored, int)
            and self._cached(tracker.sender_id) is read_from
            and len(read_from.events) == stored
        )
        if not extends:
            self._forget_cached(tracker.sender_id)
        written: List[str] = []
        rows = []
        with self.session_scope() as session:
            for event in self._additional_events(session, tracker):
                data = event.as_dict()
                text = json.dumps(data)
                rows.append(
                    {
                        "sender_id": tracker.sender_id,
                        "type_name": event.type_name,
                        "timestamp": data.get("timestamp"),
                        "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
                        "action_name": data.get("name"),
                        "data": text,
                    }
                )
                written.append(text)
            last_id = None
            if rows:
                # one executemany of Core inserts (the ORM's unit of work cost as much as the SQL),
                # in the order of the events, as Rasa's session.add() + commit did
                session.execute(self.SQLEvent.__table__.insert(), rows)
                last_id = session.execute(self._newest_sql, {"sender": tracker.sender_id}).scalar()
            session.commit()
        if extends and read_from is not None:
            if last_id is not None:
                # the events as a read would give them: from the redacted JSON just written
                events = read_from.events + deserialise_events([json.loads(text) for text in written])
                entry = _Entry(int(last_id), latest_session(events))
            else:
                entry = read_from
            self._remember(tracker.sender_id, entry)
            setattr(tracker, READ_FROM, entry)

    def _additional_events(self, session: Any, tracker: DialogueStateTracker) -> Iterator:  # type: ignore[override]
        stored = getattr(tracker, STORED, None)
        if not (isinstance(stored, int) and 0 <= stored <= len(tracker.events)):
            # Rasa's count of the latest session's events (its ORM query, as one prepared statement)
            stored = session.execute(self._count_sql, {"sender": tracker.sender_id}).scalar() or 0
        events: Iterator = itertools.islice(tracker.events, stored, len(tracker.events))
        for event in events:
            yield _RedactedEvent(event)

    def delete(self, conversation_id: str) -> int:
        """Delete every event of one conversation; the number of events deleted."""
        self._forget_cached(conversation_id)
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
                self._forget_cached(conversation_id)
            session.commit()
        return old


def _innermost(store: Any) -> Any:
    """The store inside Rasa's wrappers (``FailSafeTrackerStore``, ``AwaitableTrackerStore``)."""
    seen = 0
    while getattr(store, "_tracker_store", None) is not None and seen < 5:
        store = store._tracker_store
        seen += 1
    return store


_RASA_CREATE_TRACKER: Any = None


def _create_tracker_stored_with_the_turn() -> None:
    """A new conversation's tracker is stored by the turn's own save, not saved empty first.

    Rasa's ``TrackerStore.create_tracker`` saves the new tracker (its initial ``action_listen``)
    at once, and the turn then saves it again with the rest: two writes, and one more wait for
    the writer, on every conversation's first turn (under load, its slowest). For our store
    (without an event broker, which is streamed on save) the initial event is stored by that
    second save instead, in the same order; the save counts what is stored first, as for any
    tracker the store did not read. Other stores keep Rasa's behaviour."""
    global _RASA_CREATE_TRACKER
    from rasa.core.tracker_store import TrackerStore
    from rasa.shared.core.constants import ACTION_LISTEN_NAME
    from rasa.shared.core.events import ActionExecuted

    if _RASA_CREATE_TRACKER is not None:
        return
    _RASA_CREATE_TRACKER = TrackerStore.create_tracker

    async def create_tracker(self: Any, sender_id: str, append_action_listen: bool = True) -> DialogueStateTracker:
        inner = _innermost(self)
        if not isinstance(inner, RedactingSQLTrackerStore) or inner.event_broker or getattr(self, "event_broker", None):
            return await _RASA_CREATE_TRACKER(self, sender_id, append_action_listen=append_action_listen)
        tracker = self.init_tracker(sender_id)
        if append_action_listen:
            tracker.update(ActionExecuted(ACTION_LISTEN_NAME))
        return tracker

    TrackerStore.create_tracker = create_tracker  # type: ignore[method-assign]


def active_store() -> RedactingSQLTrackerStore | None:
    """The tracker store of this server (for "forget me"), if it is ours."""
    return _STORES[-1] if _STORES else None
