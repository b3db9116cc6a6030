"""The cluster configuration under a fault (issue 13): `scripts/cluster.py` (what `make cluster`
runs) starts two Rasa replicas and two action servers behind nginx, with a private PostgreSQL
tracker store and Redis lock store; a bounded load runs through nginx and one Rasa replica is
killed (SIGKILL) in the middle of it.

Checked: every message gets a reply, or a clean retryable error (502/503/504) after which the
client sends it again with the same message_id; every red-flag message gets the emergency
instruction; in the tracker store (PostgreSQL) every message is stored exactly once, no turn of
a conversation overlaps another one (turns sent at once by one person included, which reach
different replicas); and a widget (socket.io) conversation works through nginx, every request of
its session reaching one replica.

PostgreSQL, Redis and nginx are Debian packages that `make test` installs (make cluster-deps);
without them the module is skipped with a warning that says so."""

from __future__ import annotations

import asyncio
import glob
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
import warnings
from collections import defaultdict
from pathlib import Path
from typing import Dict, Iterator, List

import pytest

from tests.conftest import ENV, ROOT, ensure_model, free_port

pytestmark = pytest.mark.rasa

CONVERSATIONS = 24  # people at once: 20 talk turn by turn, 4 send bursts of messages at once
TURNS = 5
CONCURRENCY = 10
KILL_AFTER = 0.35  # share of the messages answered before a replica is killed

QUESTIONS = [
    "what is CRS?",
    "how is cytokine release syndrome treated?",
    "what does tocilizumab do",
    "how long after CAR-T can CRS happen?",
    "can I drive after my treatment",
]
RED_FLAGS = [
    "my husband can't breathe properly",
    "my dad has a fever of 39 and is confused",
    "she had a seizure a few minutes ago",
    "he is very drowsy and I can't wake him",
]
OTHERS = ["yes", "no", "hello", "thanks", "I feel a bit tired today"]


def missing_packages() -> List[str]:
    missing = []
    if not (shutil.which("initdb") or glob.glob("/usr/lib/postgresql/*/bin/initdb")):
        missing.append("postgresql")
    if not shutil.which("redis-server"):
        missing.append("redis-server")
    if not (shutil.which("nginx") or os.path.exists("/usr/sbin/nginx")):
        missing.append("nginx")
    return missing


class Cluster:
    def __init__(self, workdir: Path) -> None:
        self.dir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **{k: v for k, v in ENV.items() if not k.startswith(("DB_", "REDIS_", "CLUSTER_"))},
            "CLUSTER_DIR": str(workdir),
            "CLUSTER_PORT": str(self.port),
            "CLUSTER_PURGE": "1",
            "CLUSTER_RESTART": "0",  # the killed replica stays dead for the rest of the test
            "CLUSTER_REPLICAS": "2",
            "CLUSTER_ACTION_REPLICAS": "2",
        }

    def run(self, command: str, timeout: float) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "cluster.py"), command],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def state(self) -> Dict:
        return json.loads((self.dir / "state.json").read_text())

    def query(self, sql: str, *params: object) -> List[tuple]:
        import psycopg2

        env = self.state()["env"]
        connection = psycopg2.connect(
            host=env["DB_HOST"],
            port=env["DB_PORT"],
            user=env["DB_USER"],
            password=env["DB_PASSWORD"],
            dbname=env["DB_DATABASE"],
        )
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall()
        finally:
            connection.close()

    def logs(self) -> str:
        paths = sorted(self.dir.glob("*.log")) + [self.dir / "nginx" / "error.log"]
        return "\n".join(path.read_text(errors="replace") for path in paths if path.exists())


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> Iterator[Cluster]:
    missing = missing_packages()
    if missing:
        message = (
            f"THE CLUSTER FAULT TEST IS SKIPPED: {', '.join(missing)} not installed "
            f"(make test installs them as root: make cluster-deps; or apt-get install {' '.join(missing)})"
        )
        warnings.warn(message, stacklevel=2)
        print("\n" + "*" * 20 + " " + message, file=sys.stderr)
        pytest.skip(message)
    ensure_model()
    running = Cluster(tmp_path_factory.mktemp("cluster"))
    try:
        started = running.run("start", timeout=600)
        assert started.returncode == 0, started.stdout + started.stderr + running.logs()
        assert running.url in started.stdout
        yield running
    finally:
        stopped = running.run("stop", timeout=180)
        assert stopped.returncode == 0, stopped.stdout + stopped.stderr


