"""Helpers every streaming recipe shares: chunking, cursors, fair turns, limits and cleanup."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from typing import IO, Any, Protocol

try:  # gunicorn's gevent workers; waitress's threads take turns without help
    import gevent
    from gevent import monkey
    from gevent.hub import Waiter

    HAVE_GEVENT = True
except ImportError:
    HAVE_GEVENT = False
from flask import Response, current_app, request
from werkzeug.exceptions import BadRequest, HTTPException, RequestTimeout, ServiceUnavailable

from . import lifecycle

# The first chunk leaves as soon as it holds this much, so the headers and the top of the
# document reach the client at once; the rest travels in full chunks.
FIRST_CHUNK_SIZE = 1024

# Seconds a client turned away with 503 is asked to wait before it tries again.
RETRY_AFTER = 5


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


class Cursor(Protocol):
    """What fetch_batches needs of a database cursor (sqlite3's and psycopg's both qualify)."""

    def fetchmany(self, size: int) -> list[Any]: ...


def fetch_batches(cursor: Cursor, size: int) -> Iterator[list[Any]]:
    """Yield the cursor's rows in lists of `size`, never holding the whole result."""
    while batch := cursor.fetchmany(size):
        yield batch


class LoopTurns:
    """Under gevent, cut the CPU work of a worker's streams into turns between looks at I/O.

    gevent's loop looks at the sockets only between runs of up to 50 ready greenlets: with 500
    slow downloads, each making a 16 KiB chunk per run, /healthz waited 187 ms (p50) for its
    turn, 9.6 s for its accept. A stream that finds the current pass of the loop has run TURN
    seconds queues instead, and each pass, after the loop has looked at I/O, lets the queue in,
    first come first served, until TURN is spent: /healthz then waits about 10 ms, at the same
    download speed, and no stream waits behind others for more than its place in the queue.
    """

    TURN = 0.005

    def __init__(self) -> None:
        self.pass_started = time.monotonic()
        self.queue: deque[Waiter[None]] = deque()
        self.after_io: Any = None
        self.keep_polling: Any = None

    def take(self) -> None:
        """Return at once if this pass has time left; else wait for a turn in a later pass."""
        if self.after_io is None:
            self.start()
        if time.monotonic() - self.pass_started <= self.TURN:
            return
        waiter: Waiter[None] = Waiter()
        self.queue.append(waiter)
        # With streams queued the loop must not sleep in its wait for I/O.
        self.keep_polling.start(lambda: None)
        waiter.get()

    def start(self) -> None:
        """Watch this process's loop: a check watcher runs right after each look at I/O."""
        loop = gevent.get_hub().loop
        self.after_io = loop.check()
        self.after_io.start(self.next_pass)
        self.keep_polling = loop.idle()

    def next_pass(self) -> None:
        """Let queued streams run, in order, until this pass has had TURN seconds."""
        self.pass_started = time.monotonic()
        while self.queue and time.monotonic() - self.pass_started <= self.TURN:
            self.queue.popleft().switch(None)
        if not self.queue:
            self.keep_polling.stop()


def on_gevent() -> bool:
    """Whether this process is a gevent worker's (its sockets are gevent's)."""
    return HAVE_GEVENT and monkey.is_module_patched("socket")


def take_turn() -> None:
    """Let other clients in, if this worker is gevent's and the stream has run long enough."""
    if on_gevent():
        TURNS.take()


class BodyStalled(Exception):
    """The client sent nothing of its request body for too long."""


def read_within(body: IO[bytes], size: int, seconds: float) -> bytes:
    """Read up to `size` bytes of a request body; 408 if the client sends none for `seconds`.

    The timeout applies on gevent workers only: waitress hands the app a body it has received
    whole. A body the server cannot read (gunicorn's errors for a malformed chunked body are
    its own) is the client's: a 400.
    """
    try:
        if not on_gevent():
            return body.read(size)
        # An Exception, not gevent's Timeout: gunicorn then marks the body as failed and closes
        # the connection, rather than read the rest of it to serve a next request.
        with gevent.Timeout(seconds, BodyStalled):
            return body.read(size)
    except BodyStalled:
        raise RequestTimeout(f"The body stalled: nothing arrived for {seconds:g} s.") from None
    except HTTPException:
        raise
    except Exception as error:
        raise BadRequest(f"The body could not be read ({type(error).__name__}).") from error


def guarded(
    chunks: Iterable[bytes | str], release: Callable[[], None], logger: logging.Logger, path: str
) -> Generator[bytes]:
    """Pass chunks on as bytes, log an error that happens in the stream, release when it ends."""
    sent = 0
    pending = iter(chunks)
    try:
        while True:
            take_turn()
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


class Holders:
    """A count of what this process holds at once (open streams, database sessions), bounded."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()

    def enter(self, limit: int) -> bool:
        """Count one more, unless `limit` are held already."""
        with self._lock:
            if self.count >= limit:
                return False
            self.count += 1
            return True

    def leave(self) -> None:
        """Count one that has been let go."""
        with self._lock:
            self.count -= 1


def admit(what: str, limit: int) -> Callable[[], None]:
    """Count one more of `what` in this process and return its release; past `limit`, a 503.

    The 503 comes at once, with Retry-After, so that a crowd of long streams can never leave
    /healthz and short requests waiting.
    """
    holders: Holders = current_app.extensions.setdefault(f"open {what}", Holders())
    if not holders.enter(limit):
        raise ServiceUnavailable(
            f"{limit} {what} are open on this server process; try again shortly.",
            retry_after=RETRY_AFTER,
        )
    return holders.leave


class Body:
    """A response body that the server iterates as the stream itself, and that always releases.

    iter(body) hands the server the `guarded` generator, with nothing between them: each layer
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

    Past STREAM_MAX_OPEN open streams in this process it answers 503 instead (see admit), and
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
                "This server is shutting down; try again shortly.", retry_after=RETRY_AFTER
            )
        pending.append(admit("streams", current_app.config["STREAM_MAX_OPEN"]))
    except ServiceUnavailable:
        release()
        raise
    body = Body(guarded(chunks, release, current_app.logger, request.path), release)
    response = Response(body, mimetype=mimetype, headers=headers)
    # `guarded` yields bytes: the server takes the body as it is, with no re-encoding layer.
    response.direct_passthrough = True
    # nginx buffers proxied responses unless told otherwise; this asks it not to, per response.
    response.headers["X-Accel-Buffering"] = "no"
    return response


# One per worker process: its gevent loop starts in the worker, after the fork.
TURNS = LoopTurns()
