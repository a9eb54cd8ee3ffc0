"""How the clients of a gevent worker share it: turns of its loop, reads with a deadline."""

from __future__ import annotations

import time
from collections import deque
from typing import IO, Any

try:  # gunicorn's gevent workers; waitress's threads take turns without help
    import gevent
    from gevent import monkey
    from gevent.hub import Waiter

    HAVE_GEVENT = True
except ImportError:
    HAVE_GEVENT = False
from werkzeug.exceptions import BadRequest, HTTPException, RequestTimeout


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


# One per worker process: its gevent loop starts in the worker, after the fork.
TURNS = LoopTurns()
