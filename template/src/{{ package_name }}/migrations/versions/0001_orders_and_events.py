"""The orders and events tables.

Revision ID: 0001
Revises:
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# As models.py has them: a 64-bit identity (SQLite's row id) and DOUBLE PRECISION (REAL).
ID: sa.types.TypeEngine[int] = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
REAL: sa.types.TypeEngine[float] = sa.Double().with_variant(sa.REAL(), "sqlite")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # WAL lets readers stream while another connection writes (seed-db, new events). It is
        # the database file's own setting, and is set before the transaction's first write.
        op.execute("PRAGMA journal_mode = WAL")
    op.create_table(
        "orders",
        sa.Column("id", ID, sa.Identity(), primary_key=True),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.Column("customer", sa.Text(), nullable=False),
        sa.Column("product", sa.Text(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("amount", REAL, nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sqlite_strict=True,
    )
    op.create_table(
        "events",
        sa.Column("id", ID, sa.Identity(), primary_key=True),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sqlite_strict=True,
    )


def downgrade() -> None:
    op.drop_table("events")
    op.drop_table("orders")
