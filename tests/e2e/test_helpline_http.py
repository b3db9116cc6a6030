"""The helpline console over real HTTP against the real Rasa server (issue 12): login and access,
CSRF, password hashes, slowed logins, the queue and its order, summaries, the claim race,
handling (silence except red flags) and resume, replies by SMS through a fake Twilio server on
localhost, out-of-hours requests, the audit log, and bad input."""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid

import pytest
import requests
import yaml

from tests.conftest import payloads, texts
from tests.e2e.helpline_client import PASSWORD, Console, add_nurse, unique
from tests.e2e.test_sms_http import message_of, new_number, post

pytestmark = pytest.mark.rasa

ROUTES = [
    ("GET", "/"),
    ("GET", "/assets/console.js"),
    ("GET", "/assets/console.css"),
    ("GET", "/api/me"),
    ("GET", "/api/queue"),
    ("GET", "/api/cases/rest:someone"),
    ("POST", "/api/cases/rest:someone/claim"),
    ("POST", "/api/cases/rest:someone/notes"),
    ("POST", "/api/cases/rest:someone/reply"),
    ("POST", "/api/cases/rest:someone/resolve"),
    ("POST", "/api/cases/rest:someone/triage-log"),
    ("POST", "/api/assist"),
    ("GET", "/api/audit"),
    ("GET", "/api/stream"),
    ("POST", "/api/logout"),
]


@pytest.fixture(scope="module")
def nurses(servers):
    names = [unique("ana"), unique("ben")]
    for name in names:
        done = add_nurse(servers, name)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "Created the account" in done.stdout
    return names


@pytest.fixture
def ana(servers, nurses):
    console = Console(servers)
    assert console.login(nurses[0]).status_code == 303
    return console


@pytest.fixture
def ben(servers, nurses):
    console = Console(servers)
    assert console.login(nurses[1]).status_code == 303
    return console


def db(servers):
    return sqlite3.connect(servers.workdir / "trackers.db", timeout=30)


def sender() -> str:
    return "hl" + uuid.uuid4().hex[:12]


def test_every_route_refuses_without_login(servers, nurses):
    base = f"{servers.rasa_url}/webhooks/helpline"
    forged = {"helpline_session": "not-a-session"}
    for cookies in ({}, forged):
        for method, path in ROUTES:
            response = requests.request(method, base + path, cookies=cookies, allow_redirects=False, timeout=30)
            if "/api/" in path:
                assert response.status_code == 401, (method, path, response.status_code)
                assert "not logged in" in response.json()["error"]
            else:
                assert response.status_code == 303 and response.headers["Location"].endswith("/login"), (method, path)
            assert "CRS helpline console" not in response.text and "conversation" not in response.text.lower()
    login = requests.get(base + "/login", timeout=30)
    assert login.status_code == 200 and 'type="password"' in login.text


def test_passwords_are_argon2id_hashes_and_wrong_ones_fail(servers, nurses):
    with db(servers) as conn:
        stored = conn.execute("SELECT password_hash FROM helpline_nurses WHERE name = ?", (nurses[0],)).fetchone()[0]
    assert stored.startswith("$argon2id$v=19$") and PASSWORD not in stored
    console = Console(servers)
    wrong = console.login(nurses[0], "not the password at all")
    assert wrong.status_code == 401 and "do not match" in wrong.text
    assert console.get("queue").status_code == 401
    assert Console(servers).login("nobody-" + uuid.uuid4().hex[:6]).status_code == 401
    short = add_nurse(servers, unique("cy"), "short")
    assert short.returncode != 0 and "at least 12" in short.stderr


def test_session_cookie_flags_and_logout(servers, nurses):
    console = Console(servers)
    response = console.login(nurses[0])
    cookie = response.headers["Set-Cookie"]
    assert "helpline_session=" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "Secure" not in cookie  # plain HTTP on localhost
    behind_tls = Console(servers)
    token = behind_tls.login_form()
    secure = behind_tls.http.post(
        f"{behind_tls.base}/login",
        data={"name": nurses[0], "password": PASSWORD, "csrf": token},
        headers={"X-Forwarded-Proto": "https"},
        allow_redirects=False,
        timeout=60,
    )
    assert secure.status_code == 303 and "Secure" in secure.headers["Set-Cookie"]
    assert console.post("logout").status_code == 200
    assert console.get("queue").status_code == 401


