"""Recipe ndjson: stream the orders as newline-delimited JSON or as a single JSON array."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import orjson
from flask import Blueprint, Response, current_app

from . import db, orders, streaming

bp = Blueprint("ndjson", __name__)

Batches = Iterable[list[Sequence[Any]]]

# orjson takes a quarter of the time the standard library's json needs for these rows. It writes
# compact JSON, text as UTF-8 rather than \u escapes (U+2028 and U+2029 too: valid JSON, and
# NDJSON splits lines on \n only), and NaN and Infinity, which JSON cannot hold, as null.


def json_objects(
    columns: Sequence[str], batch: list[Sequence[Any]], option: int = 0
) -> list[bytes]:
    """Write each row of a batch as a JSON object."""
    # Every row of the query has its columns: zip(strict=True) checking it again took 10% longer.
    return [orjson.dumps(dict(zip(columns, row, strict=False)), option=option) for row in batch]


def json_lines(columns: Sequence[str], batches: Batches) -> Iterator[bytes]:
    """Write each row as a JSON object on a line of its own (NDJSON), one piece per batch."""
    for batch in batches:
        yield b"".join(json_objects(columns, batch, orjson.OPT_APPEND_NEWLINE))


def json_array(columns: Sequence[str], batches: Batches) -> Iterator[bytes]:
    """Write the rows as one JSON array of objects, an object a line, one piece per batch."""
    separator = b"["
    for batch in batches:
        yield separator + b",\n".join(json_objects(columns, batch))
        separator = b",\n"
    yield b"[]\n" if separator == b"[" else b"]\n"


def stream_orders(
    write: Callable[[Sequence[str], Batches], Iterator[bytes]], mimetype: str
) -> Response:
    """Validate the options, run the query, then stream the rows as `write` formats them."""
    config = current_app.config
    asked = orders.Asked.from_request()
    # Run before the response starts: a broken query is a 500, not a cut-off 200.
    cursor, close = db.open_cursor(asked.sql(guard=False), asked.arguments)
    batches = db.fetch_batches(cursor, config["STREAM_FETCH_SIZE"])
    return streaming.stream(
        streaming.chunked(write(asked.columns, batches), config["STREAM_CHUNK_SIZE"]),
        mimetype=mimetype,
        on_close=(close,),
    )


@bp.get("/export.ndjson")
def export_ndjson() -> Response:
    """Stream the orders, one JSON object per line; ?columns= ?since= ?limit= as for the CSV."""
    return stream_orders(json_lines, "application/x-ndjson")


@bp.get("/export.json")
def export_json() -> Response:
    """Stream the orders as one JSON array, valid as a whole once the last byte has arrived."""
    return stream_orders(json_array, "application/json")
