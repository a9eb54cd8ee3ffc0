"""SQLite, the embedded database: what the app needs of it, behind the interface of db.py."""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import current_app

from . import formats

Connection = sqlite3.Connection
Cursor = sqlite3.Cursor
# What a stream reads its rows from: sqlite3's cursor steps through them lazily.
Rows = sqlite3.Cursor
# LIMIT takes a number: -1 means no limit.
NO_LIMIT = -1
# The function that gives the code point of a text's first character (NULL for '').
FIRST_CODE = "unicode"
# What connect() is given for a stream's own connection, for init-db's and for the event
# poller's: a file is opened the same way for each (init-db may create it).
FOR_STREAM: dict[str, Any] = {}
FOR_CREATE: dict[str, Any] = {"create": True}
FOR_LISTENER: dict[str, Any] = {}

# What connect() raises when the database cannot be opened.
Unavailable = sqlite3.OperationalError
# What an insert raises when a row's id is taken.
Conflict = sqlite3.IntegrityError
# Every error of the database's own.
Error = sqlite3.Error
# SQLite's result codes for a database that cannot serve now: gone, locked, read-only, full.
UNAVAILABLE_CODES = frozenset(
    {"BUSY", "LOCKED", "CANTOPEN", "READONLY", "IOERR", "FULL", "PERM", "NOTADB", "PROTOCOL"}
)


def connect(*, create: bool = False) -> Connection:
    """Open a new connection to the configured database file; only `create` may make it."""
    # sqlite3 creates a missing file by default: /healthz would then report an empty database
    # as healthy. Read-write mode refuses instead, so only init-db and seed-db create it.
    mode = "rwc" if create else "rw"
    uri = f"{Path(current_app.config['DATABASE']).absolute().as_uri()}?mode={mode}"
    connection = sqlite3.connect(uri, uri=True)
    # Each connection caches up to 2 MiB of pages by default; streams read each page once, and
    # 500 open downloads held 900 MB with it against 420 MB with 256 KiB, at the same speed.
    connection.execute("PRAGMA cache_size = -256")
    return connection


def execute(connection: Connection, sql: str, parameters: Sequence[Any] = ()) -> Cursor:
    """Run SQL written with ? placeholders."""
    return connection.execute(sql, parameters)


def execute_script(connection: Connection, sql: str) -> None:
    """Run several statements at once (no parameters)."""
    connection.executescript(sql)


def stream_cursor(connection: Connection, sql: str, parameters: Sequence[Any]) -> Rows:
    """Run a query whose rows are read as the stream goes: sqlite3 steps through them lazily."""
    return execute(connection, sql, parameters)


def csv_rows(
    connection: Connection, sql: str, parameters: Sequence[Any], fetch_size: int
) -> tuple[Iterator[str], Callable[[], None]]:
    """Run a query and write its rows as CSV: pieces, and their close.

    csv.writer writes batches of `fetch_size` rows under a header of the query's column names,
    lines ending with CRLF as RFC 4180 has them.
    """
    cursor = stream_cursor(connection, sql, parameters)
    header = [column[0] for column in cursor.description]
    batches = iter(lambda: cursor.fetchmany(fetch_size), [])
    return formats.csv_pieces(header, batches), cursor.close


def admit_stream() -> Callable[[], None]:
    """Let a stream open its own connection: SQLite has no limit on them."""
    return lambda: None


def insert_rows(
    connection: Connection, table: str, rows: list[tuple[Any, ...]], columns: Sequence[str] = ()
) -> None:
    """Insert a batch of rows into `table`: every column, or those named."""
    names = f" ({', '.join(columns)})" if columns else ""
    placeholders = ", ".join("?" * len(rows[0]))
    connection.executemany(f"INSERT INTO {table}{names} VALUES ({placeholders})", rows)


@contextmanager
def transaction(connection: Connection, *, wait: float) -> Iterator[Connection]:
    """Run the block in one transaction: all of it or nothing.

    SQLite lets one writer in at a time: this waits up to `wait` seconds for its turn, then
    raises the database's "locked" error (a 503). SQLite's own wait would hold the thread, and
    with it every client of a gevent worker; this one sleeps between tries instead.
    """
    connection.commit()
    connection.execute("PRAGMA busy_timeout = 0")
    deadline = time.monotonic() + wait
    pause = 0.001
    while True:
        try:
            connection.execute("BEGIN IMMEDIATE")
            break
        except sqlite3.OperationalError as error:
            if error.sqlite_errorname != "SQLITE_BUSY" or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)
        pause = min(2 * pause, 0.05)
    try:
        yield connection
    except BaseException:
        connection.rollback()
        raise
    connection.commit()


def advance_ids(connection: Connection, table: str) -> None:
    """Let new rows of `table` take ids past those inserted with theirs (SQLite does it itself)."""


def describe(connection: Connection) -> str:
    """Where the data lives, for messages."""
    return f"database at {current_app.config['DATABASE']}"


def unavailable(error: Exception) -> bool:
    """Whether `error` says that the database cannot serve now, not that the SQL is wrong."""
    # sqlite3 raises OperationalError for a missing file and for a misspelt column alike: the
    # result code (SQLITE_CANTOPEN, SQLITE_ERROR; extended ones add a suffix) tells them apart.
    name = getattr(error, "sqlite_errorname", "") or ""
    return name.removeprefix("SQLITE_").split("_")[0] in UNAVAILABLE_CODES


def ids_exhausted(error: Exception) -> bool:
    """Whether `error` says that no new id is left for a row without one: never on SQLite."""
    # Past the largest row id (2**63 - 1), SQLite picks an unused one at random.
    return False


def writable(connection: Connection) -> str:
    """Whether this process may write the database file, for /healthz: "ok" or what is wrong."""
    # SQLite opens a file it may not write read-only without a word, and fails at the first write.
    # access(), not open(): closing a descriptor of the file would drop every lock SQLite's own
    # connections in this process hold on it (POSIX), and another process would then delete the
    # write-ahead log under them.
    if not os.access(current_app.config["DATABASE"], os.W_OK):
        return "read-only (this process may not write the file)"
    return "ok"


def setup_hint() -> str:
    """The step that fixes an unavailable database, for messages."""
    return "Check that the folder of DATABASE exists and that this user may write to it."
