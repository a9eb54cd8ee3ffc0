"""The orders query that the exports stream, with its query-string options checked up front."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import db, formats, params

COLUMNS = ("id", "created_at", "customer", "product", "quantity", "amount", "note")
# The text columns: every cell in them is text (STRICT tables on SQLite, types on PostgreSQL), and
# the CSV formula guard applies to each; the number columns hold numbers only.
TEXT_COLUMNS = frozenset({"created_at", "customer", "product", "note"})
MAX_LIMIT = 100_000_000


def guarded(name: str) -> str:
    """Select a text column with the formula guard applied, any other column as it is."""
    return formats.formula_safe(name, db.FIRST_CODE) if name in TEXT_COLUMNS else name


def query(expression: Callable[[str], str] = str) -> tuple[list[str], str, tuple[Any, ...]]:
    """Read ?columns=a,b ?since=YYYY-MM-DD ?limit=N (400 when bad): the columns, SQL, arguments.

    `expression` turns a column name into the SQL that selects it.
    """
    columns = params.subset("columns", COLUMNS)
    since = params.iso_date("since")
    limit = params.integer("limit", default=None, minimum=0, maximum=MAX_LIMIT)
    # Column names come from COLUMNS only; values travel as parameters.
    selected = ", ".join(f"{expression(name)} AS {name}" for name in columns)
    sql = f"SELECT {selected} FROM orders WHERE created_at >= ? ORDER BY id LIMIT ?"
    arguments = (since.isoformat() if since else "", db.NO_LIMIT if limit is None else limit)
    return columns, sql, arguments


def open_orders() -> tuple[list[str], db.Rows, Callable[[], None]]:
    """Read the options as query() does and run the query: the columns, the cursor, its close."""
    columns, sql, arguments = query()
    return (columns, *db.open_cursor(sql, arguments))
