"""The console's tables (SQLAlchemy Core). Created and changed only by the Alembic migrations in
``crs/helpline/migrations`` (``migrate``), never at import time."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "helpline_alembic_version"
# PostgreSQL advisory lock key held while migrating: replicas that start together (the cluster,
# Kubernetes) take turns instead of creating the same tables at once, which fails in PostgreSQL's
# catalogue ("duplicate key value violates unique constraint pg_type_typname_nsp_index")
MIGRATION_LOCK = 0x43525348  # "CRSH"

metadata = sa.MetaData()

nurses = sa.Table(
    "helpline_nurses",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(64), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
)

sessions = sa.Table(
    "helpline_sessions",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("nurse", sa.String(64), nullable=False),
    sa.Column("csrf", sa.String(64), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("last_seen", sa.Float, nullable=False),
)

login_failures = sa.Table(
    "helpline_login_failures",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(64), nullable=False, index=True),
    sa.Column("address", sa.String(64), nullable=False, index=True),
    sa.Column("at", sa.Float, nullable=False),
)

cases = sa.Table(
    "helpline_cases",
    metadata,
    sa.Column("conversation_id", sa.String(255), primary_key=True),
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("level", sa.String(16), nullable=False),  # emergency | urgent | request
    sa.Column("requested", sa.Boolean, nullable=False, default=False),
    sa.Column("first_finding_at", sa.Float, nullable=False),
    sa.Column("last_event_at", sa.Float, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, default="open"),  # open | resolved
    sa.Column("holder", sa.String(64)),
    sa.Column("claimed_at", sa.Float),
    sa.Column("resolved_at", sa.Float),
    sa.Column("alert_at", sa.Float),  # a red flag while a nurse held it
    sa.Column("gone", sa.Boolean, nullable=False, default=False),  # deleted from the tracker store
)

notes = sa.Table(
    "helpline_notes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("conversation_id", sa.String(255), nullable=False, index=True),
    sa.Column("nurse", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # note | triage_log
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("at", sa.Float, nullable=False),
)

audit = sa.Table(
    "helpline_audit",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("nurse", sa.String(64), nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("conversation_id", sa.String(255)),
    sa.Column("detail", sa.Text),
)

reply_addresses = sa.Table(
    "helpline_reply_addresses",
    metadata,
    sa.Column("conversation_id", sa.String(255), primary_key=True),
    sa.Column("sealed", sa.Text, nullable=False),
    sa.Column("at", sa.Float, nullable=False),
)


def migrate(engine: sa.engine.Engine) -> None:
    """Bring the console's tables to the newest migration (idempotent, and safe when several
    processes start at once: on PostgreSQL they take turns under an advisory lock, released when
    the migrating transaction ends; the next one then finds the tables at the newest version)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
