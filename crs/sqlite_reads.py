"""One-value reads asked on every turn, on a SQLite file through a connection kept per thread
(issue 13, part D).

The nurse-holder check and the tracker cache's newest-event check are single indexed lookups,
asked on every turn; through SQLAlchemy (a pooled connection checked out and returned, a result
object built) each cost about twice the query itself. ``KeptReads.scalar`` runs the same SQL
text on a plain ``sqlite3`` connection that the calling thread keeps: SQLite's own ``:name``
parameters, the first column of the first row or None, as SQLAlchemy's ``scalar()`` gives for a
text query. Outside a transaction every statement reads the latest commit, as the pooled
connections do (Python's ``sqlite3`` begins transactions only before writes). Any other database
(PostgreSQL in the cluster) and an in-memory SQLite go through SQLAlchemy as before."""

from __future__ import annotations

import sqlite3
import threading
from typing import Any, Dict


class KeptReads:
    def __init__(self, engine: Any) -> None:
        self.engine = engine
        database = engine.url.database if engine.dialect.name == "sqlite" else None
        self.path = database if database and database != ":memory:" and not database.startswith("file:") else None
        self._local = threading.local()

    def scalar(self, clause: Any, params: Dict[str, Any]) -> Any:
        if self.path is None:
            with self.engine.connect() as db:
                return db.execute(clause, params).scalar()
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._local.connection = sqlite3.connect(self.path)
        row = connection.execute(str(clause), params).fetchone()
        return row[0] if row else None
