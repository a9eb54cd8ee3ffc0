"""Recipe context_stream: keep the request usable inside a generator with stream_with_context."""

from __future__ import annotations

from collections.abc import Iterator

from flask import Blueprint, Response, request, stream_with_context
from markupsafe import escape

from . import db, params, streaming

bp = Blueprint("context_stream", __name__)

MAX_NAME_LENGTH = 100


def greeting() -> Iterator[str]:
    """Greet the caller named in the query string; runs only inside a request context."""
    yield "<p>Hello "
    yield escape(request.args["name"])
    yield "!</p>\n"
    # db.get_db() keeps one connection in `g` for the request. It is opened lazily: Flask 3.1.2 and
    # 3.1.3 run teardown before the first chunk as well, and a connection opened earlier is gone.
    events = db.scalar(db.get_db(), "SELECT count(*) FROM events")
    yield f"<p>{events:,} events are in the database.</p>\n"


def validate_name() -> None:
    """Reject a missing or oversized name now, while a 400 can still be sent."""
    params.text("name", max_length=MAX_NAME_LENGTH)


@bp.get("/stream")
def stream() -> Response:
    """Stream a greeting, wrapping the generator in stream_with_context."""
    validate_name()
    return streaming.stream(stream_with_context(greeting()), mimetype="text/html")


@bp.get("/stream/decorated")
def stream_decorated() -> Response:
    """Stream the same greeting, with stream_with_context as a decorator."""
    validate_name()

    @stream_with_context
    def generate() -> Iterator[str]:
        yield from greeting()

    # Flask types the decorator's result as the iterator itself, so mypy needs telling that
    # generate is still called (stream_with_context wraps the call).
    return streaming.stream(generate(), mimetype="text/html")  # type: ignore[call-arg]
