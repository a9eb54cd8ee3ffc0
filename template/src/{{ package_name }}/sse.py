"""Recipe sse: Server-Sent Events for the rows that appear in the events table."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime

import click
from flask import Blueprint, Response, abort, current_app, render_template, request
from flask.sansio.blueprints import BlueprintSetupState

from . import db, seed, streaming

# cli_group=None: the command is `flask add-event`, not `flask sse add-event`.
bp = Blueprint("sse", __name__, cli_group=None)

BATCH = 100


@bp.record_once
def set_defaults(state: BlueprintSetupState) -> None:
    """Add this recipe's settings unless the environment or test config set them."""
    config = state.app.config
    # Seconds between two looks at the table for new rows.
    config.setdefault("SSE_POLL_INTERVAL", 0.5)
    # A comment after this many quiet seconds keeps proxies from closing an idle connection, and
    # lets the server notice a client that has gone.
    config.setdefault("SSE_HEARTBEAT", 15.0)
    # Each connection ends after this many seconds, so one client cannot hold a thread forever;
    # the browser reconnects on its own and resumes with Last-Event-ID.
    config.setdefault("SSE_MAX_AGE", 300.0)
    # How long a browser waits before it reconnects, in milliseconds.
    config.setdefault("SSE_RETRY_MS", 3000)


def event_stream(
    connection: db.Connection,
    last_id: int,
    *,
    poll: float,
    heartbeat: float,
    max_age: float,
    retry_ms: int,
) -> Iterator[bytes]:
    """Yield each event inserted after `last_id`, heartbeats when quiet, until `max_age` is up."""
    # Sent at once: headers leave with the first chunk, and the EventSource opens.
    yield f"retry: {retry_ms}\n\n".encode()
    started = quiet_since = time.monotonic()
    while time.monotonic() - started < max_age:
        rows = db.execute(
            connection,
            "SELECT id, kind, message FROM events WHERE id > ? ORDER BY id LIMIT ?",
            (last_id, BATCH),
        ).fetchall()
        if rows:
            yield b"".join(
                streaming.sse_event(message, event_id=event_id, event=kind)
                for event_id, kind, message in rows
            )
            last_id = rows[-1][0]
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since >= heartbeat:
            yield b": heartbeat\n\n"
            quiet_since = time.monotonic()
        else:
            time.sleep(poll)


def last_event_id() -> int | None:
    """The id the client saw last (an EventSource sends it when it reconnects)."""
    raw = request.headers.get("Last-Event-ID")
    if raw is None:
        return None
    if not raw.isascii() or not raw.isdigit():
        abort(400, f"Last-Event-ID must be a whole number, not {raw!r}.")
    return int(raw)


@bp.get("/events")
def events() -> Response:
    """Stream new events as they are inserted; resume after the Last-Event-ID header."""
    config = current_app.config
    resume_after = last_event_id()
    connection = db.connect()
    if resume_after is None:
        # A new listener hears what happens from now on.
        latest = db.execute(connection, "SELECT coalesce(max(id), 0) FROM events").fetchone()
        resume_after = latest[0]
    stream = event_stream(
        connection,
        resume_after,
        poll=config["SSE_POLL_INTERVAL"],
        heartbeat=config["SSE_HEARTBEAT"],
        max_age=config["SSE_MAX_AGE"],
        retry_ms=config["SSE_RETRY_MS"],
    )
    return streaming.stream(
        stream,
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-cache"},
        on_close=(connection.close,),
    )


@bp.get("/events/demo")
def demo() -> str:
    """A page that shows events the moment they arrive."""
    return render_template("sse_demo.html", kinds=seed.EVENT_KINDS, package=current_app.import_name)


@bp.cli.command("add-event")
@click.argument("message")
@click.option("--kind", type=click.Choice(seed.EVENT_KINDS), default="comment", show_default=True)
def add_event_command(message: str, kind: str) -> None:
    """Insert an event: every open /events stream sends it."""
    connection = db.get_db()
    created_at = datetime.now().isoformat(sep=" ", timespec="seconds")
    (event_id,) = db.execute(
        connection,
        "INSERT INTO events (created_at, kind, message) VALUES (?, ?, ?) RETURNING id",
        (created_at, kind, message),
    ).fetchone()
    connection.commit()
    click.echo(f"Added event {event_id}.")
