"""The console's Rasa-free core: hours, requests for a person, queue facts and order, summaries,
login slowing, and the store on a real SQLite database built by the migrations."""

from __future__ import annotations

import sqlite3
import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
import yaml

from crs.helpline import auth
from crs.helpline.cases import derive, order_key
from crs.helpline.hours import Hours
from crs.helpline.requests import asks_for_human
from crs.helpline.schema import migrate
from crs.helpline.store import HelplineStore, Sealer
from crs.helpline.summary import summarise
from crs.settings import ROOT
from crs.triage import default_engine
from tests.helpline_db import add_event, tracker_database

LONDON = ZoneInfo("Europe/London")


def at(*args) -> float:
    return datetime(*args, tzinfo=LONDON).timestamp()


@pytest.fixture(scope="module")
def hours() -> Hours:
    return Hours.from_data(yaml.safe_load((ROOT / "data" / "helpline.yml").read_text()))


def test_hours_weekdays_nine_to_five(hours):
    assert hours.is_open(at(2026, 11, 23, 9, 0))  # a Monday
    assert hours.is_open(at(2026, 11, 23, 16, 59))
    assert not hours.is_open(at(2026, 11, 23, 17, 0))
    assert not hours.is_open(at(2026, 11, 22, 12, 0))  # a Sunday
    assert hours.opens_phrase(at(2026, 11, 22, 12, 0)) == "tomorrow at 9am"
    assert hours.opens_phrase(at(2026, 11, 23, 7, 30)) == "today at 9am"
    assert hours.opens_phrase(at(2026, 11, 27, 18, 0)) == "on Monday 30 November at 9am"


def test_out_of_hours_notice_names_the_emergency_number_and_the_24_hour_line(hours):
    text, is_open = hours.request_notice(at(2026, 11, 21, 22, 0), "999", "your treatment team's 24-hour advice line")
    assert not is_open
    assert "closed now" in text and "opens on Monday 23 November at 9am" in text
    assert "call 999 now" in text and "24-hour advice line" in text


def test_closures(hours):
    closed = Hours.from_data(
        {**yaml.safe_load((ROOT / "data" / "helpline.yml").read_text()), "closed_dates": ["2026-12-25"]}
    )
    assert not closed.is_open(at(2026, 12, 25, 10, 0))
    assert closed.opens_phrase(
        at(2026, 12, 24, 18, 0)
    ) == "on Saturday 26 December at 9am" or "Monday" in closed.opens_phrase(at(2026, 12, 24, 18, 0))


@pytest.mark.parametrize(
    "text",
    [
        "can I talk to a nurse",
        "I want to speak to a real person",
        "nurse please",
        "can a nurse call me back",
        "Can I speak with someone?",
        "can i talk to a real nurse",
        "put me through to the helpline",
        "I need a nurse",
    ],
)
def test_requests_for_a_person(text):
    assert asks_for_human(text)


@pytest.mark.parametrize(
    "text",
    [
        "what are the symptoms of crs",
        "I don't want to talk to a nurse",
        "what does the nurse do",
        "my nurse said I have a fever",
        "am i talking to a real person?",
        "are you human",
        "is there a human there",
        "",
        "<b>nurse</b>" * 0 + "x" * 5000,
    ],
)
def test_not_requests(text):
    assert not asks_for_human(text)


def user(text, level, at, findings=(), **metadata):
    return {
        "event": "user",
        "timestamp": at,
        "text": text,
        "metadata": metadata,
        "parse_data": {"triage": {"level": level, "findings": list(findings)}, "entities": []},
    }


def test_derive_levels_requests_and_resolved_episodes():
    events = [user("hi", "none", 1.0), user("headache", "urgent", 2.0), user("can't breathe", "emergency", 3.0)]
    facts = derive("widget:abc", events)
    assert (facts.level, facts.first_finding_at, facts.channel) == ("emergency", 2.0, "widget")
    assert derive("rest:x", events, since=3.0) is None  # resolved after the last finding
    request = derive("sms-1", [user("nurse please", "none", 5.0, crs_helpline_request=True)])
    assert (request.level, request.requested, request.channel) == ("request", True, "sms")
    check = derive(
        "rest:y",
        [user("yes", "none", 7.0), {"event": "slot", "timestamp": 7.1, "name": "triage_level", "value": "emergency"}],
    )
    assert check.level == "emergency"


def test_queue_order_level_then_oldest_first_finding():
    cases = [
        {"conversation_id": "a", "level": "request", "first_finding_at": 1.0},
        {"conversation_id": "b", "level": "urgent", "first_finding_at": 2.0},
        {"conversation_id": "c", "level": "emergency", "first_finding_at": 9.0},
        {"conversation_id": "d", "level": "emergency", "first_finding_at": 3.0},
    ]
    assert [c["conversation_id"] for c in sorted(cases, key=order_key)] == ["d", "c", "b", "a"]