def test_each_process_has_a_health_endpoint_and_nginx_spreads_the_load(cluster: Cluster) -> None:
    import requests

    state = cluster.state()
    for process in state["rasa"]:
        response = requests.get(f"http://127.0.0.1:{process['port']}/webhooks/rest/health", timeout=10)
        body = response.json()
        assert response.status_code == 200 and body["status"] == "ok", body
        assert body["tracker_store"] == "ok" and body["lock_store"] == "ok", body
    for process in state["actions"]:
        assert requests.get(f"http://127.0.0.1:{process['port']}/health", timeout=10).ok
    for i in range(6):
        response = requests.post(
            f"{cluster.url}/webhooks/rest/webhook", json={"sender": f"spread{i}", "message": "hello"}, timeout=60
        )
        assert response.ok and response.json()
    upstreams = re.findall(
        r"POST /webhooks/rest/webhook sid=\S* upstream=(\S+)", (cluster.dir / "nginx" / "access.log").read_text()
    )
    assert {f"127.0.0.1:{p['port']}" for p in state["rasa"]} <= set(upstreams)


def widget_session(url: str) -> tuple:
    """A polling-only socket.io client of the widget at ``url`` with its session: (client, the
    events it received as (kind, data), the signed session token). Polling only: every poll is a
    request of its own, which must reach the replica holding the session."""
    import socketio

    events: List = []
    client = socketio.Client()
    client.on("session_confirm", lambda token: events.append(("session", token)))
    client.on("bot_uttered", lambda data: events.append(("bot", data)))
    client.connect(url, transports=["polling"], socketio_path="/socket.io")
    client.emit("session_request", {})
    deadline = time.monotonic() + 30
    while not events and time.monotonic() < deadline:
        time.sleep(0.1)
    if not (events and events[0][0] == "session"):
        client.disconnect()
        raise AssertionError(f"no widget session from {url}: {events}")
    return client, events, events[0][1]


def test_a_widget_conversation_works_through_nginx_with_sticky_sessions(cluster: Cluster) -> None:
    # every poll must reach the replica holding the session (without sticky sessions about half
    # of them would not)
    client, events, token = widget_session(cluster.url)
    try:
        for text, expect in [("what is CRS?", None), ("my mum can't breathe", "emergency"), ("thanks", None)]:
            before = len(events)
            client.emit("user_uttered", {"message": text, "session_id": token})
            deadline = time.monotonic() + 60
            levels: List[str] = []
            while time.monotonic() < deadline:
                new = [data for kind, data in events[before:] if kind == "bot"]
                levels = [d["custom"].get("triage", {}).get("level") for d in new if isinstance(d.get("custom"), dict)]
                if levels:
                    break
                time.sleep(0.1)
            assert levels, f"no reply with a payload to {text!r}"
            if expect:
                assert expect in levels
        sid = client.eio.sid
    finally:
        client.disconnect()
    log = (cluster.dir / "nginx" / "access.log").read_text()
    session = re.findall(rf"/socket.io/ sid={re.escape(sid)} upstream=(\S+)", log)
    assert len(session) >= 6
    assert len(set(session)) == 1, f"the socket.io session reached several replicas: {set(session)}"


