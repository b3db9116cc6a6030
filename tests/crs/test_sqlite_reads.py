"""crs.sqlite_reads (issue 13, part D): one-value reads on a kept sqlite3 connection give what
SQLAlchemy's ``scalar()`` gives, and see every commit of other connections and processes."""

from __future__ import annotations

import subprocess
import sys
import threading

import sqlalchemy as sa

from crs.sqlite_reads import KeptReads

NEWEST = sa.text("SELECT max(id) FROM events WHERE sender_id = :sender")
DATA = sa.text("SELECT data FROM events WHERE sender_id = :sender AND id = :id")


def _engine(path):
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as db:
        db.execute(sa.text("PRAGMA journal_mode=WAL"))
        db.execute(sa.text("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id TEXT, data TEXT)"))
    return engine


def _sqlalchemy(engine, clause, params):
    with engine.connect() as db:
        return db.execute(clause, params).scalar()


def test_kept_reads_give_sqlalchemys_values_and_see_other_writers(tmp_path):
    path = tmp_path / "t.db"
    engine = _engine(path)
    reads = KeptReads(engine)
    assert reads.path == str(path)
    for sender in ("a", "b"):
        assert reads.scalar(NEWEST, {"sender": sender}) is None == _sqlalchemy(engine, NEWEST, {"sender": sender})
    with engine.begin() as db:
        for i in range(5):
            db.execute(sa.text("INSERT INTO events (sender_id, data) VALUES (:s, :d)"), {"s": "a", "d": f"x{i}"})
    for clause, params in ((NEWEST, {"sender": "a"}), (NEWEST, {"sender": "b"}), (DATA, {"sender": "a", "id": 3})):
        assert reads.scalar(clause, params) == _sqlalchemy(engine, clause, params)
    assert reads.scalar(NEWEST, {"sender": "a"}) == 5
    # another process writes, then deletes: the kept connection sees each commit at once
    script = (
        "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]);"
        "c.execute(\"INSERT INTO events (sender_id, data) VALUES ('a', 'y')\"); c.commit()"
    )
    subprocess.run([sys.executable, "-c", script, str(path)], check=True)
    assert reads.scalar(NEWEST, {"sender": "a"}) == 6 == _sqlalchemy(engine, NEWEST, {"sender": "a"})
    script = "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute('DELETE FROM events'); c.commit()"
    subprocess.run([sys.executable, "-c", script, str(path)], check=True)
    assert reads.scalar(NEWEST, {"sender": "a"}) is None
    # one connection per thread (sqlite3 connections stay in the thread that made them)
    found = []
    thread = threading.Thread(target=lambda: found.append(reads.scalar(NEWEST, {"sender": "a"})))
    thread.start()
    thread.join()
    assert found == [None]


def test_other_databases_go_through_sqlalchemy(tmp_path):
    memory = sa.create_engine("sqlite://")
    assert KeptReads(memory).path is None
    with memory.begin() as db:
        db.execute(sa.text("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id TEXT, data TEXT)"))
        db.execute(sa.text("INSERT INTO events (sender_id, data) VALUES ('a', 'x')"))
    assert KeptReads(memory).scalar(NEWEST, {"sender": "a"}) == 1
