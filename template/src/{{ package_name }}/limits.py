"""Bounds on what a server process holds at once: past one, a 503 at once with Retry-After."""

from __future__ import annotations

import threading
from collections.abc import Callable

from flask import current_app
from werkzeug.exceptions import ServiceUnavailable

# Seconds a client turned away with 503 is asked to wait before it tries again.
RETRY_AFTER = 5
# The WSGI environ key by which the app asks the server to close the connection after its
# answer: a client turned away should not keep a connection the server counts (serve.py).
CLOSE_AFTER = "app.close_connection"


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
