"""The console's follower of the tracker store on a real SQLite database: the queue is rebuilt
from the events when it starts, and a deleted conversation whose ids SQLite gives again does not
hide later escalations."""

from __future__ import annotations

import sqlalchemy as sa

from components.helpline import Runtime
from tests.helpline_db import add_event, tracker_database


def user(text, level, at, **metadata):
    return {
        "event": "user",
        "timestamp": at,
        "text": text,
        "metadata": metadata,
        "parse_data": {"triage": {"level": level, "findings": []}, "entities": []},
    }


def test_rebuild_on_start_and_ids_given_again_after_a_deletion(tmp_path):
    engine = tracker_database(tmp_path)
    add_event(engine, "widget:a", user("she can't breathe", "emergency", 1.0))
    add_event(engine, "rest:b", user("hello", "none", 2.0))
    add_event(engine, "rest:b", user("forget me", "none", 3.0))
    runtime = Runtime(None, engine)
    assert set(runtime.scan()) == {"widget:a"}
    # a restart: a new follower on the same database rebuilds the same queue
    again = Runtime(None, engine)
    again.scan()
    assert [c["conversation_id"] for c in again.store.open_cases()] == ["widget:a"]
    # rest:b is deleted; SQLite gives its ids to the next events
    with engine.begin() as db:
        db.execute(sa.text("DELETE FROM events WHERE sender_id = 'rest:b'"))
    add_event(engine, "rest:c", user("can I talk to a nurse", "none", 4.0, crs_helpline_request=True))
    assert "rest:c" in runtime.scan()
    assert runtime.store.case("rest:c")["level"] == "request"


def test_only_conversations_with_something_for_the_nurses_are_derived_again(tmp_path, monkeypatch):
    """Issue 13: a conversation without a case whose new events carry no red flag and no request
    is not read again; one with a case, or with a new red flag, is (also across scan pages)."""
    import components.helpline as helpline

    engine = tracker_database(tmp_path)
    monkeypatch.setattr(helpline, "SCAN_PAGE", 2)  # several pages
    runtime = Runtime(None, engine)
    refreshed = []
    real = runtime.store.refresh
    monkeypatch.setattr(runtime.store, "refresh", lambda cid: refreshed.append(cid) or real(cid))
    add_event(engine, "rest:quiet", user("what is CRS?", "none", 1.0))
    add_event(engine, "rest:quiet", user("thanks", "none", 2.0))
    add_event(engine, "rest:later", user("hello", "none", 3.0))
    add_event(engine, "rest:later", user("hi", "none", 4.0))
    add_event(engine, "rest:later", user("he has a temperature of 39 and is confused", "emergency", 5.0))
    assert runtime.scan() == ["rest:later"]
    assert refreshed == ["rest:later"]  # rest:quiet was not read again
    assert runtime.store.case("rest:quiet") is None
    assert runtime.store.case("rest:later")["level"] == "emergency"
    refreshed.clear()
    add_event(engine, "rest:later", user("ok", "none", 6.0))  # a case: its new events update it
    add_event(engine, "rest:quiet", user("bye", "none", 7.0))
    assert runtime.scan() == ["rest:later"]
    assert refreshed == ["rest:later"]
    assert runtime.store.case("rest:later")["last_event_at"] == 6.0
    add_event(engine, "rest:quiet", user("she can't breathe", "emergency", 8.0))  # a red flag at last
    assert "rest:quiet" in runtime.scan()
    assert runtime.store.case("rest:quiet")["level"] == "emergency"


def test_an_open_case_whose_conversation_was_deleted_is_marked_gone(tmp_path):
    engine = tracker_database(tmp_path)
    add_event(engine, "widget:x", user("she can't breathe", "emergency", 1.0))
    add_event(engine, "widget:y", user("he can't breathe", "emergency", 2.0))
    runtime = Runtime(None, engine)
    runtime.scan()
    assert runtime.store.vanished_open_cases() == []
    with engine.begin() as db:  # "forget me" for x, and a new event elsewhere in the same poll
        db.execute(sa.text("DELETE FROM events WHERE sender_id = 'widget:x'"))
    add_event(engine, "rest:z", user("hello", "none", 3.0))
    assert "widget:x" in runtime.scan()
    assert runtime.store.case("widget:x")["gone"]
    assert not runtime.store.case("widget:y")["gone"]
    assert runtime.store.vanished_open_cases() == []
