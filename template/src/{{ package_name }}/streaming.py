"""Helpers every streaming recipe shares: chunking, cursors, CSV, headers and cleanup."""

from __future__ import annotations

import csv
import json
import logging
import math
import re
import threading
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from types import SimpleNamespace
from typing import Any, Protocol
from urllib.parse import quote

from flask import Response, current_app, request
from werkzeug.exceptions import ServiceUnavailable
from werkzeug.wsgi import ClosingIterator

# The first chunk leaves as soon as it holds this much, so the headers and the top of the
# document reach the client at once; the rest travels in full chunks.
FIRST_CHUNK_SIZE = 1024

# Spreadsheet programs run a cell that starts with one of these as a formula (OWASP, CSV Injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

# What ends a line in an event stream.
LINE_BREAK = re.compile(r"\r\n|\r|\n")

# Seconds a client turned away with 503 is asked to wait before it tries again.
RETRY_AFTER = 5


def chunked(
    pieces: Iterable[str], size: int, first_size: int = FIRST_CHUNK_SIZE
) -> Iterator[bytes]:
    """Re-cut text pieces into UTF-8 chunks: a small first chunk, then chunks of `size` bytes."""
    pending = bytearray()
    limit = min(first_size, size)
    for piece in pieces:
        pending += piece.encode()
        while len(pending) >= limit:
            yield bytes(pending[:limit])
            del pending[:limit]
            limit = size
    if pending:
        yield bytes(pending)


class Cursor(Protocol):
    """What fetch_batches needs of a database cursor (sqlite3's and psycopg's both qualify)."""

    def fetchmany(self, size: int) -> list[Any]: ...


def fetch_batches(cursor: Cursor, size: int) -> Iterator[list[Any]]:
    """Yield the cursor's rows in lists of `size`, never holding the whole result."""
    while batch := cursor.fetchmany(size):
        yield batch


def formula_safe(column: str) -> str:
    """SQL for a text column with cells a spreadsheet would run as formulas prefixed by a quote.

    The database does this in C: a Python check of every cell cost 1.3 s per million rows, this
    0.25 s. Numeric columns are left alone, so a refund of -12.5 stays a number.
    """
    prefixes = ", ".join(f"'{prefix}'" for prefix in FORMULA_PREFIXES)
    quoted = f"'''' || {column}"
    return f"CASE WHEN substr({column}, 1, 1) IN ({prefixes}) THEN {quoted} ELSE {column} END"


def csv_pieces(header: Sequence[str], batches: Iterable[list[Sequence[Any]]]) -> Iterator[str]:
    """Write the header and each batch of rows as RFC 4180 CSV, one string per batch."""
    lines: list[str] = []
    # csv.writer only needs an object with write(); appending to a list is 18% faster than StringIO.
    writer = csv.writer(SimpleNamespace(write=lines.append))
    writer.writerow(header)
    for batch in batches:
        writer.writerows(batch)
        yield "".join(lines)
        lines.clear()
    yield "".join(lines)


# One encoder for every row: compact separators, non-ASCII text written as UTF-8, not \u escapes
# (U+2028 and U+2029 too: valid JSON, and NDJSON splits lines on \n only). NaN and Infinity are
# not JSON: the encoder refuses them and json_object writes null instead.
JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def json_object(columns: Sequence[str], row: Sequence[Any]) -> str:
    """Write one row as a JSON object; a NaN or infinite number becomes null."""
    try:
        return JSON.encode(dict(zip(columns, row, strict=True)))
    except ValueError:
        # Rare, so the check costs nothing on the rows that need none.
        finite = [
            None if isinstance(value, float) and not math.isfinite(value) else value
            for value in row
        ]
        return JSON.encode(dict(zip(columns, finite, strict=True)))


def json_lines(columns: Sequence[str], batches: Iterable[list[Sequence[Any]]]) -> Iterator[str]:
    """Write each row as a JSON object on a line of its own (NDJSON), one string per batch."""
    for batch in batches:
        yield "".join(json_object(columns, row) + "\n" for row in batch)


