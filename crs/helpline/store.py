"""The console's data in the tracker store's database (SQLAlchemy 1.4 Core; tables from the
migrations in ``schema``): nurses, sessions, failed logins, cases, notes, the append-only audit
log, and sealed SMS reply addresses. It also reads the tracker store's own ``events`` table."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from typing import Any, Dict, List, Tuple

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from crs.helpline import auth
from crs.helpline.cases import Derived, derive
from crs.helpline.schema import audit, cases, login_failures, notes, nurses, reply_addresses, sessions
from crs.sqlite_reads import KeptReads

MAX_NOTE = 4000

# the tracker store's table, as Rasa's SQLTrackerStore creates it
events = sa.table(
    "events",
    sa.column("id", sa.Integer),
    sa.column("sender_id", sa.String),
    sa.column("type_name", sa.String),
    sa.column("timestamp", sa.Float),
    sa.column("data", sa.Text),
)


def db_url(
    dialect: str = "sqlite",
    db: str = "rasa.db",
    host: str | None = None,
    port: int | None = None,
    login: str | None = None,
    password: str | None = None,
    url: str | None = None,
    username: str | None = None,
    **_: Any,
) -> str:
    """The SQLAlchemy URL of a tracker store configured as Rasa's SQLTrackerStore is (endpoints.yml
    names the host ``url`` and the user ``username``, as Rasa's own configuration does)."""
    if dialect == "sqlite":
        return f"sqlite:///{db}"
    host, login = host or url, login or username
    return str(sa.engine.url.URL.create(dialect, login, password, host, int(port) if port else None, db))


class Sealer:
    """Phone numbers kept for replies only, sealed with a key derived from SMS_ID_SECRET (AES-GCM)."""

    def __init__(self, secret: str) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self.aead = AESGCM(hashlib.sha256(b"helpline-reply-address:" + secret.encode()).digest())

    def seal(self, conversation_id: str, number: str) -> str:
        import os

        nonce = os.urandom(12)
        sealed = self.aead.encrypt(nonce, number.encode(), conversation_id.encode())
        return base64.urlsafe_b64encode(nonce + sealed).decode()

    def open(self, conversation_id: str, sealed: str) -> str:
        raw = base64.urlsafe_b64decode(sealed.encode())
        return self.aead.decrypt(raw[:12], raw[12:], conversation_id.encode()).decode()


