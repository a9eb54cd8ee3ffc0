"""SQLite connections, the schema and the init-db / seed-db commands."""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Callable, Sequence
from importlib.resources import files
from typing import Any

import click
from flask import Flask, current_app, g
from flask.cli import with_appcontext

from . import seed


def connect() -> sqlite3.Connection:
    """Open a new connection to the configured database."""
    return sqlite3.connect(current_app.config["DATABASE"])


def open_cursor(
    sql: str, parameters: Sequence[Any] = (), *, rows_as_mappings: bool = False
) -> tuple[sqlite3.Connection, sqlite3.Cursor]:
    """Run a query on a new connection that a stream will own; close it if the query fails.

    Streams run their query before the response starts: a broken query is then a 500, not a
    body cut off after the 200 was sent.
    """
    connection = connect()
    if rows_as_mappings:
        connection.row_factory = sqlite3.Row
    try:
        return connection, connection.execute(sql, parameters)
    except Exception:
        connection.close()
        raise


def get_db() -> sqlite3.Connection:
    """Return this request's connection, opening it on first use."""
    if "db" not in g:
        g.db = connect()
    return g.db


def close_db(exception: BaseException | None = None) -> None:
    """Close this request's connection, if one was opened."""
    db = g.pop("db", None)
    if db is not None:
        db.close()


def init_db() -> None:
    """Create the tables afresh, dropping existing data."""
    schema = files(__package__).joinpath("schema.sql").read_text(encoding="utf-8")
    get_db().executescript(schema)


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create empty tables, dropping existing data."""
    init_db()
    click.echo(f"Initialized the database at {current_app.config['DATABASE']}.")


def seed_db(rows: int, progress: Callable[[int], object] = lambda count: None) -> None:
    """Recreate the tables and fill each with `rows` deterministic rows, reporting each batch."""
    init_db()
    db = get_db()
    for table, make_rows in seed.TABLES.items():
        for batch in seed.batched(make_rows(rows)):
            seed.insert(db, table, batch)
            progress(len(batch))
    db.commit()


@click.command("seed-db")
@with_appcontext
@click.option("--rows", default=10_000, show_default=True, type=click.IntRange(min=0))
def seed_db_command(rows: int) -> None:
    """Recreate the tables and fill each with ROWS deterministic sample rows."""
    with click.progressbar(length=rows * len(seed.TABLES), label="Seeding", file=sys.stderr) as bar:
        seed_db(rows, bar.update)
    click.echo(f"Seeded {rows:,} rows into each of {', '.join(seed.TABLES)}.")


def init_app(app: Flask) -> None:
    """Close connections after each request and register the commands."""
    app.teardown_appcontext(close_db)
    app.cli.add_command(init_db_command)
    app.cli.add_command(seed_db_command)
