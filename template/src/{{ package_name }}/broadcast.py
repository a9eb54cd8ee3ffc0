"""One reader of the events table per process, fanning new rows out to every listener."""

from __future__ import annotations

import threading
import time
from bisect import bisect_right
from collections.abc import Generator
from operator import itemgetter

from flask import Flask

from . import db

# (id, kind, message), as the events table holds them.
Event = tuple[int, str, str]

# Rows read per query, when polling and when a listener catches up from the table.
BATCH = 100
# Events kept in memory for listeners that fall a little behind; older ones come from the table.
KEEP = 1_000
# What the events trigger notifies on PostgreSQL (schema.sql).
CHANNEL = "events"
# The largest id either database stores (a signed 64-bit integer).
MAX_ID = 2**63 - 1

event_id = itemgetter(0)


def read_events(connection: db.Connection, after: int, until: int = MAX_ID) -> list[Event]:
    """The next BATCH events with an id above `after` and at most `until`, oldest first."""
    sql = "SELECT id, kind, message FROM events WHERE id > ? AND id <= ? ORDER BY id LIMIT ?"
    rows = db.execute(connection, sql, (after, until, BATCH)).fetchall()
    return [tuple(row) for row in rows]


def listen_for_news(connection: db.Connection) -> None:
    """On PostgreSQL, subscribe to the NOTIFY that schema.sql's trigger sends for new events."""
    # psycopg's connections receive notifications; sqlite3 has nothing of the kind and polls.
    if hasattr(connection, "notifies"):
        db.execute(connection, f"LISTEN {CHANNEL}")


def wait_for_news(connection: db.Connection | None, timeout: float) -> None:
    """Wait `timeout` s before the next look, or less if PostgreSQL says that rows came."""
    if connection is None or not hasattr(connection, "notifies"):
        time.sleep(timeout)
        return
    for _ in connection.notifies(timeout=timeout, stop_after=1):
        pass


def newest_event(connection: db.Connection) -> int:
    """The id of the newest event in the table (0 when it is empty)."""
    return int(db.scalar(connection, "SELECT coalesce(max(id), 0) FROM events"))


class EventHub:
    """Reads new events once for the whole process and hands them to every waiting listener.

    However many clients listen, the process holds one database connection for them, the
    poller's, and only while someone listens. A listener that resumes from further back than
    memory reaches reads the table on a connection of its own until it has caught up.
    """

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.listeners = 0
        self._recent: list[Event] = []
        # Every event with an id above `_floor` is in `_recent`.
        self._floor = 0
        self._polling = False
        self._condition = threading.Condition()

    def join(self) -> int:
        """Count a new listener, start the poller if it is the first; return the newest id."""
        with self._condition:
            self.listeners += 1
            if not self._polling:
                try:
                    with self.app.app_context():
                        connection = db.connect()
                        try:
                            self._floor = newest_event(connection)
                        finally:
                            connection.close()
                except Exception:
                    self.listeners -= 1
                    raise
                self._recent = []
                self._polling = True
                threading.Thread(target=self._poll, name="event-hub", daemon=True).start()
            return self._newest()

    def leave(self) -> None:
        """Count a listener that has gone; the poller stops after the last one."""
        with self._condition:
            self.listeners -= 1

    def wait(self, after: int, timeout: float) -> list[Event] | None:
        """Events with an id above `after`, waiting up to `timeout` s for one ([] if none came).

        None means that `after` is older than memory reaches: read the table with `catch_up`.
        """
        with self._condition:
            # Memory may move past `after` while this waits, too.
            self._condition.wait_for(lambda: self._newest() > after or after < self._floor, timeout)
            if after < self._floor:
                return None
            return self._recent[bisect_right(self._recent, after, key=event_id) :]

    @property
    def floor(self) -> int:
        """Memory holds every event with an id above this one."""
        with self._condition:
            return self._floor

    def catch_up(self, after: int, until: int) -> Generator[list[Event]]:
        """Batches of the events above `after` and up to `until`, read from the table."""
        with self.app.app_context():
            connection = db.connect()
        try:
            while after < until and (events := read_events(connection, after, until)):
                yield events
                after = events[-1][0]
        finally:
            connection.close()

    def _newest(self) -> int:
        return self._recent[-1][0] if self._recent else self._floor

    def _poll(self) -> None:
        """Look for new rows, then wake the listeners if there are some; repeat.

        It looks again after SSE_POLL_INTERVAL s, or at once when PostgreSQL notifies it.
        """
        connection = None
        try:
            while True:
                with self._condition:
                    if not self.listeners:
                        self._polling = False
                        return
                    after = self._newest()
                try:
                    if connection is None:
                        with self.app.app_context():
                            connection = db.connect()
                        listen_for_news(connection)
                    events = read_events(connection, after)
                except Exception:
                    self.app.logger.exception("Reading new events failed; trying again")
                    if connection is not None:
                        connection.close()
                    connection, events = None, []
                if events:
                    with self._condition:
                        self._recent += events
                        if len(self._recent) > 2 * KEEP:
                            self._floor = self._recent[-KEEP - 1][0]
                            del self._recent[:-KEEP]
                        self._condition.notify_all()
                if len(events) < BATCH:
                    wait_for_news(connection, self.app.config["SSE_POLL_INTERVAL"])
        finally:
            if connection is not None:
                connection.close()