class HelplineStore:
    def __init__(self, engine: sa.engine.Engine) -> None:
        self.engine = engine
        self.reads = KeptReads(engine)

    # -- nurses and sessions ---------------------------------------------------------------
    def add_nurse(self, name: str, password: str, now: float | None = None) -> bool:
        """Create or replace a nurse's password; True if the account is new."""
        digest = auth.hash_password(password)
        with self.engine.begin() as db:
            found = db.execute(sa.select(nurses.c.id).where(nurses.c.name == name)).first()
            if found:
                db.execute(nurses.update().where(nurses.c.name == name).values(password_hash=digest))
                db.execute(sessions.delete().where(sessions.c.nurse == name))
                return False
            db.execute(nurses.insert().values(name=name, password_hash=digest, created_at=now or time.time()))
            return True

    def password_hash(self, name: str) -> str | None:
        with self.engine.connect() as db:
            return db.execute(sa.select(nurses.c.password_hash).where(nurses.c.name == name)).scalar()

    def check_login(self, name: str, password: str) -> bool:
        return auth.verify_password(self.password_hash(name), password)

    def failures(self, name: str, address: str, now: float) -> Dict[str, Tuple[int, float | None]]:
        """Recent failed logins for this name and from this address: (count, last)."""
        since = now - auth.FAILURE_WINDOW
        counts = {}
        with self.engine.connect() as db:
            for key, column, value in (
                ("name", login_failures.c.name, name),
                ("address", login_failures.c.address, address),
            ):
                row = db.execute(
                    sa.select(sa.func.count(), sa.func.max(login_failures.c.at)).where(
                        column == value, login_failures.c.at > since
                    )
                ).first()
                counts[key] = (row[0] or 0, row[1])
        return counts

    def record_failure(self, name: str, address: str, now: float) -> None:
        with self.engine.begin() as db:
            db.execute(login_failures.insert().values(name=name[:64], address=address[:64], at=now))
            db.execute(login_failures.delete().where(login_failures.c.at < now - 24 * 3600))

    def clear_failures(self, name: str) -> None:
        with self.engine.begin() as db:
            db.execute(login_failures.delete().where(login_failures.c.name == name))

    def open_session(self, name: str, now: float) -> Tuple[str, str]:
        token, csrf = auth.new_token(), auth.new_token()
        with self.engine.begin() as db:
            db.execute(
                sessions.insert().values(
                    token_hash=auth.token_hash(token), nurse=name, csrf=csrf, created_at=now, last_seen=now
                )
            )
        return token, csrf

    def session(self, token: str | None, now: float) -> Dict[str, str] | None:
        """The nurse and CSRF token of a live session (its idle clock restarts), else None."""
        if not token:
            return None
        key = auth.token_hash(token)
        with self.engine.begin() as db:
            row = db.execute(sa.select(sessions).where(sessions.c.token_hash == key)).first()
            if row is None:
                return None
            if now - row.last_seen > auth.SESSION_IDLE_SECONDS or now - row.created_at > auth.SESSION_MAX_SECONDS:
                db.execute(sessions.delete().where(sessions.c.token_hash == key))
                return None
            db.execute(sessions.update().where(sessions.c.token_hash == key).values(last_seen=now))
            return {"nurse": row.nurse, "csrf": row.csrf}

    def close_session(self, token: str | None) -> None:
        if token:
            with self.engine.begin() as db:
                db.execute(sessions.delete().where(sessions.c.token_hash == auth.token_hash(token)))

    # -- audit -------------------------------------------------------------------------------
    def audit(self, nurse: str, action: str, conversation_id: str | None = None, **detail: Any) -> None:
        with self.engine.begin() as db:
            db.execute(
                audit.insert().values(
                    at=time.time(),
                    nurse=nurse[:64],
                    action=action,
                    conversation_id=conversation_id,
                    detail=json.dumps(detail, ensure_ascii=False) if detail else None,
                )
            )

    def audit_log(self, conversation_id: str | None = None, limit: int = 200) -> List[Dict[str, Any]]:
        query = sa.select(audit).order_by(audit.c.id.desc()).limit(limit)
        if conversation_id:
            query = query.where(audit.c.conversation_id == conversation_id)
        with self.engine.connect() as db:
            return [
                {**dict(row._mapping), "detail": json.loads(row.detail) if row.detail else {}}
                for row in db.execute(query)
            ]

    # -- the tracker store's events ----------------------------------------------------------
    def event_marks(self) -> Tuple[int, int]:
        """The newest event id and the number of events (a drop means events were deleted)."""
        with self.engine.connect() as db:
            row = db.execute(sa.select(sa.func.max(events.c.id), sa.func.count(events.c.id))).first()
        return int(row[0] or 0), int(row[1] or 0)

    def changed_conversations(self, after_id: int) -> Tuple[List[str], int]:
        with self.engine.connect() as db:
            rows = db.execute(
                sa.select(events.c.sender_id, sa.func.max(events.c.id))
                .where(events.c.id > after_id)
                .group_by(events.c.sender_id)
            ).all()
        newest = max((row[1] for row in rows), default=after_id)
        return [row[0] for row in rows], newest

    def events_after(self, after_id: int, limit: int = 2000) -> List[Tuple[int, str, Dict[str, Any]]]:
        """Up to ``limit`` events stored after ``after_id``, in the order stored: (id, conversation,
        event) (an event that is not JSON comes as an empty dict)."""
        with self.engine.connect() as db:
            rows = db.execute(
                sa.select(events.c.id, events.c.sender_id, events.c.data)
                .where(events.c.id > after_id)
                .order_by(events.c.id)
                .limit(limit)
            ).all()
        found = []
        for event_id, sender_id, data in rows:
            try:
                event = json.loads(data)
            except (TypeError, ValueError):
                event = {}
            found.append((int(event_id), sender_id, event if isinstance(event, dict) else {}))
        return found

    def with_cases(self, conversation_ids: List[str]) -> set:
        """Which of these conversations have a case (open or resolved)."""
        if not conversation_ids:
            return set()
        with self.engine.connect() as db:
            rows = db.execute(sa.select(cases.c.conversation_id).where(cases.c.conversation_id.in_(conversation_ids)))
            return {row[0] for row in rows}

    def conversation_events(self, conversation_id: str) -> List[Dict[str, Any]]:
        with self.engine.connect() as db:
            rows = db.execute(
                sa.select(events.c.data).where(events.c.sender_id == conversation_id).order_by(events.c.id)
            ).all()
        found = []
        for (data,) in rows:
            try:
                found.append(json.loads(data))
            except (TypeError, ValueError):
                continue
        return found

    def existing(self, conversation_ids: List[str]) -> set:
        if not conversation_ids:
            return set()
        with self.engine.connect() as db:
            rows = db.execute(
                sa.select(events.c.sender_id).where(events.c.sender_id.in_(conversation_ids)).distinct()
            ).all()
        return {row[0] for row in rows}

    def vanished_open_cases(self) -> List[str]:
        """Open cases (not yet marked gone) whose conversation has no event left: one anti-join
        in the database, instead of reading every open case and looking their events up."""
        query = sa.select(cases.c.conversation_id).where(
            cases.c.status == "open",
            cases.c.gone == sa.false(),
            ~sa.exists(sa.select(events.c.id).where(events.c.sender_id == cases.c.conversation_id)),
        )
        with self.engine.connect() as db:
            return [row[0] for row in db.execute(query)]

    # -- cases -------------------------------------------------------------------------------
    def case(self, conversation_id: str) -> Dict[str, Any] | None:
        with self.engine.connect() as db:
            row = db.execute(sa.select(cases).where(cases.c.conversation_id == conversation_id)).first()
        return dict(row._mapping) if row else None

    def open_cases(self) -> List[Dict[str, Any]]:
        with self.engine.connect() as db:
            return [dict(row._mapping) for row in db.execute(sa.select(cases).where(cases.c.status == "open"))]

    def refresh(self, conversation_id: str) -> bool:
        """Recompute one conversation's case from its events; True if the case changed."""
        found = self.conversation_events(conversation_id)
        current = self.case(conversation_id)
        if not found:
            if current and current["status"] == "open" and not current["gone"]:
                with self.engine.begin() as db:
                    db.execute(cases.update().where(cases.c.conversation_id == conversation_id).values(gone=True))
                return True
            return False
        since = current["resolved_at"] if current else None
        derived = derive(conversation_id, found, since)
        if derived is None:
            return False
        values = self._values(derived)
        if current and current["holder"] and current["claimed_at"]:
            alert = [
                float(e.get("timestamp") or 0)
                for e in found
                if e.get("event") == "user"
                and float(e.get("timestamp") or 0) > current["claimed_at"]
                and ((e.get("parse_data") or {}).get("triage") or {}).get("level") == "emergency"
            ]
            if alert:
                values["alert_at"] = max(alert)
        with self.engine.begin() as db:
            if current is None:
                try:
                    db.execute(
                        cases.insert().values(conversation_id=conversation_id, status="open", gone=False, **values)
                    )
                    return True
                except IntegrityError:  # another replica inserted it first
                    return False
            if current["status"] == "resolved":
                values.update(status="open", holder=None, claimed_at=None, alert_at=None)
            changed = any(current.get(k) != v for k, v in values.items()) or current["gone"]
            if changed:
                db.execute(
                    cases.update().where(cases.c.conversation_id == conversation_id).values(gone=False, **values)
                )
            return changed

    @staticmethod
    def _values(derived: Derived) -> Dict[str, Any]:
        return {
            "channel": derived.channel,
            "level": derived.level,
            "requested": derived.requested,
            "first_finding_at": derived.first_finding_at,
            "last_event_at": derived.last_event_at,
        }

    # asked on every turn (twice): a plain prepared statement, without building and caching-key
    # walking a select() each time (issue 13)
    _HOLDER_SQL = sa.text(f"SELECT holder FROM {cases.name} WHERE conversation_id = :c AND status = 'open'")

    def holder(self, conversation_id: str) -> str | None:
        return self.reads.scalar(self._HOLDER_SQL, {"c": conversation_id})

    def claim(self, conversation_id: str, nurse: str, now: float) -> bool:
        """Atomic: one UPDATE that only succeeds while nobody holds the case."""
        with self.engine.begin() as db:
            result = db.execute(
                cases.update()
                .where(cases.c.conversation_id == conversation_id, cases.c.status == "open", cases.c.holder.is_(None))
                .values(holder=nurse, claimed_at=now, alert_at=None)
            )
            return result.rowcount == 1

    def resolve(self, conversation_id: str, nurse: str, now: float) -> bool:
        """Only the nurse who holds an open case resolves it (or anyone, when nobody holds it)."""
        with self.engine.begin() as db:
            result = db.execute(
                cases.update()
                .where(
                    cases.c.conversation_id == conversation_id,
                    cases.c.status == "open",
                    sa.or_(cases.c.holder == nurse, cases.c.holder.is_(None)),
                )
                .values(status="resolved", holder=None, resolved_at=now, alert_at=None)
            )
            return result.rowcount == 1

    # -- notes -------------------------------------------------------------------------------
    def add_note(self, conversation_id: str, nurse: str, text: str, kind: str = "note") -> Dict[str, Any]:
        row = {"conversation_id": conversation_id, "nurse": nurse, "kind": kind, "text": text, "at": time.time()}
        with self.engine.begin() as db:
            result = db.execute(notes.insert().values(**row))
            row["id"] = result.inserted_primary_key[0]
        return row

    def notes(self, conversation_id: str) -> List[Dict[str, Any]]:
        with self.engine.connect() as db:
            return [
                dict(r._mapping)
                for r in db.execute(
                    sa.select(notes).where(notes.c.conversation_id == conversation_id).order_by(notes.c.id)
                )
            ]

    # -- SMS reply addresses -----------------------------------------------------------------
    def keep_address(self, conversation_id: str, sealed: str) -> None:
        with self.engine.begin() as db:
            db.execute(reply_addresses.delete().where(reply_addresses.c.conversation_id == conversation_id))
            db.execute(reply_addresses.insert().values(conversation_id=conversation_id, sealed=sealed, at=time.time()))

    def address(self, conversation_id: str) -> str | None:
        with self.engine.connect() as db:
            return db.execute(
                sa.select(reply_addresses.c.sealed).where(reply_addresses.c.conversation_id == conversation_id)
            ).scalar()

    def forget_address(self, conversation_id: str) -> None:
        with self.engine.begin() as db:
            db.execute(reply_addresses.delete().where(reply_addresses.c.conversation_id == conversation_id))