def test_csrf_is_required_on_every_change(servers, ana):
    conversation = "rest:" + sender()
    assert ana.post(f"cases/{conversation}/notes", {"text": "x"}, csrf="").status_code == 403
    assert ana.post(f"cases/{conversation}/notes", {"text": "x"}, csrf="wrong-token").status_code == 403
    foreign = ana.post("assist", {"lines": ["hi"]}, headers={"Origin": "https://evil.example"})
    assert foreign.status_code == 403
    assert ana.post("assist", {"lines": ["hi"]}).status_code == 200
    # the login form has its own token
    plain = requests.post(
        f"{ana.base}/login", data={"name": "x", "password": "y", "csrf": "made-up"}, allow_redirects=False, timeout=30
    )
    assert plain.status_code == 403


def test_repeated_failed_logins_are_slowed_and_logged(servers):
    name = unique("dee")
    assert add_nurse(servers, name).returncode == 0
    console = Console(servers)
    for _ in range(5):
        assert console.login(name, "wrong password " + uuid.uuid4().hex).status_code == 401
    slowed = console.login(name)  # the right password, too soon
    assert slowed.status_code == 429 and int(slowed.headers["Retry-After"]) >= 1
    assert "Too many failed logins" in slowed.text
    log = servers.rasa_log.read_text()
    assert "helpline login failed" in log and "helpline login slowed" in log
    time.sleep(int(slowed.headers["Retry-After"]) + 0.5)
    assert console.login(name).status_code == 303


def test_queue_order_level_then_age_with_summaries(servers, ana):
    urgent, emergency_old, request, emergency_new = (sender() for _ in range(4))
    servers.say(urgent, "I have a temperature of 38 and a headache")
    servers.say(emergency_old, "my husband is very confused and can't find his words")
    servers.say(request, "can I talk to a nurse please")
    servers.say(emergency_new, "she can't breathe properly")
    ids = ["rest:" + s for s in (emergency_old, emergency_new, urgent, request)]
    for conversation in ids:
        ana.wait_for_case(conversation)
    order = [c["conversation_id"] for c in ana.queue() if c["conversation_id"] in ids]
    assert order == ids
    entry = next(c for c in ana.queue() if c["conversation_id"] == ids[1])
    summary = entry["summary"]
    breathing = next(f for f in summary["red_flags"] if f["id"] == "breathing")
    assert breathing["status"] == "present" and breathing["words"][0]["text"] == "can't breathe"
    assert breathing["words"][0]["at"] > time.time() - 600
    assert {f["status"] for f in summary["red_flags"] if f["id"] != "breathing"} == {"not_asked"}
    assert summary["channel"] == "rest" and entry["holder"] is None
    given = [g for g in summary["given"] if g["instruction"] == "emergency"]
    assert given and given[0]["quotes"], summary["given"]
    assert summary["sbar"]["situation"].startswith("Triage level EMERGENCY")
    assert "can't breathe" in summary["sbar"]["situation"]
    request_entry = next(c for c in ana.queue() if c["conversation_id"] == ids[3])
    assert request_entry["level"] == "request" and request_entry["requested"]


