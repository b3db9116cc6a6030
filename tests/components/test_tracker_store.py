"""The redacting SQL tracker store on a real SQLite file (issue 13): a save writes only the new
events, without counting what is stored (writes do not grow with the conversation), and no event
is lost or written twice, also when a tracker was not read by the store."""

from __future__ import annotations

import json
import sqlite3

import sqlalchemy as sa
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered

from components.tracker_store import RedactingSQLTrackerStore

DOMAIN = Domain.from_yaml(
    "version: '3.1'\nintents: [greet]\nactions: [utter_greet]\nresponses:\n  utter_greet:\n  - text: hi"
)


def stored(db) -> list:
    with sqlite3.connect(db) as connection:
        return [json.loads(row[0]) for row in connection.execute("SELECT data FROM events ORDER BY id")]


def texts(value) -> list:
    """Every string in an event, however deep: what a redaction check reads. Numbers are left out
    because a timestamp's digits can hold "07700" by chance (a CI run failed on 1763877006.0770...)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [t for key, item in value.items() for t in [key, *texts(item)]]
    if isinstance(value, (list, tuple)):
        return [t for item in value for t in texts(item)]
    return []


def statements(store) -> list:
    """Every SQL statement the store runs, once per row written (an executemany counts each)."""
    seen = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        rows = len(parameters) if executemany else 1
        seen.extend([statement.lower()] * rows)

    sa.event.listen(store.engine, "before_cursor_execute", record)
    return seen


async def test_saves_write_only_new_events_and_do_not_count_the_conversation(tmp_path):
    db = tmp_path / "trackers.db"
    store = RedactingSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(db))
    tracker = await store.get_or_create_tracker("rest:a")
    await store.save(tracker)
    for turn in range(30):  # a long conversation, each turn read back and saved as Rasa does
        tracker = await store.retrieve("rest:a")
        tracker.update(UserUttered(f"message {turn} from 07700 900461", {"name": "greet", "confidence": 1.0}))
        tracker.update(ActionExecuted("utter_greet"))
        tracker.update(BotUttered("hi"))
        tracker.update(ActionExecuted("action_listen"))
        seen = statements(store)
        await store.save(tracker)
        writes = [s for s in seen if s.startswith("insert")]
        assert len(writes) == 4, writes  # the turn's events, however long the conversation
        assert not [s for s in seen if "count(" in s], seen  # nothing read to find them
    rows = stored(db)
    assert len(rows) == len(tracker.events) == 1 + 30 * 4  # nothing lost, nothing twice
    assert [r["event"] for r in rows] == [e.as_dict()["event"] for e in tracker.events]
    assert any("[phone]" in t for t in texts(rows))  # still redacted ...
    assert not [t for t in texts(rows) if "07700" in t or "900461" in t]  # ... with nothing left


async def test_a_tracker_the_store_did_not_read_is_saved_with_rasas_count(tmp_path):
    db = tmp_path / "trackers.db"
    store = RedactingSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(db))
    first = await store.get_or_create_tracker("rest:b")
    first.update(UserUttered("hello", {"name": "greet", "confidence": 1.0}))
    await store.save(first)
    copy = first.copy()  # a copy carries no note of what is stored
    copy.update(ActionExecuted("utter_greet"))
    await store.save(copy)
    await store.save(copy)  # saved twice: still once in the database
    assert len(stored(db)) == len(copy.events)


async def test_a_new_session_keeps_the_old_one_and_adds_the_new(tmp_path):
    db = tmp_path / "trackers.db"
    store = RedactingSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(db))
    tracker = await store.get_or_create_tracker("rest:c")
    tracker.update(UserUttered("hello", {"name": "greet", "confidence": 1.0}))
    await store.save(tracker)
    tracker = await store.retrieve("rest:c")
    tracker.update(ActionExecuted("action_session_start"))
    tracker.update(SessionStarted())
    tracker.update(ActionExecuted("action_listen"))
    await store.save(tracker)
    again = await store.retrieve("rest:c")
    again.update(UserUttered("hello again", {"name": "greet", "confidence": 1.0}))
    await store.save(again)
    full = await store.retrieve_full_tracker("rest:c")
    assert len(stored(db)) == len(full.events) == 2 + 3 + 1


async def test_reads_give_what_rasas_own_store_gives(tmp_path):
    from rasa.core.tracker_store import SQLTrackerStore

    db = tmp_path / "trackers.db"
    store = RedactingSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(db))
    for sender in ("rest:d", "rest:e"):
        tracker = await store.get_or_create_tracker(sender)
        for session in range(3):
            tracker.update(UserUttered(f"hello {session}", {"name": "greet", "confidence": 1.0}))
            tracker.update(ActionExecuted("utter_greet"))
            tracker.update(ActionExecuted("action_session_start"))
            tracker.update(SessionStarted())
            tracker.update(ActionExecuted("action_listen"))
            await store.save(tracker)
            tracker = await store.retrieve(sender)
    plain = SQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(db))
    for sender in ("rest:d", "rest:e", "rest:nobody"):
        for ours, theirs in (
            (await store.retrieve(sender), await plain.retrieve(sender)),
            (await store.retrieve_full_tracker(sender), await plain.retrieve_full_tracker(sender)),
        ):
            if theirs is None:
                assert ours is None
            else:
                assert [e.as_dict() for e in ours.events] == [e.as_dict() for e in theirs.events]
    assert len((await store.retrieve("rest:d")).events) < len((await store.retrieve_full_tracker("rest:d")).events)


# -- the tracker cache (issue 13, part C) ------------------------------------------------------


def dicts(tracker) -> list:
    return [e.as_dict() for e in tracker.events]


async def a_turn(store, sender: str, text: str) -> None:
    tracker = await store.retrieve(sender) or await store.get_or_create_tracker(sender)
    tracker.update(UserUttered(text, {"name": "greet", "confidence": 1.0}))
    tracker.update(ActionExecuted("utter_greet"))
    tracker.update(BotUttered("hi"))
    tracker.update(ActionExecuted("action_listen"))
    await store.save(tracker)


def uncached(db, monkeypatch) -> RedactingSQLTrackerStore:
    monkeypatch.setenv("CRS_TRACKER_CACHE", "0")
    store = RedactingSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(db))
    monkeypatch.delenv("CRS_TRACKER_CACHE")
    return store


async def test_the_next_turn_reads_the_saved_tracker_from_the_cache_as_the_database_gives_it(tmp_path, monkeypatch):
    db = tmp_path / "trackers.db"
    store = RedactingSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(db))
    for turn in range(5):
        await a_turn(store, "rest:k", f"call me on 07700 900461, turn {turn}")
    seen = statements(store)
    hits = store.cache_hits
    cached = await store.retrieve("rest:k")
    assert store.cache_hits == hits + 1
    assert not [s for s in seen if "select id, data" in s or "select data" in s], seen  # no events read
    fresh = await uncached(db, monkeypatch).retrieve("rest:k")
    assert dicts(cached) == dicts(fresh)  # the same events, as stored
    assert not [t for t in texts(dicts(cached)) if "07700" in t]  # redacted, as a read from the database gives them


async def test_forget_me_and_purge_drop_the_conversation_from_the_cache(tmp_path):
    db = tmp_path / "trackers.db"
    store = RedactingSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(db))
    await a_turn(store, "rest:f", "hello")
    await a_turn(store, "rest:f", "hello again")
    assert store.delete("rest:f") > 0
    assert await store.retrieve("rest:f") is None
    await a_turn(store, "rest:g", "hello")
    await a_turn(store, "rest:g", "hello again")
    assert store.purge(0, now=10**12) == ["rest:g"]
    assert await store.retrieve("rest:g") is None


async def test_writes_and_deletions_by_another_process_are_seen(tmp_path):
    db = tmp_path / "trackers.db"
    ours = RedactingSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(db))
    other = RedactingSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(db))  # another replica
    await a_turn(ours, "rest:o", "one")
    await a_turn(ours, "rest:o", "two")
    await a_turn(other, "rest:o", "three, from the other replica")
    tracker = await ours.retrieve("rest:o")
    assert [e.text for e in tracker.events if isinstance(e, UserUttered)] == [
        "one",
        "two",
        "three, from the other replica",
    ]
    await a_turn(ours, "rest:o", "four")  # and what it saves next goes after it, once
    assert [r.get("text") for r in stored(db) if r["event"] == "user"] == [
        "one",
        "two",
        "three, from the other replica",
        "four",
    ]
    other.delete("rest:o")  # "forget me" or `make purge` elsewhere
    assert await ours.retrieve("rest:o") is None


async def test_a_new_session_in_the_cache_is_what_the_database_gives(tmp_path, monkeypatch):
    db = tmp_path / "trackers.db"
    store = RedactingSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(db))
    await a_turn(store, "rest:s", "before")
    tracker = await store.retrieve("rest:s")
    tracker.update(ActionExecuted("action_session_start"))
    tracker.update(SessionStarted())
    tracker.update(ActionExecuted("action_listen"))
    tracker.update(UserUttered("after", {"name": "greet", "confidence": 1.0}))
    await store.save(tracker)
    hits = store.cache_hits
    cached = await store.retrieve("rest:s")
    assert store.cache_hits == hits + 1
    assert dicts(cached) == dicts(await uncached(db, monkeypatch).retrieve("rest:s"))
    assert [e.text for e in cached.events if isinstance(e, UserUttered)] == ["after"]


async def test_a_copy_saved_drops_the_cache_entry_and_nothing_is_lost(tmp_path, monkeypatch):
    db = tmp_path / "trackers.db"
    store = RedactingSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(db))
    await a_turn(store, "rest:c2", "one")
    tracker = await store.retrieve("rest:c2")
    copy = tracker.copy()
    copy.update(UserUttered("two", {"name": "greet", "confidence": 1.0}))
    await store.save(copy)
    again = await store.retrieve("rest:c2")
    assert dicts(again) == dicts(await uncached(db, monkeypatch).retrieve("rest:c2"))
    assert [e.text for e in again.events if isinstance(e, UserUttered)] == ["one", "two"]


async def test_a_new_conversation_is_stored_once_by_its_first_turn(tmp_path, monkeypatch):
    """Issue 13: the new tracker (its initial action_listen) is not saved empty first; the first
    turn's save stores it with the turn, in Rasa's order, in one write."""
    db = tmp_path / "trackers.db"
    store = RedactingSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(db))
    seen = statements(store)
    tracker = await store.get_or_create_tracker("rest:n")
    assert [e.as_dict()["event"] for e in tracker.events] == ["action"]  # Rasa's new tracker
    assert not [s for s in seen if s.startswith("insert")]  # nothing written yet
    tracker.update(UserUttered("hello", {"name": "greet", "confidence": 1.0}))
    tracker.update(ActionExecuted("utter_greet"))
    await store.save(tracker)
    assert len([s for s in seen if s.startswith("insert")]) == 3
    assert [r["event"] for r in stored(db)] == ["action", "user", "action"]
    assert dicts(await store.retrieve("rest:n")) == dicts(await uncached(db, monkeypatch).retrieve("rest:n"))
