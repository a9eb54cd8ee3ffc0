"""PostgreSQL through psycopg 3: what the app needs of it, behind the interface of db.py."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from itertools import chain, islice
from typing import Any

import psycopg
from flask import current_app
from psycopg.conninfo import conninfo_to_dict

from . import limits

Connection = psycopg.Connection[Any]
Cursor = psycopg.Cursor[Any]
# LIMIT NULL means no limit.
NO_LIMIT = None
# The function that gives the code point of a text's first character (0 for '').
FIRST_CODE = "ascii"
# What connect() is given for a stream's own connection, for init-db's and for the event
# poller's: each is a session of its own, outside the pool.
# A plain query is planned for its last row: ORDER BY id became a sort of the whole table
# before row one (87 ms at 300,000 rows). A stream's connection serves that stream alone: walk
# the id index instead, so the first row leaves at once.
FOR_STREAM: dict[str, Any] = {"settings": "-c enable_sort=off"}
# A command runs once: a pool would only add its threads.
FOR_CREATE: dict[str, Any] = {"own": True}
# LISTEN stays with the session that ran it: the pool would hand it to a request.
FOR_LISTENER: dict[str, Any] = {"own": True}

# What connect() raises when the database cannot be opened.
Unavailable = psycopg.OperationalError
# What an insert raises when a row's id is taken.
Conflict = psycopg.IntegrityError
# Every error of the database's own.
Error = psycopg.Error


def pool_session_name(url: str, app_name: str) -> str:
    """The application_name of a pooled session: the URL's own (else the app's), then " pool".

    Named apart from the streams' sessions, which carry the URL's own, in pg_stat_activity.
    """
    return f"{conninfo_to_dict(url).get('application_name') or app_name} pool"


def connect(*, settings: str = "", own: bool = False) -> Connection:
    """A connection to DATABASE_URL: from this process's pool, or with `settings` or `own` a new
    session of its own; each statement commits on its own, and close() ends or returns it.

    `settings` ("-c name=value ...") hold for this session alone; they travel in the request
    that opens the connection, added to the URL's own options, and cost no round trip.
    """
    url = current_app.config["DATABASE_URL"]
    # The app's pool for requests (pool.py, or SQLAlchemy's with data_layer sqlalchemy); none
    # with DATABASE_POOL_SIZE 0.
    if not settings and not own and (pool := current_app.extensions.get("database_pool")):
        connection: Connection = pool.connect()
        return connection
    if not settings:
        return psycopg.connect(url, autocommit=True)
    options = f"{conninfo_to_dict(url).get('options', '')} {settings}".strip()
    return psycopg.connect(url, autocommit=True, options=options)


def to_psycopg(sql: str) -> str:
    """Turn ? placeholders into psycopg's %s (and a literal % into %%)."""
    return sql.replace("%", "%%").replace("?", "%s")


def execute(connection: Connection, sql: str, parameters: Sequence[Any] = ()) -> Cursor:
    """Run SQL written with ? placeholders."""
    return connection.execute(to_psycopg(sql), parameters)


def execute_script(connection: Connection, sql: str) -> None:
    """Run several statements at once (no parameters)."""
    connection.execute(sql)


class StreamedRows:
    """A query's rows as PostgreSQL sends them, STREAM_FETCH_SIZE a result: a stream's cursor."""

    def __init__(self, connection: Connection, sql: str, parameters: Sequence[Any]) -> None:
        # A plain cursor downloads the whole result before the first row arrives. libpq's
        # chunked mode (libpq 17, in psycopg[binary] 3.2.3 and later) hands the rows over as they
        # come, and TCP holds PostgreSQL back while the client reads slowly. A named cursor asks
        # for each batch with a FETCH round trip: NDJSON was 1.22x as fast without one.
        self._connection = connection
        self._cursor = cursor = connection.cursor()
        # Before libpq 17 (a psycopg built on an older system libpq), one row a result.
        size = current_app.config["STREAM_FETCH_SIZE"] if psycopg.pq.version() >= 170000 else 1
        rows = cursor.stream(to_psycopg(sql), parameters, size=size)
        # The first row runs the query: a broken one raises here, before the response starts.
        first = list(islice(rows, 1))
        self.description = cursor.description
        self._rows = chain(first, rows)

    def fetchmany(self, size: int) -> list[Any]:
        """The next `size` rows, fewer at the end."""
        return list(islice(self._rows, size))

    def __iter__(self) -> Iterator[Any]:
        return self._rows

    def close(self) -> None:
        """End the query at once: close its connection, then the cursor."""
        # Closed first, the rows would cancel the query and read what was already sent.
        self._connection.close()
        self._cursor.close()


