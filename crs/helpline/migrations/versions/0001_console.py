"""The helpline console's tables: nurses, sessions, failed logins, cases, notes, audit, SMS reply
addresses. The audit log is append-only: the database refuses UPDATE and DELETE on it.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "helpline_nurses",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_table(
        "helpline_sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("nurse", sa.String(64), nullable=False),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("last_seen", sa.Float, nullable=False),
    )
    op.create_table(
        "helpline_login_failures",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, index=True),
        sa.Column("address", sa.String(64), nullable=False, index=True),
        sa.Column("at", sa.Float, nullable=False),
    )
    op.create_table(
        "helpline_cases",
        sa.Column("conversation_id", sa.String(255), primary_key=True),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("requested", sa.Boolean, nullable=False),
        sa.Column("first_finding_at", sa.Float, nullable=False),
        sa.Column("last_event_at", sa.Float, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("holder", sa.String(64)),
        sa.Column("claimed_at", sa.Float),
        sa.Column("resolved_at", sa.Float),
        sa.Column("alert_at", sa.Float),
        sa.Column("gone", sa.Boolean, nullable=False),
    )
    op.create_table(
        "helpline_notes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("conversation_id", sa.String(255), nullable=False, index=True),
        sa.Column("nurse", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("at", sa.Float, nullable=False),
    )
    op.create_table(
        "helpline_audit",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("nurse", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("conversation_id", sa.String(255)),
        sa.Column("detail", sa.Text),
    )
    op.create_table(
        "helpline_reply_addresses",
        sa.Column("conversation_id", sa.String(255), primary_key=True),
        sa.Column("sealed", sa.Text, nullable=False),
        sa.Column("at", sa.Float, nullable=False),
    )
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER helpline_audit_no_{verb.lower()} BEFORE {verb} ON helpline_audit "
                "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"
            )
    elif dialect == "postgresql":
        op.execute(
            "CREATE FUNCTION helpline_audit_append_only() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$ LANGUAGE plpgsql"
        )
        op.execute(
            "CREATE TRIGGER helpline_audit_append_only BEFORE UPDATE OR DELETE ON helpline_audit "
            "FOR EACH ROW EXECUTE FUNCTION helpline_audit_append_only()"
        )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS helpline_audit_append_only ON helpline_audit")
        op.execute("DROP FUNCTION IF EXISTS helpline_audit_append_only()")
    for table in (
        "helpline_reply_addresses",
        "helpline_audit",
        "helpline_notes",
        "helpline_cases",
        "helpline_login_failures",
        "helpline_sessions",
        "helpline_nurses",
    ):
        op.drop_table(table)
