"""Serve the app with waitress, and stop it without cutting its streams off.

waitress has no graceful shutdown: on SIGTERM its process ends at once, and every open stream is
cut off mid-body. Here the first SIGTERM (or Ctrl-C) stops accepting connections, begins the
app's shutdown (event streams end with their last chunk, new streams get 503), lets the requests
in flight finish for up to GRACEFUL_TIMEOUT seconds, then exits; a second signal exits at once.

    python -m PACKAGE.serve [--listen HOST:PORT] [MODULE:APP]

APP is written as gunicorn takes it: a name (`app`) or a call with literal arguments
(`create_app()`, `create_app({"DATABASE": "/tmp/x.sqlite"})`); PACKAGE:create_app() by default.
"""

from __future__ import annotations

import argparse
import ast
import logging
import os
import signal
import threading
import time
from importlib import import_module
from typing import Any

from waitress import wasyncore
from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer, create_server
from waitress.task import WSGITask

from . import lifecycle
from .limits import CLOSE_AFTER

# Seconds the requests in flight may take to finish once the server is told to stop.
GRACEFUL_TIMEOUT = 30
LOGGER = logging.getLogger("waitress")
# Threads for an app that does not say how many streams it holds (the fake chat upstream that
# the relay benchmark serves): each of its answers is a stream that holds one.
THREADS = 64

# The settings every launch uses, what each is for:
SETTINGS: dict[str, Any] = {
    # waitress queues the body in memory (up to 16 MB a connection by default) when the app
    # produces faster than the client reads; a 1 MiB mark makes the app wait instead.
    "outbuf_high_watermark": 1024 * 1024,
    # Keep reading a connection while its request runs, so a client that hangs up is seen at
    # once and its stream ends at the next write, not several writes later.
    "channel_request_lookahead": 1,
    # waitress stops accepting past 100 open connections (kept-alive ones included), which left
    # /healthz unanswered behind 56 streams and 44 clients it had turned away (these now lose
    # their connection with the 503: Task); poll() instead of select() has no 1,024-descriptor
    # ceiling.
    "connection_limit": 500,
    "asyncore_use_poll": True,
}


class Task(WSGITask):
    """waitress's task, which closes the connection after an answer the app marked CLOSE_AFTER."""

    def build_response_header(self) -> bytes:
        if self.environ is not None and self.environ.get(CLOSE_AFTER):
            self.set_close_on_finish()
        header: bytes = super().build_response_header()
        return header


class Channel(HTTPChannel):
    """waitress's connection, with the Task above."""

    task_class = Task


def load(spec: str) -> Any:
    """The WSGI app that MODULE:APP names, APP a name or a call with literal arguments."""
    module, _, expression = spec.partition(":")
    tree = ast.parse(expression, mode="eval").body
    if isinstance(tree, ast.Name):
        return getattr(import_module(module), tree.id)
    if not (isinstance(tree, ast.Call) and isinstance(tree.func, ast.Name)):
        raise SystemExit(f"{spec!r} is neither MODULE:NAME nor MODULE:NAME(literal arguments)")
    factory = getattr(import_module(module), tree.func.id)
    arguments = [ast.literal_eval(argument) for argument in tree.args]
    options = {str(each.arg): ast.literal_eval(each.value) for each in tree.keywords if each.arg}
    return factory(*arguments, **options)


def threads_for(app: Any) -> int:
    """One thread per request: this project's STREAM_MAX_OPEN streams, and 8 for short requests."""
    config = getattr(app, "config", {})
    return config["STREAM_MAX_OPEN"] + 8 if "STREAM_MAX_OPEN" in config else THREADS


def busy(sockets: dict[int, Any]) -> bool:
    """Whether a request is still being answered or its last bytes are still to be sent."""
    channels = [each for each in list(sockets.values()) if isinstance(each, HTTPChannel)]
    return any(channel.requests or channel.total_outbufs_len for channel in channels)


def stop_gracefully(sockets: dict[int, Any], app: Any) -> None:
    """Stop listening, begin the app's shutdown, and exit once nothing is in flight.

    `sockets` is the server's map: its listening sockets and the connections they accepted.
    """
    # Closed, a listening socket refuses new connections at once (a proxy tries another
    # server); merely not accepting them would leave them waiting in its queue till the exit.
    for dispatcher in list(sockets.values()):
        if isinstance(dispatcher, BaseWSGIServer):
            # The socket alone: the server's own close() would take its trigger, which the
            # connections still in flight use to wake the loop.
            wasyncore.dispatcher.close(dispatcher)
    if "shutdown" in getattr(app, "extensions", {}):
        lifecycle.shutdown(app).begin()

    def finish() -> None:
        deadline = time.monotonic() + GRACEFUL_TIMEOUT
        while busy(sockets) and time.monotonic() < deadline:
            time.sleep(0.05)
        # Past the deadline, cut what is left, in the loop's thread (the trigger runs it there):
        # its threads then end at their next write, not in the 5 s waitress gives them after.
        channels = [each for each in list(sockets.values()) if isinstance(each, HTTPChannel)]
        for channel in channels:
            server: Any = channel.server  # types-waitress types its trigger as an int
            server.trigger.pull_trigger(channel.handle_close)
        cut = time.monotonic() + 2
        while any(channel.connected for channel in channels) and time.monotonic() < cut:
            time.sleep(0.05)
        # The second signal ends server.run() in the main thread.
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=finish, name="graceful-stop", daemon=True).start()


def main(argv: list[str] | None = None) -> None:
    """Serve until told to stop."""
    parser = argparse.ArgumentParser(prog=f"python -m {__package__}.serve")
    parser.add_argument("--listen", default=os.environ.get("BIND", "127.0.0.1:8000"))
    parser.add_argument(
        "app", nargs="?", default=f"{__package__}:create_app()", metavar="MODULE:APP"
    )
    options = parser.parse_args(argv)
    app = load(options.app)
    sockets: dict[int, Any] = {}
    server = create_server(
        app, map=sockets, listen=options.listen, threads=threads_for(app), **SETTINGS
    )
    for listener in list(sockets.values()):
        listener.channel_class = Channel
    stopping = False

    def on_signal(signum: int, frame: Any) -> None:
        nonlocal stopping
        if stopping:
            raise SystemExit(0)  # server.run() ends its loop and its threads
        stopping = True
        LOGGER.info("Stopping: no new connections; the requests in flight may finish")
        stop_gracefully(sockets, app)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    # As `python -m waitress` sets it up: waitress's own messages on stderr.
    logging.basicConfig()
    if LOGGER.level == logging.NOTSET:
        LOGGER.setLevel(logging.INFO)
    server.print_listen("Serving on http://{}:{}")
    server.run()


if __name__ == "__main__":
    main()