def test_summary_lists_every_red_flag_with_words_and_time():
    engine = default_engine()
    triage = engine.assess("I can't breathe but no fever").as_dict()
    events = [
        {
            **user("I can't breathe but no fever", triage["level"], 100.0),
            "parse_data": {"triage": triage, "entities": [{"entity": "treatment", "value": "car_t"}]},
        },
        {
            "event": "bot",
            "timestamp": 101.0,
            "text": "EMERGENCY",
            "data": {"custom": {"instruction": {"level": "emergency"}, "quotes": [{"passage_id": "us.p062.s1"}]}},
        },
        {"event": "slot", "timestamp": 102.0, "name": "check_alertness", "value": "absent"},
    ]
    summary = summarise("rest:x", events, engine.rules, {"emergency": "Check they called."})
    flags = {f["id"]: f for f in summary["red_flags"]}
    assert flags["breathing"]["status"] == "present" and flags["breathing"]["words"][0]["at"] == 100.0
    assert flags["confusion"]["status"] == "absent"  # the yes/no check answer
    assert flags["seizure"]["status"] == "absent" and flags["rapid_heartbeat"]["status"] == "not_asked"
    assert summary["treatments"][0]["id"] == "car_t"
    assert summary["check"] == [{"question": "alertness", "answer": "absent"}]
    assert summary["given"][0]["quotes"] == ["us.p062.s1"]
    assert summary["sbar"]["recommendation"].endswith("Check they called.")
    assert "difficulty breathing" in summary["sbar"]["situation"]


def test_login_delay_grows_after_five_failures():
    assert auth.login_delay(4, 100.0, 100.0) == 0
    assert auth.login_delay(5, 100.0, 100.0) == 1.0
    assert auth.login_delay(8, 100.0, 101.0) == 7.0
    assert auth.login_delay(50, 100.0, 100.0) == auth.MAX_DELAY


def test_argon2id_hashes():
    digest = auth.hash_password("a long enough password")
    assert digest.startswith("$argon2id$")
    assert auth.verify_password(digest, "a long enough password")
    assert not auth.verify_password(digest, "a long enough passworD")
    assert not auth.verify_password(None, "anything")


@pytest.fixture
def store(tmp_path):
    engine = tracker_database(tmp_path)  # the tracker store's table, as Rasa creates it, migrated
    migrate(engine)  # idempotent
    return HelplineStore(engine)


def test_store_rebuilds_cases_from_the_tracker_store_and_claims_atomically(store, tmp_path):
    add_event(store.engine, "widget:abc", user("she can't breathe", "emergency", 10.0))
    ids, newest = store.changed_conversations(0)
    assert ids == ["widget:abc"] and newest == 1
    assert store.refresh("widget:abc")
    # a fresh store on the same database (a restart) sees the same case
    again = HelplineStore(sa.create_engine(f"sqlite:///{tmp_path / 'trackers.db'}"))
    assert again.case("widget:abc")["level"] == "emergency"
    results = []
    barrier = threading.Barrier(8)

    def claim(name):
        barrier.wait()
        results.append(again.claim("widget:abc", name, 11.0))

    threads = [threading.Thread(target=claim, args=(f"n{i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 7 + [True]
    holder = store.holder("widget:abc")
    assert not store.resolve("widget:abc", "someone-else", 12.0)
    assert store.resolve("widget:abc", holder, 12.0) and store.holder("widget:abc") is None
    add_event(store.engine, "widget:abc", user("fine now", "none", 13.0))
    store.refresh("widget:abc")
    assert store.case("widget:abc")["status"] == "resolved"
    add_event(store.engine, "widget:abc", user("he's fitting", "emergency", 14.0))
    store.refresh("widget:abc")
    assert store.case("widget:abc")["status"] == "open" and store.case("widget:abc")["first_finding_at"] == 14.0


def test_audit_is_append_only_in_the_database(store, tmp_path):
    store.audit("ana", "claim", "widget:abc", x=1)
    assert store.audit_log()[0]["action"] == "claim"
    conn = sqlite3.connect(tmp_path / "trackers.db")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("DELETE FROM helpline_audit")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("UPDATE helpline_audit SET nurse = 'x'")


def test_sessions_expire_when_idle(store):
    token, csrf = store.open_session("ana", 1000.0)
    assert store.session(token, 1000.0 + 60) == {"nurse": "ana", "csrf": csrf}
    assert store.session(token, 1060.0 + auth.SESSION_IDLE_SECONDS + 1) is None
    assert store.session(token, 1061.0) is None  # gone for good


def test_sealed_reply_addresses(store):
    sealer = Sealer("secret")
    sealed = sealer.seal("sms-1", "+447700900123")
    assert "7700900123" not in sealed and sealer.open("sms-1", sealed) == "+447700900123"
    from cryptography.exceptions import InvalidTag

    with pytest.raises(InvalidTag):
        sealer.open("sms-2", sealed)  # bound to its conversation
