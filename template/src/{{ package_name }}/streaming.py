"""The streamed response every recipe returns: its chunks, its turns, its limit and its cleanup."""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence

from flask import Response, current_app, request
from werkzeug.exceptions import ServiceUnavailable

from . import cooperative, lifecycle, limits

# The first chunk leaves as soon as it holds this much, so the headers and the top of the
# document reach the client at once; the rest travels in full chunks.
FIRST_CHUNK_SIZE = 1024


def chunked(
    pieces: Iterable[str | bytes], size: int, first_size: int = FIRST_CHUNK_SIZE
) -> Iterator[bytes]:
    """Re-cut pieces (text as UTF-8) into a small first chunk, then chunks of `size` bytes."""
    pending = bytearray()
    limit = min(first_size, size)
    # Pieces can be tiny (Jinja yields one per template node): gather them and join once a
    # chunk's worth has come, which is 14% faster than adding each to `pending`.
    gathered: list[str | bytes] = []
    length = 0
    for piece in pieces:
        gathered.append(piece)
        # A character is at least one byte: `length` never overstates the bytes gathered.
        length += len(piece)
        if length >= limit:
            pending += encoded(gathered)
            gathered.clear()
            length = 0
            while len(pending) >= limit:
                yield bytes(pending[:limit])
                del pending[:limit]
                limit = size
    pending += encoded(gathered)
    while len(pending) >= limit:
        yield bytes(pending[:limit])
        del pending[:limit]
        limit = size
    if pending:
        yield bytes(pending)


def encoded(pieces: list[str | bytes]) -> bytes:
    """Join pieces as UTF-8 bytes: one join when they are all text or all bytes."""
    try:
        if pieces and isinstance(pieces[0], str):
            return "".join(pieces).encode()  # type: ignore[arg-type]
        return b"".join(pieces)  # type: ignore[arg-type]
    except TypeError:  # text and bytes mixed
        return b"".join(piece.encode() if isinstance(piece, str) else piece for piece in pieces)


def relayed(
    chunks: Iterable[bytes | str], release: Callable[[], None], logger: logging.Logger, path: str
) -> Generator[bytes]:
    """Pass chunks on as bytes, log an error that happens in the stream, release when it ends."""
    sent = 0
    pending = iter(chunks)
    try:
        while True:
            cooperative.take_turn()
            try:
                chunk = next(pending)
            except StopIteration:
                break
            yield chunk.encode() if isinstance(chunk, str) else chunk
            sent += 1
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


class Body:
    """A response body that the server iterates as the stream itself, and that always releases.

    iter(body) hands the server the `relayed` generator, with nothing between them: each layer
    there (Werkzeug's encoder and closing iterators) cost every idle stream a frame of C stack
    that gevent copies when it switches away, 3.4 KB in all. close() releases even when the
    generator never started (a HEAD request, a response closed before its first chunk), where
    the generator's own `finally` would not run.
    """

    __slots__ = ("chunks", "release")

    def __init__(self, chunks: Generator[bytes], release: Callable[[], None]) -> None:
        self.chunks = chunks
        self.release = release

    def __iter__(self) -> Iterator[bytes]:
        return self.chunks

    def close(self) -> None:
        """Called by the server when the response ends or the client has gone."""
        try:
            self.chunks.close()
        finally:
            self.release()


def stream(
    chunks: Iterable[bytes | str],
    *,
    mimetype: str,
    on_close: Sequence[Callable[[], None]] = (),
    headers: dict[str, str] | None = None,
) -> Response:
    """Return a streamed response that runs `on_close` once: when it ends or is closed.

    Past STREAM_MAX_OPEN open streams in this process it answers 503 instead (limits.admit), and
    so it does once the server has begun to shut down.
    """
    pending = list(on_close)

    def release() -> None:
        while pending:
            pending.pop(0)()

    try:
        if lifecycle.shutdown(current_app).begun:
            # Its streams are ending: a new one would be cut, while another server can serve it.
            raise ServiceUnavailable(
                "This server is shutting down; try again shortly.", retry_after=limits.RETRY_AFTER
            )
        pending.append(limits.admit("streams", current_app.config["STREAM_MAX_OPEN"]))
    except ServiceUnavailable:
        release()
        raise
    body = Body(relayed(chunks, release, current_app.logger, request.path), release)
    response = Response(body, mimetype=mimetype, headers=headers)
    # `relayed` yields bytes: the server takes the body as it is, with no re-encoding layer.
    response.direct_passthrough = True
    # nginx buffers proxied responses unless told otherwise; this asks it not to, per response.
    response.headers["X-Accel-Buffering"] = "no"
    return response
