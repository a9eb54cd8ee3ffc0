"""An upload read as it arrives: the body itself or a form's file field, never stored whole."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import IO, Any

from flask import abort, request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.http import parse_options_header
from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData

from . import cooperative

# Bytes read from the client at a time.
READ_SIZE = 64 * 1024


class ChunkReader(io.RawIOBase):
    """A binary file over byte chunks, so that io.TextIOWrapper can decode them for csv."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks = chunks
        self.pending = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self.pending:
            chunk = next(self.chunks, None)
            if chunk is None:
                return 0
            self.pending = memoryview(chunk)
        size = min(len(buffer), len(self.pending))
        buffer[:size] = self.pending[:size]
        self.pending = self.pending[size:]
        return size


def body_chunks(stream: IO[bytes], timeout: float) -> Iterator[bytes]:
    """The request body as the client sends it (Werkzeug's stream stops at Content-Length)."""
    while chunk := cooperative.read_within(stream, READ_SIZE, timeout):
        yield chunk


def form_file(stream: IO[bytes], boundary: bytes, field: str, timeout: float) -> Iterator[bytes]:
    """The bytes of a multipart form's file field named `field`, parsed as they arrive.

    Werkzeug's form parser (request.files) writes the whole upload to a temporary file before
    the view runs; its incremental decoder hands over each piece of it instead.
    """
    decoder = MultipartDecoder(boundary, max_form_memory_size=2 * READ_SIZE)
    chunks = body_chunks(stream, timeout)
    in_file = found = False
    while True:
        try:
            event = decoder.next_event()
        except ValueError:
            abort(400, "The multipart body ends before its closing boundary.")
        if isinstance(event, NeedData):
            data = next(chunks, None)
            try:
                decoder.receive_data(data)
            except RequestEntityTooLarge:
                # Werkzeug's decoder holds a part's headers whole (a file name, say), to a limit.
                abort(400, f"A part of the form has headers longer than {2 * READ_SIZE:,} bytes.")
        elif isinstance(event, File | Field):
            in_file = isinstance(event, File) and event.name == field
            found = found or in_file
        elif isinstance(event, Data) and in_file:
            yield event.data
        elif isinstance(event, Epilogue):
            break
    if not found:
        abort(400, f"The form has no file field named {field!r}.")


def upload(mimetype: str, field: str, *, timeout: float) -> Iterator[bytes]:
    """The request's upload: the body itself when it is `mimetype`, else a form's `field`.

    Anything else is a 415; a client that sends nothing for `timeout` seconds gets a 408.
    """
    sent, options = parse_options_header(request.headers.get("Content-Type", ""))
    if sent == mimetype:
        return body_chunks(request.stream, timeout)
    if sent == "multipart/form-data" and options.get("boundary"):
        boundary = options["boundary"].encode("latin-1")
        return form_file(request.stream, boundary, field, timeout)
    abort(415, f"Send {mimetype}, or the field {field!r} of a multipart/form-data form.")