def json_array(columns: Sequence[str], batches: Iterable[list[Sequence[Any]]]) -> Iterator[str]:
    """Write the rows as one JSON array of objects, one string per batch."""
    separator = "["
    for batch in batches:
        yield separator + ",\n".join(json_object(columns, row) for row in batch)
        separator = ",\n"
    yield "[]\n" if separator == "[" else "]\n"


def sse_event(data: str, *, event_id: int | str | None = None, event: str | None = None) -> bytes:
    """Frame one Server-Sent Event; each line of `data` becomes a data: line of its own."""
    fields = []
    # CR, LF and CRLF all end a line in an event stream: in `id` or `event` one would start a
    # field of the database's choosing, so any line break there becomes a space.
    if event_id is not None:
        fields.append(f"id: {LINE_BREAK.sub(' ', str(event_id))}")
    if event is not None:
        fields.append(f"event: {LINE_BREAK.sub(' ', event)}")
    fields += [f"data: {line}" for line in LINE_BREAK.split(data)]
    return ("\n".join(fields) + "\n\n").encode()


def attachment(filename: str) -> str:
    """Build a Content-Disposition value with an ASCII fallback and an RFC 5987 UTF-8 name."""
    fallback = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    fallback = fallback.replace("\\", "_").replace('"', "_")
    stem, dot, extension = fallback.rpartition(".")
    if not (stem if dot else extension).strip(" ._-"):
        # Nothing of the name was ASCII (日本.csv gives ".csv"): keep its extension, if any.
        fallback = f"download.{extension}" if dot else "download"
    if fallback == filename:
        return f'attachment; filename="{filename}"'
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def guarded(
    chunks: Iterable[bytes | str], release: Callable[[], None], logger: logging.Logger, path: str
) -> Iterator[bytes | str]:
    """Pass chunks through, log an error that happens in the stream, and release when it ends."""
    sent = 0
    try:
        for chunk in chunks:
            yield chunk
            sent += 1
            # Under gevent a fast reader never makes a write wait, so a download would keep the
            # worker to itself until its end: this lets the other clients in between chunks.
            time.sleep(0)
    except Exception:
        # Re-raising lets the server answer 500 if nothing was sent yet; once the status line is
        # gone, it cuts the connection, so the client sees a truncated body (curl exits 18)
        # instead of a short file that looks complete.
        if sent:
            logger.exception("Stream for %s failed after %d chunks; body cut short", path, sent)
        else:
            logger.exception("Stream for %s failed before its first chunk; answered 500", path)
        raise
    finally:
        # The last chunk, an error or a disconnect: the cursor is not needed a moment longer.
        release()


class OpenStreams:
    """The streamed responses this process has open, bounded so that short requests find room."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()

    def enter(self, limit: int) -> bool:
        """Count one more stream, unless `limit` are open already."""
        with self._lock:
            if self.count >= limit:
                return False
            self.count += 1
            return True

    def leave(self) -> None:
        """Count a stream that has ended."""
        with self._lock:
            self.count -= 1


def stream(
    chunks: Iterable[bytes | str],
    *,
    mimetype: str,
    on_close: Sequence[Callable[[], None]] = (),
    headers: dict[str, str] | None = None,
) -> Response:
    """Return a streamed response that runs `on_close` once: when it ends or is closed.

    Past STREAM_MAX_OPEN open streams in this process it answers 503 with Retry-After instead,
    at once, so that a crowd of long streams can never leave /healthz without a worker.
    """
    pending = list(on_close)

    def release() -> None:
        while pending:
            pending.pop(0)()

    open_streams = current_app.extensions.setdefault("open_streams", OpenStreams())
    limit = current_app.config["STREAM_MAX_OPEN"]
    if not open_streams.enter(limit):
        release()
        raise ServiceUnavailable(
            f"{limit} streams are open on this server process; try again shortly.",
            retry_after=RETRY_AFTER,
        )
    pending.append(open_streams.leave)
    body = guarded(chunks, release, current_app.logger, request.path)
    # ClosingIterator covers a response closed before its first chunk, when `guarded` never ran.
    response = Response(ClosingIterator(body, release), mimetype=mimetype, headers=headers)
    # nginx buffers proxied responses unless told otherwise; this asks it not to, per response.
    response.headers["X-Accel-Buffering"] = "no"
    return response