def test_the_widget_in_a_browser_works_through_nginx(cluster: Cluster) -> None:
    """Chromium on the demo page served through nginx: socket.io (polling, then the websocket
    upgrade) reaches one replica, a red flag gets the emergency banner, and a reload resumes the
    conversation."""
    from tests.e2e.test_widget_browser import ARGS, CHROMIUM, ask, open_chat, widget

    playwright_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: run `make browser` (apt-get install chromium)")
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
            errors: List[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(f"{cluster.url}/webhooks/widget/demo.html")
            open_chat(page)
            ask(page, "my wife can't breathe")
            widget(page).locator(".banner").wait_for(state="visible", timeout=60000)
            assert widget(page).locator(".banner a").get_attribute("href") == "tel:999"
            page.reload()
            widget(page).locator(".msg.user", has_text="can't breathe").first.wait_for(timeout=60000)
            assert not errors, errors
        finally:
            browser.close()
    log = (cluster.dir / "nginx" / "access.log").read_text()
    assert re.search(r" 101 GET /socket.io/ ", log), "no websocket upgrade through nginx"


def test_forget_me_is_confirmed_on_another_replica(cluster: Cluster) -> None:
    """ "forget me" asked on one replica and confirmed on the other: the conversation is deleted
    from PostgreSQL (the pending confirmation is kept in Redis)."""
    import requests

    first, second = (f"http://127.0.0.1:{p['port']}/webhooks/rest/webhook" for p in cluster.state()["rasa"])
    sender = f"forget{int(time.time())}"

    def say(url: str, text: str) -> str:
        response = requests.post(url, json={"sender": sender, "message": text}, timeout=60)
        response.raise_for_status()
        return "\n".join(m.get("text") or "" for m in response.json())

    say(first, "what is CRS?")
    assert "Reply YES" in say(first, "forget me")
    assert cluster.query("SELECT count(*) FROM events WHERE sender_id = %s", f"rest:{sender}")[0][0] > 0
    assert "deleted" in say(second, "yes")
    assert cluster.query("SELECT count(*) FROM events WHERE sender_id = %s", f"rest:{sender}")[0][0] == 0


def script(index: int, rng: random.Random) -> List[str]:
    turns = []
    for turn in range(TURNS):
        if (index + turn) % 3 == 0:
            turns.append(rng.choice(RED_FLAGS))
        elif turn % 2:
            turns.append(rng.choice(QUESTIONS))
        else:
            turns.append(rng.choice(OTHERS + QUESTIONS))
    return turns


def test_a_nurses_reply_reaches_the_widget_on_another_replica(cluster: Cluster) -> None:
    """Issue 12 in the cluster: the person's socket is on replica 1, the nurse works on replica 2;
    the reply goes through Redis to the replica holding the socket (components.widget_channel)."""
    from tests.e2e.helpline_client import PASSWORD, Console, unique

    state = cluster.state()
    first, second = (f"http://127.0.0.1:{replica['port']}" for replica in state["rasa"][:2])
    nurse = unique("nurse")
    added = subprocess.run(
        [
            "make",
            "--no-print-directory",
            "nurse-add",
            f"NURSE={nurse}",
            f"ENDPOINTS={ROOT / 'cluster' / 'endpoints.yml'}",
        ],
        cwd=ROOT,
        env={**cluster.env, **state["env"], "NURSE_PASSWORD": PASSWORD},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert added.returncode == 0, added.stdout + added.stderr

    client, events, token = widget_session(first)  # replica 1 only
    try:
        client.emit("user_uttered", {"message": "my husband can't breathe", "session_id": token})
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(kind == "bot" for kind, _ in events):
            time.sleep(0.1)
        conversation = f"widget:{token.split('.')[0]}"

        class OnSecond:
            rasa_url = second

        console = Console(OnSecond())
        assert console.login(nurse).status_code == 303
        console.wait_for_case(conversation, seconds=30)
        assert console.post(f"cases/{conversation}/claim").status_code == 200
        text = "This is the helpline nurse. Have you called 999?"
        assert console.post(f"cases/{conversation}/reply", {"text": text}).status_code == 200
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any(
            kind == "bot" and data.get("text") == text for kind, data in events
        ):
            time.sleep(0.1)
        assert any(kind == "bot" and data.get("text") == text for kind, data in events), events[-3:]
        assert console.post(f"cases/{conversation}/resolve").status_code == 200
    finally:
        client.disconnect()


def test_nothing_is_lost_or_duplicated_when_a_replica_is_killed_under_load(cluster: Cluster) -> None:
    import aiohttp

    rng = random.Random(13)
    run = f"f{int(time.time())}"
    scripts = {f"{run}c{i}": script(i, rng) for i in range(CONVERSATIONS)}
    bursts = set(list(scripts)[:4])  # these send all their messages at once
    total = sum(len(s) for s in scripts.values())
    answered = 0
    statuses: Dict[str, List[object]] = defaultdict(list)
    replies: Dict[str, List[Dict]] = {}
    killed: Dict[str, object] = {}
    victim = cluster.state()["rasa"][0]

    async def send(session: aiohttp.ClientSession, sender: str, turn: int, text: str) -> None:
        nonlocal answered
        message_id = f"{sender}m{turn}"
        deadline = time.monotonic() + 120
        while True:
            try:
                async with session.post(
                    f"{cluster.url}/webhooks/rest/webhook",
                    json={"sender": sender, "message": text, "message_id": message_id},
                    timeout=aiohttp.ClientTimeout(total=90),
                ) as response:
                    statuses[message_id].append(response.status)
                    if response.status == 200:
                        replies[message_id] = await response.json()
                        break
                    assert response.status in (502, 503, 504), f"{response.status}: {await response.text()}"
            except (aiohttp.ClientConnectionError, asyncio.TimeoutError) as error:
                statuses[message_id].append(type(error).__name__)
            assert time.monotonic() < deadline, f"{message_id} got no reply: {statuses[message_id]}"
            await asyncio.sleep(0.5)  # a clean retryable error: the same message again
        answered += 1
        if answered >= KILL_AFTER * total and not killed:
            killed["at"] = answered
            os.killpg(victim["pid"], signal.SIGKILL)

    async def converse(session: aiohttp.ClientSession, limit: asyncio.Semaphore, sender: str) -> None:
        async with limit:
            if sender in bursts:
                await asyncio.gather(*(send(session, sender, t, text) for t, text in enumerate(scripts[sender])))
            else:
                for turn, text in enumerate(scripts[sender]):
                    await send(session, sender, turn, text)

    async def load() -> None:
        limit = asyncio.Semaphore(CONCURRENCY)
        async with aiohttp.ClientSession() as session:
            await asyncio.gather(*(converse(session, limit, sender) for sender in scripts))

    started = time.monotonic()
    asyncio.run(load())
    elapsed = time.monotonic() - started
    retried = {m: s for m, s in statuses.items() if len(s) > 1}
    print(
        f"\ncluster fault test: {total} messages in {elapsed:.0f} s, replica killed after {killed.get('at')}, retried: {retried}"
    )

    # the replica was killed mid-load, and every message got its reply in the end
    assert killed, "the replica was never killed"
    victim_pid = victim["pid"]
    assert (
        not Path(f"/proc/{victim_pid}").exists()
        or "Z" in Path(f"/proc/{victim_pid}/stat").read_text().split(") ")[1][:1]
    )
    assert len(replies) == total
    for sender, turns in scripts.items():
        for turn, text in enumerate(turns):
            messages = replies[f"{sender}m{turn}"]
            assert messages, f"{sender} turn {turn}: an empty reply"
            levels = [m["custom"].get("triage", {}).get("level") for m in messages if isinstance(m.get("custom"), dict)]
            assert len(levels) == 1, f"{sender} turn {turn} ({text!r}): {len(levels)} payloads"
            if text in RED_FLAGS:  # the red-flag reply is never the one lost
                assert levels == ["emergency"], f"{text!r} got {levels}"
                assert "999" in " ".join(m.get("text", "") for m in messages)

    # the tracker store: each message exactly once, turns one after the other
    rows = cluster.query(
        "SELECT sender_id, type_name, action_name, timestamp, data FROM events WHERE sender_id LIKE %s ORDER BY id",
        f"rest:{run}c%",
    )
    events: Dict[str, List[tuple]] = defaultdict(list)
    for sender_id, type_name, action_name, timestamp, data in rows:
        events[sender_id[len("rest:") :]].append((type_name, action_name, timestamp, json.loads(data)))
    for sender, turns in scripts.items():
        stored = events[sender]
        user = [data.get("message_id") for kind, _, _, data in stored if kind == "user"]
        expected = [f"{sender}m{t}" for t in range(len(turns))]
        if sender in bursts:
            assert sorted(user) == sorted(expected), f"{sender}: stored {user}"
        else:
            assert user == expected, f"{sender}: stored {user}"
        # every turn: the user's message, at least one bot message, and action_listen at its end,
        # before the next message starts (two replicas running one conversation would interleave)
        turn_events: List[List[tuple]] = []
        for event in stored:
            if event[0] == "user":
                turn_events.append([event])
            elif turn_events:
                turn_events[-1].append(event)
        assert len(turn_events) == len(turns)
        for index, turn in enumerate(turn_events):
            kinds = [kind for kind, _, _, _ in turn]
            assert "bot" in kinds, f"{sender} turn {index}: no bot message stored"
            assert turn[-1][:2] == ("action", "action_listen"), f"{sender} turn {index} ends with {turn[-1][:2]}"
            assert kinds.count("user") == 1
            if index + 1 < len(turn_events):
                assert max(e[2] for e in turn) <= turn_events[index + 1][0][2], (
                    f"{sender}: turns {index} and {index + 1} overlap"
                )
        keys = [(kind, action, stamp, json.dumps(data, sort_keys=True)) for kind, action, stamp, data in stored]
        assert len(keys) == len(set(keys)), f"{sender}: an event stored twice"

    # the lock store never lost a lock, no turn failed (the apology) and no action server call
    # failed on the way through nginx
    logs = cluster.logs()
    for failure in ("lock lost", "LockError", "turn failed", "Failed to run custom action", "[crit]", "[alert]"):
        assert failure not in logs, failure


def test_a_message_sent_again_with_its_message_id_is_answered_once(cluster: Cluster) -> None:
    """The retry of a message whose answer was lost (sent twice at once, and once more after):
    the same replies each time, and one turn in the tracker store, whichever replicas took them."""
    import aiohttp

    sender = f"again{int(time.time())}"
    body = {"sender": sender, "message": "my dad has a fever of 39 and is confused", "message_id": "once1"}

    async def post(session: aiohttp.ClientSession) -> List[Dict]:
        async with session.post(f"{cluster.url}/webhooks/rest/webhook", json=body) as response:
            assert response.status == 200
            return await response.json()

    async def run() -> List[List[Dict]]:
        async with aiohttp.ClientSession() as session:
            first = await asyncio.gather(post(session), post(session))
            return [*first, await post(session), await post(session)]

    answers = asyncio.run(run())
    assert answers[0] and all(answer == answers[0] for answer in answers)
    assert any(m.get("custom", {}).get("triage", {}).get("level") == "emergency" for m in answers[0])
    rows = cluster.query(
        "SELECT type_name, data FROM events WHERE sender_id = %s AND type_name = 'user'", f"rest:{sender}"
    )
    assert [json.loads(data)["message_id"] for _, data in rows] == ["once1"]


MIGRATE = """
import sys, time
import sqlalchemy as sa
from crs.helpline.schema import migrate
engine = sa.create_engine(sys.argv[1])
while time.time() < float(sys.argv[2]):
    time.sleep(0.001)
migrate(engine)
"""


def test_replicas_starting_together_migrate_the_console_tables_once(cluster: Cluster) -> None:
    """Replicas that start at the same moment (Kubernetes, a restart of the cluster) each bring
    the console's tables to the newest migration: on a new, empty database four processes do it
    at once, and every one succeeds (they take turns; without the lock, PostgreSQL refuses all but
    one with a duplicate key in its catalogue and that replica never starts serving)."""
    import psycopg2

    env = cluster.state()["env"]
    database = f"race{int(time.time() * 1000)}"
    admin = psycopg2.connect(
        host=env["DB_HOST"],
        port=env["DB_PORT"],
        user=env["DB_USER"],
        password=env["DB_PASSWORD"],
        dbname=env["DB_DATABASE"],
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE {database}")
    admin.close()
    url = f"postgresql://{env['DB_USER']}:{env['DB_PASSWORD']}@{env['DB_HOST']}:{env['DB_PORT']}/{database}"
    at = time.time() + 8  # all four start migrating at this moment, once their imports are done
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", MIGRATE, url, str(at)],
            cwd=ROOT,
            env={**ENV, "SQLALCHEMY_SILENCE_UBER_WARNING": "1"},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(4)
    ]
    outputs = [run.communicate(timeout=120)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0, 0, 0], "\n".join(outputs)
    connection = psycopg2.connect(
        host=env["DB_HOST"], port=env["DB_PORT"], user=env["DB_USER"], password=env["DB_PASSWORD"], dbname=database
    )
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM helpline_alembic_version")
            assert cursor.fetchone() == (1,)
            cursor.execute("SELECT count(*) FROM information_schema.tables WHERE table_name LIKE 'helpline_%%'")
            assert cursor.fetchone()[0] >= 5
    finally:
        connection.close()
