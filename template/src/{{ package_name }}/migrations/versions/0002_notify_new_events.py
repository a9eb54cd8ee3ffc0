"""On PostgreSQL, every insert into events sends NOTIFY events (the sse recipe LISTENs for it).

Event pollers then wake at once, whichever process or instance added the event; without it they
still look every SSE_POLL_INTERVAL seconds. A NOTIFY that nobody listens for is dropped.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        """
        CREATE OR REPLACE FUNCTION notify_events() RETURNS trigger AS $$
        BEGIN
            PERFORM pg_notify('events', '');
            RETURN NULL;
        END
        $$ LANGUAGE plpgsql
        """
    )
    # A database made by init-db before the switch from dbapi may have the trigger already.
    op.execute("DROP TRIGGER IF EXISTS events_notify ON events")
    op.execute(
        "CREATE TRIGGER events_notify AFTER INSERT ON events"
        " FOR EACH STATEMENT EXECUTE FUNCTION notify_events()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER events_notify ON events")
    op.execute("DROP FUNCTION notify_events()")
