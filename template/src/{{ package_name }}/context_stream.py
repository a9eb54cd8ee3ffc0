"""Recipe context_stream: keep the request usable inside a generator with stream_with_context."""

from __future__ import annotations

from collections.abc import Iterator

from flask import Blueprint, Response, request, stream_with_context
from markupsafe import escape

from . import db, events, params, streaming

bp = Blueprint("context_stream", __name__)

MAX_NAME_LENGTH = 100


def greeting(events: int) -> Iterator[str]:
    """Greet the caller named in the query string; runs only inside a request context."""
    yield "<p>Hello "
    yield escape(request.args["name"])
    yield "!</p>\n"
    yield f"<p>{events:,} events are in the database.</p>\n"


def checked_request() -> int:
    """Check what can fail while a 400 or a 503 can still be sent: the name, then the count."""
    params.text("name", max_length=MAX_NAME_LENGTH)
    # Counted here, not in the generator: a database that cannot be read is a 503, not a 200 cut
    # after the greeting. Flask 3.1.2 and 3.1.3 run teardown before the first chunk as well,
    # which closes this request's connection (db.get_db() would open a new one if used later).
    return events.count(db.get_db())


@bp.get("/stream")
def stream() -> Response:
    """Stream a greeting, wrapping the generator in stream_with_context."""
    total = checked_request()
    return streaming.stream(stream_with_context(greeting(total)), mimetype="text/html")


@bp.get("/stream/decorated")
def stream_decorated() -> Response:
    """Stream the same greeting, with stream_with_context as a decorator."""
    total = checked_request()

    @stream_with_context
    def generate() -> Iterator[str]:
        yield from greeting(total)

    # Flask types the decorator's result as the iterator itself, so mypy needs telling that
    # generate is still called (stream_with_context wraps the call).
    return streaming.stream(generate(), mimetype="text/html")  # type: ignore[call-arg]
