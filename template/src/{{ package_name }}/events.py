"""The events table: every query of it that the recipes make, in one place."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from . import db, formats

COLUMNS = ("id", "created_at", "kind", "message")
# The largest id either database stores (a signed 64-bit integer).
MAX_ID = 2**63 - 1
# (id, kind, message): what a listener is sent.
Event = tuple[int, str, str]


def between(connection: db.Connection, after: int, until: int, limit: int) -> list[Event]:
    """Up to `limit` events with an id above `after` and at most `until`, oldest first."""
    sql = "SELECT id, kind, message FROM events WHERE id > ? AND id <= ? ORDER BY id LIMIT ?"
    rows = db.execute(connection, sql, (after, until, limit)).fetchall()
    return [tuple(row) for row in rows]


def newest(connection: db.Connection) -> int:
    """The id of the newest event (0 when there is none)."""
    return int(db.scalar(connection, "SELECT coalesce(max(id), 0) FROM events"))


def count(connection: db.Connection) -> int:
    """How many events there are."""
    return int(db.scalar(connection, "SELECT count(*) FROM events"))


def add(connection: db.Connection, kind: str, message: str) -> int:
    """Insert an event created now and return its id; the caller commits."""
    created_at = datetime.now().isoformat(sep=" ", timespec="seconds")
    sql = "INSERT INTO events (created_at, kind, message) VALUES (?, ?, ?) RETURNING id"
    return int(db.scalar(connection, sql, (created_at, kind, message)))


def open_timeline(limit: int) -> tuple[db.Rows, Callable[[], None]]:
    """The first `limit` events, every column, on a connection a stream owns: cursor, close."""
    return db.open_cursor(f"SELECT {', '.join(COLUMNS)} FROM events ORDER BY id LIMIT ?", (limit,))


def export_sql(*, guard: bool) -> str:
    """Every column from a date on (`created_at >= ?`, `LIMIT ?`), text through the guard."""
    selected = ", ".join(
        f"{formats.formula_safe(name, db.FIRST_CODE)} AS {name}" if guard and name != "id" else name
        for name in COLUMNS
    )
    return f"SELECT {selected} FROM events WHERE created_at >= ? ORDER BY id LIMIT ?"