def test_claim_race_one_nurse_wins(servers, ana, ben):
    conversation = "rest:" + sender()
    servers.say(conversation[5:], "he is having a seizure")
    ana.wait_for_case(conversation)
    results = {}
    barrier = threading.Barrier(2)

    def claim(console, key):
        barrier.wait()
        results[key] = console.post(f"cases/{conversation}/claim")

    threads = [threading.Thread(target=claim, args=(c, k)) for c, k in ((ana, "ana"), (ben, "ben"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(r.status_code for r in results.values())
    assert statuses == [200, 409], {k: (r.status_code, r.text) for k, r in results.items()}
    loser = next(r for r in results.values() if r.status_code == 409)
    assert "already holds" in loser.json()["error"]
    winner = next(k for k, r in results.items() if r.status_code == 200)
    case = ana.get(f"cases/{conversation}").json()
    assert case["holder"].startswith(winner)


def test_handling_silence_red_flag_and_resume(servers, ana, ben):
    who = sender()
    conversation = "rest:" + who
    servers.say(who, "can I speak to a nurse")
    ana.wait_for_case(conversation)
    assert ana.post(f"cases/{conversation}/claim").status_code == 200
    # while held: silence, and nothing the assistant would have said
    assert servers.say(who, "what are the symptoms of crs") == []
    assert servers.say(who, "I have a headache") == []
    # a red flag: the full emergency instruction at once
    messages = servers.say(who, "now she can't breathe")
    assert texts(messages).startswith("EMERGENCY: Call 999 now")
    assert payloads(messages)[0]["instruction"]["level"] == "emergency" and payloads(messages)[0]["quotes"]
    # the nurse sees it flagged
    case = None
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        case = ana.get(f"cases/{conversation}").json()
        if case["alert_at"]:
            break
        time.sleep(0.3)
    assert case["alert_at"], case
    flagged = [line for line in case["transcript"] if line.get("flag")]
    assert [line["text"] for line in flagged] == ["now she can't breathe"]
    assert case["summary"]["red_flags_during_hold"]
    # another nurse cannot resolve or reply; the holder resolves
    assert ben.post(f"cases/{conversation}/resolve").status_code == 409
    assert ben.post(f"cases/{conversation}/reply", {"text": "hello"}).status_code == 409
    assert ana.post(f"cases/{conversation}/resolve").status_code == 200
    tracker = servers.tracker(conversation)
    said = [e.get("text") for e in tracker["events"] if e["event"] == "bot"]
    assert any("A nurse from the helpline is looking after this conversation" in (t or "") for t in said)
    assert any("I am the automated assistant again" in (t or "") for t in said)
    # the assistant answers again
    after = servers.say(who, "what are the symptoms of crs")
    assert payloads(after) and payloads(after)[0]["topic"] == "symptoms"


def test_reply_by_sms_through_twilio(servers, ana):
    number = new_number()
    first = message_of(post(servers, number, "I feel really confused and cannot think"))
    assert first.startswith("EMERGENCY")
    from crs.sms_text import conversation_id
    from tests.conftest import SMS_ENV

    conversation = conversation_id(number, SMS_ENV["SMS_ID_SECRET"])
    ana.wait_for_case(conversation)
    before = len(servers.twilio.messages)
    assert ana.post(f"cases/{conversation}/claim").json()["notice"] == "sms"
    reply = ana.post(f"cases/{conversation}/reply", {"text": "Hello, this is the nurse. Have you called 999?"})
    assert reply.status_code == 200 and reply.json()["channel"] == "sms"
    sent = servers.twilio.messages[before:]
    assert [m["To"] for m in sent] == [number, number]
    assert sent[1]["Body"] == "Hello, this is the nurse. Have you called 999?"
    assert sent[1]["From"] == SMS_ENV["TWILIO_NUMBER"] and sent[1]["path"].endswith("/Accounts/ACtest/Messages.json")
    assert sent[1]["auth"].startswith("Basic ")
    # while held, a plain SMS gets no automatic reply; a red flag still does
    assert message_of(post(servers, number, "yes I called them")) == ""
    assert message_of(post(servers, number, "he is fitting now")).startswith("EMERGENCY")
    # Twilio down: the nurse is told it was not sent
    servers.twilio.fail = True
    try:
        failed = ana.post(f"cases/{conversation}/reply", {"text": "are you there?"})
    finally:
        servers.twilio.fail = False
    assert failed.status_code == 502 and "refused" in failed.json()["error"]
    assert ana.post(f"cases/{conversation}/resolve").status_code == 200
    assert servers.twilio.messages[-1]["Body"].startswith("The nurse has finished here")
    with db(servers) as conn:  # the number is kept only while the case is open, and sealed
        assert (
            conn.execute(
                "SELECT count(*) FROM helpline_reply_addresses WHERE conversation_id = ?", (conversation,)
            ).fetchone()[0]
            == 0
        )


def set_hours(servers, **changes):
    path = servers.workdir / "helpline.yml"
    config = yaml.safe_load(path.read_text())
    config.update(changes)
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    time.sleep(0.05)


def test_request_out_of_hours_and_in_hours(servers, ana):
    from datetime import date, timedelta

    path = servers.workdir / "helpline.yml"
    original = path.read_text()
    weekdays = {day: ["09:00", "17:00"] for day in ("mon", "tue", "wed", "thu", "fri")}
    today = date.today()
    set_hours(servers, open=weekdays, closed_dates=[str(today + timedelta(days=d)) for d in range(-1, 2)])
    try:
        who = sender()
        reply = texts(servers.say(who, "can I talk to a nurse please"))
        assert "The nurse helpline is closed now. It opens" in reply
        assert "call 999 now" in reply and "your treatment team's 24-hour advice line" in reply
        case = ana.wait_for_case("rest:" + who)
        assert case["level"] == "request" and case["status"] == "open"  # waits for the morning
        assert ana.get("me").json()["helpline_open"] is False
    finally:
        path.write_text(original)
    who = sender()
    messages = servers.say(who, "I'd like to speak to a real person")
    assert "I have asked a nurse from the helpline to join this conversation" in texts(messages)
    assert len(payloads(messages)) == 1 and payloads(messages)[0]["helpline"] == {"kind": "request", "open": True}
    # a red flag with the request: the emergency instruction first
    who = sender()
    messages = servers.say(who, "can I talk to a nurse, my dad can't breathe")
    assert texts(messages).startswith("EMERGENCY: Call 999 now")
    assert "join this conversation" in texts(messages)
    assert len(payloads(messages)) == 1


def test_notes_audit_and_bad_input(servers, ana):
    who = sender()
    conversation = "rest:" + who
    servers.say(who, "<b>she</b> has a rash and a <script>alert(1)</script> fever of 38.2")
    ana.wait_for_case(conversation)
    html_note = "<img src=x onerror=alert(1)> called the ward"
    assert ana.post(f"cases/{conversation}/notes", {"text": html_note}).status_code == 200
    too_long = ana.post(f"cases/{conversation}/notes", {"text": "x" * 5000})
    assert too_long.status_code == 413 and "nothing was saved" in too_long.json()["error"]
    assert ana.post(f"cases/{conversation}/notes", {"text": "   "}).status_code == 400
    assert ana.post(f"cases/{conversation}/notes", {"text": "ünïcødé ✓ 体温"}).status_code == 200
    case = ana.get(f"cases/{conversation}").json()
    assert [n["text"] for n in case["notes"]] == [html_note, "ünïcødé ✓ 体温"]
    assert any("<script>" in line["text"] for line in case["transcript"])  # as written, shown as text
    assert ana.post(f"cases/{conversation}/claim").status_code == 200
    nurse = ana.get(f"cases/{conversation}").json()["holder"]
    # the session expires mid-reply: refused, nothing sent, the nurse logs in again and sends it
    with db(servers) as conn:
        conn.execute("UPDATE helpline_sessions SET last_seen = last_seen - 7200")
    expired = ana.post(f"cases/{conversation}/reply", {"text": "draft kept"})
    assert expired.status_code == 401
    assert not [e for e in servers.tracker(conversation)["events"] if e.get("text") == "draft kept"]
    # the conversation disappears ("forget me")
    servers.say(who, "forget me")
    servers.say(who, "yes")
    again = Console(servers)
    assert again.login(nurse).status_code == 303
    gone = again.wait_for_case(conversation, gone=True)
    assert gone["transcript"] == []
    assert again.post(f"cases/{conversation}/reply", {"text": "hello?"}).status_code == 410
    assert again.post(f"cases/{conversation}/resolve").status_code == 200
    # the audit log: who, what, when, append-only
    entries = again.get("audit", params={"conversation": conversation}).json()["entries"]
    actions = [e["action"] for e in reversed(entries)]
    assert actions[:4] == ["note", "note", "claim", "resolve"], actions
    assert all(e["nurse"] == nurse and e["at"] > time.time() - 600 for e in entries)
    with db(servers) as conn:
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute("DELETE FROM helpline_audit")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute("UPDATE helpline_audit SET nurse = 'someone else'")


def test_assist_mode_and_triage_log(servers, ana):
    result = ana.post("assist", {"lines": ["she's very drowsy and hard to wake", "no fever"]}).json()
    assert result["level"] == "emergency"
    assert result["instruction"] == "Call 999 now, or go to A&E straight away."
    assert "drowsiness" in [f["rule"] for f in result["findings"]]
    checklist = [item["id"] for item in result["checklist"]]
    assert "drowsiness" not in checklist and "breathing" in checklist
    assert result["passages"] and all(p["title"] and p["last_reviewed"] and p["passage_id"] for p in result["passages"])
    who = sender()
    servers.say(who, "can I talk to a nurse")
    ana.wait_for_case("rest:" + who)
    saved = ana.post(
        f"cases/rest:{who}/triage-log", {"lines": ["she's very drowsy and hard to wake"], "asked": ["breathing"]}
    )
    assert saved.status_code == 200 and saved.json()["kind"] == "triage_log"
    assert "Rules fired: drowsiness" in saved.json()["text"] and "Asked about: breathing" in saved.json()["text"]


def test_live_queue_stream(servers, ana):
    with ana.http.get(f"{ana.base}/api/stream", stream=True, timeout=60) as stream:
        assert stream.headers["Content-Type"].startswith("text/event-stream")
        lines = stream.iter_lines(decode_unicode=True)
        assert next(lines).startswith("retry:")
        who = sender()
        servers.say(who, "he's having a fit")
        deadline = time.monotonic() + 30
        for line in lines:
            if line.startswith("data:") and f"rest:{who}" in line:
                break
            assert time.monotonic() < deadline
