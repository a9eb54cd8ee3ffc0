"""Recipe template_stream: render a large page progressively with stream_template."""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator

from flask import Blueprint, Response, current_app, stream_template, stream_template_string

from . import events, params, streaming

bp = Blueprint("template_stream", __name__)

DEFAULT_LIMIT = 10_000
MAX_LIMIT = 1_000_000

# The compact variant keeps its template inline: stream_template_string autoescapes it too.
COMPACT_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Timeline (compact) · {{ project_name }}</title></head>
<body>
<pre>
{%- for id, created_at, kind, message in events %}
{{ created_at }} {{ "%-8s"|format(kind) }} {{ message }}
{%- endfor %}
</pre>
</body>
</html>
"""


def stream_page(pieces: Iterator[str], close: Callable[[], None]) -> Response:
    """Send rendered pieces in chunks; closing the response closes them and the cursor."""
    # stream_template's generator holds the request context until it is closed: close it with
    # the response, even one closed before its first chunk.
    on_close = (pieces.close, close) if isinstance(pieces, Generator) else (close,)
    return streaming.stream(
        # Jinja yields a tiny string per template node (10,000 events make 90,000 of them); re-cut
        # by bytes, as TemplateStream.enable_buffering counts fragments and cannot flush early.
        streaming.chunked(pieces, current_app.config["STREAM_CHUNK_SIZE"]),
        mimetype="text/html",
        on_close=on_close,
    )


@bp.get("/timeline")
def timeline() -> Response:
    """Stream the event timeline with stream_template; ?limit=N sets how many events."""
    limit = params.integer("limit", default=DEFAULT_LIMIT, minimum=1, maximum=MAX_LIMIT)
    cursor, close = events.open_timeline(limit)
    # The cursor goes in as a lazy iterable: rows are read while the page is being sent.
    return stream_page(stream_template("timeline.html", events=cursor, limit=limit), close)


@bp.get("/timeline/compact")
def timeline_compact() -> Response:
    """Stream the same events with stream_template_string and an inline template."""
    limit = params.integer("limit", default=DEFAULT_LIMIT, minimum=1, maximum=MAX_LIMIT)
    cursor, close = events.open_timeline(limit)
    return stream_page(stream_template_string(COMPACT_PAGE, events=cursor), close)
