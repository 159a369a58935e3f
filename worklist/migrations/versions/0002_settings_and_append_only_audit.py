"""Shared settings table, and the audit trail made append-only on PostgreSQL.

The services never update or delete audit events; on PostgreSQL a trigger also refuses it, so a
script with database access cannot quietly rewrite who did what. (SQLite has triggers too, but a
local file's owner can drop them; the code-level guarantee is what counts there, so the trigger is
installed on both back-ends for symmetry.)

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PG_FUNCTION = """
CREATE FUNCTION audit_events_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only';
END;
$$ LANGUAGE plpgsql
"""
_PG_TRIGGER = """
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()
"""
_SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER audit_events_no_{what.lower()} BEFORE {what} ON audit_events
    BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"""
    for what in ("UPDATE", "DELETE")
]


def upgrade() -> None:
    op.create_table(
        "app_settings",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_app_settings")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)
        op.execute(_PG_TRIGGER)
    else:
        for statement in _SQLITE_TRIGGERS:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_events_append_only ON audit_events")
        op.execute("DROP FUNCTION audit_events_append_only()")
    else:
        for what in ("update", "delete"):
            op.execute(f"DROP TRIGGER audit_events_no_{what}")
    op.drop_table("app_settings")
