"""The process's shutdown: once the server is told to stop, its streams end and new ones wait."""

from __future__ import annotations

import threading
from collections.abc import Callable

from flask import Flask


class Shutdown:
    """Set once when the server starts to stop; what holds a stream open asks to hear of it."""

    def __init__(self) -> None:
        self.begun = False
        self._callbacks: list[Callable[[], None]] = []
        self._lock = threading.Lock()

    def on_begin(self, callback: Callable[[], None]) -> None:
        """Call `callback` when the shutdown begins."""
        with self._lock:
            self._callbacks.append(callback)

    def begin(self) -> None:
        """Start the shutdown (the server calls it on SIGTERM); only the first call counts."""
        with self._lock:
            if self.begun:
                return
            self.begun = True
            callbacks = list(self._callbacks)
        for callback in callbacks:
            callback()


def init_app(app: Flask) -> None:
    """Give the app its Shutdown, which the server begins (gunicorn.conf.py, serve.py)."""
    app.extensions["shutdown"] = Shutdown()


def shutdown(app: Flask) -> Shutdown:
    """The Shutdown of `app` in this process."""
    state: Shutdown = app.extensions["shutdown"]
    return state
