"""Recipe ndjson: stream the orders as newline-delimited JSON or as a single JSON array."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from flask import Blueprint, Response, current_app

from . import formats, orders, streaming

bp = Blueprint("ndjson", __name__)

Writer = Callable[[Sequence[str], Iterable[list[Sequence[Any]]]], Iterator[str]]


def stream_orders(write: Writer, mimetype: str) -> Response:
    """Validate the options, run the query, then stream the rows as `write` formats them."""
    config = current_app.config
    columns, cursor, close = orders.open_orders()
    batches = streaming.fetch_batches(cursor, config["STREAM_FETCH_SIZE"])
    return streaming.stream(
        streaming.chunked(write(columns, batches), config["STREAM_CHUNK_SIZE"]),
        mimetype=mimetype,
        on_close=(close,),
    )


@bp.get("/export.ndjson")
def export_ndjson() -> Response:
    """Stream the orders, one JSON object per line; ?columns= ?since= ?limit= as for the CSV."""
    return stream_orders(formats.json_lines, "application/x-ndjson")


@bp.get("/export.json")
def export_json() -> Response:
    """Stream the orders as one JSON array, valid as a whole once the last byte has arrived."""
    return stream_orders(formats.json_array, "application/json")
