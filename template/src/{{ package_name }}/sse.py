"""Recipe sse: Server-Sent Events for the rows that appear in the events table."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import closing

import click
from flask import Blueprint, Flask, Response, current_app, render_template, request
from flask.sansio.blueprints import BlueprintSetupState
from werkzeug.exceptions import HTTPException

from . import db, formats, params, seed, streaming
from . import events as event_table  # `events` is the view's name here
from .broadcast import EventHub, TableReader
from .events import MAX_ID, Event

# cli_group=None: the command is `flask add-event`, not `flask sse add-event`.
bp = Blueprint("sse", __name__, cli_group=None)


@bp.record_once
def set_defaults(state: BlueprintSetupState) -> None:
    """Add this recipe's settings unless the environment or test config set them."""
    config = state.app.config
    # Seconds between two looks at the table for new rows (one look per process, for everyone).
    config.setdefault("SSE_POLL_INTERVAL", 0.5)
    # A comment after this many quiet seconds keeps proxies from closing an idle connection. It
    # is also how a client that has gone is noticed: at the second write after it left.
    config.setdefault("SSE_HEARTBEAT", 2.0)
    # Each connection ends after this many seconds, so one client cannot hold a thread forever;
    # the browser reconnects on its own and resumes with Last-Event-ID.
    config.setdefault("SSE_MAX_AGE", 300.0)
    # How long a browser waits before it reconnects, in milliseconds.
    config.setdefault("SSE_RETRY_MS", 3000)
    # A blueprint registers on a Flask app (state.app is typed as Flask's base class).
    assert isinstance(state.app, Flask)
    hub = state.app.extensions["event_hub"] = EventHub(state.app)
    # /healthz reports a process whose poller has stopped reading new events.
    state.app.extensions.setdefault("health_checks", {})["events"] = hub.health


def frame(events: list[Event]) -> bytes:
    """Frame events as the client reads them: the kind names the event, the id resumes it."""
    return b"".join(
        formats.sse_event(message, event_id=event_id, event=kind)
        for event_id, kind, message in events
    )


def event_stream(
    hub: EventHub,
    last_id: int,
    *,
    heartbeat: float,
    max_age: float,
    retry_ms: int,
    behind: TableReader | None = None,
) -> Iterator[bytes]:
    """Yield each event after `last_id`, heartbeats when quiet, until `max_age` is up.

    `behind` is the table, opened already for a listener that resumes from further back than
    the hub remembers.
    """
    # Sent at once: headers leave with the first chunk, and the EventSource opens.
    yield f"retry: {retry_ms}\n\n".encode()
    ends = time.monotonic() + max_age
    # A server that is shutting down ends the stream cleanly, without waiting for max_age: the
    # browser reconnects, to a server that runs, and resumes with Last-Event-ID.
    while (remaining := ends - time.monotonic()) > 0 and not hub.closing:
        events = hub.wait(last_id, timeout=min(heartbeat, remaining))
        if events is None:
            # Resuming from further back than the hub remembers: read the table up to there.
            until = hub.floor
            try:
                reader = behind or TableReader(hub.app)
            except (HTTPException, db.Unavailable) as error:
                # No session to spare now: end cleanly, and the browser resumes in retry_ms.
                hub.app.logger.warning("An event stream could not catch up: %s", error)
                return
            behind = None
            with closing(reader):
                for batch in reader.batches(last_id, until):
                    yield frame(batch)
            last_id = until
        elif events:
            yield frame(events)
            last_id = events[-1][0]
        elif remaining > heartbeat:
            yield b": heartbeat\n\n"


def last_event_id() -> int | None:
    """The id the client saw last (an EventSource sends it when it reconnects)."""
    headers = request.headers
    return params.integer("Last-Event-ID", default=None, minimum=0, maximum=MAX_ID, source=headers)


@bp.get("/events")
def events() -> Response:
    """Stream new events as they are inserted; resume after the Last-Event-ID header."""
    config = current_app.config
    resume_after = last_event_id()
    hub: EventHub = current_app.extensions["event_hub"]
    newest = hub.join()
    try:
        # Further back than memory reaches: the table is opened now, so that a database that
        # cannot give a session is a 503 rather than a stream that ends at once.
        far_behind = resume_after is not None and resume_after < hub.floor
        behind = TableReader(hub.app) if far_behind else None
    except BaseException:
        hub.leave()
        raise
    stream = event_stream(
        hub,
        # A new listener hears what happens from now on.
        newest if resume_after is None else resume_after,
        heartbeat=config["SSE_HEARTBEAT"],
        max_age=config["SSE_MAX_AGE"],
        retry_ms=config["SSE_RETRY_MS"],
        behind=behind,
    )
    return streaming.stream(
        stream,
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-cache"},
        on_close=(hub.leave, *([behind.close] if behind else [])),
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
    event_id = event_table.add(connection, kind, message)
    connection.commit()
    click.echo(f"Added event {event_id}.")