# What a stream reads its rows from.
Rows = StreamedRows


def stream_cursor(connection: Connection, sql: str, parameters: Sequence[Any]) -> Rows:
    """Run a query whose rows are read as the stream goes."""
    return StreamedRows(connection, sql, parameters)


def csv_rows(
    connection: Connection, sql: str, parameters: Sequence[Any], fetch_size: int
) -> tuple[Iterator[bytes], Callable[[], None]]:
    """Run a query and have PostgreSQL write its rows as CSV: pieces, and their close.

    PostgreSQL writes the CSV itself (COPY ... TO STDOUT), 2.8x what csv.writer makes of a
    server-side cursor, under a header of the query's column names. The rows are the same as
    csv.writer's once parsed, not the same bytes: lines end with LF (COPY has no other choice),
    whole floats lose their ".0", and empty text is quoted.
    """
    with ExitStack() as opened:
        cursor = connection.cursor()
        opened.callback(cursor.close)
        # COPY takes no parameters of its own: psycopg binds them as quoted literals.
        statement = f"COPY ({to_psycopg(sql)}) TO STDOUT (FORMAT csv, HEADER)"
        copy = opened.enter_context(cursor.copy(statement, parameters))

        def rows() -> Iterator[bytes]:
            while row := copy.read():
                yield bytes(row)

        # Closed mid-copy, the connection goes at once: PostgreSQL ends the COPY when it sees it.
        return rows(), opened.pop_all().close


def admit_stream() -> Callable[[], None]:
    """Count a stream that will hold a session; past DATABASE_MAX_STREAMS, a 503 at once."""
    # Each session is a PostgreSQL backend, and past max_connections (100 by default) every
    # new connection fails, /healthz's included: turn streams away well before that.
    limit = current_app.config["DATABASE_MAX_STREAMS"]
    return limits.admit("streams holding a database session", limit)


def insert_rows(
    connection: Connection, table: str, rows: list[tuple[Any, ...]], columns: Sequence[str] = ()
) -> None:
    """Insert a batch of rows into `table` with COPY: every column, or those named."""
    names = f" ({', '.join(columns)})" if columns else ""
    with connection.cursor().copy(f"COPY {table}{names} FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


@contextmanager
def transaction(connection: Connection, *, wait: float) -> Iterator[Connection]:
    """Run the block in one transaction: all of it or nothing.

    A row lock that another transaction holds is waited for up to `wait` seconds, then the lock
    timeout's error is raised (a 503).
    """
    with connection.transaction():
        connection.execute(f"SET LOCAL lock_timeout = {int(wait * 1000)}")
        yield connection


def advance_ids(connection: Connection, table: str) -> None:
    """Move the id sequence of `table` past the ids rows were inserted with."""
    connection.execute(
        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}"
    )


def describe(connection: Connection) -> str:
    """Where the data lives, for messages (without the password)."""
    # From the libpq connection: SQLAlchemy's proxy of a pooled one has an .info of its own.
    info = psycopg.ConnectionInfo(connection.pgconn)
    return f"database {info.dbname} on {info.host}:{info.port}"


def unavailable(error: Exception) -> bool:
    """Whether `error` says that the database cannot serve now, not that the SQL is wrong."""
    # OperationalError covers a lost or refused connection (too many clients, a shutdown), lock
    # and statement timeouts and deadlocks; a standby or a read-only session refuses writes.
    return isinstance(error, psycopg.OperationalError | psycopg.errors.ReadOnlySqlTransaction)


def ids_exhausted(error: Exception) -> bool:
    """Whether `error` says that no new id is left for a row without one."""
    # The identity sequence stops at 2**63 - 1: after rows that came with an id that high, say.
    return isinstance(error, psycopg.errors.SequenceGeneratorLimitExceeded)


def writable(connection: Connection) -> str:
    """Whether the database takes writes, for /healthz: "ok" or what is wrong."""
    row = connection.execute("SELECT current_setting('transaction_read_only')").fetchone()
    return "read-only (transaction_read_only is on)" if row == ("on",) else "ok"


def setup_hint() -> str:
    """The step that fixes an unavailable database, for messages."""
    name = conninfo_to_dict(current_app.config["DATABASE_URL"]).get("dbname", "")
    return (
        f"Check that PostgreSQL runs and that the database exists (createdb {name}), or point"
        " DATABASE_URL at one that does."
    )
