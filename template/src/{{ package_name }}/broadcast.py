"""One reader of the events table per process, fanning new rows out to every listener."""

from __future__ import annotations

import threading
import time
from bisect import bisect_right
from collections.abc import Iterator
from contextlib import suppress
from operator import itemgetter

from flask import Flask

from . import db, lifecycle
from . import events as event_table  # `events` names the lists of rows here
from .events import MAX_ID, Event

# Rows read per query, when polling and when a listener catches up from the table.
BATCH = 100
# Events kept in memory for listeners that fall a little behind; older ones come from the table.
KEEP = 1_000
# What the events trigger notifies on PostgreSQL (schema.sql, or migration 0002).
CHANNEL = "events"
# Seconds the poller waits after an error before it tries again, doubled with each error in a
# row up to MAX_PAUSE: a lost session (a restart, a failover) is back at once, a database that
# stays down is tried every 5 s.
FIRST_PAUSE = 0.05
MAX_PAUSE = 5.0

event_id = itemgetter(0)


def read_events(connection: db.Connection, after: int, until: int = MAX_ID) -> list[Event]:
    """The next BATCH events with an id above `after` and at most `until`, oldest first."""
    return event_table.between(connection, after, until, BATCH)


def listen_for_news(connection: db.Connection) -> None:
    """On PostgreSQL, subscribe to the NOTIFY that the events trigger sends for new events."""
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


class TableReader:
    """A connection of its own to the events table, for a listener that is far behind."""

    def __init__(self, app: Flask) -> None:
        # Counted with the streams that hold a session: past the bound, a 503 (db.hold_connection).
        with app.app_context():
            self._connection, self.close = db.hold_connection()

    def batches(self, after: int, until: int) -> Iterator[list[Event]]:
        """Batches of the events above `after` and up to `until`, oldest first."""
        while after < until and (events := read_events(self._connection, after, until)):
            yield events
            after = events[-1][0]


class EventHub:
    """Reads new events once for the whole process and hands them to every waiting listener.

    However many clients listen, the process holds one database connection for them, the
    poller's, and only while someone listens. A listener that resumes from further back than
    memory reaches reads the table with a TableReader until it has caught up.
    """

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.listeners = 0
        self._recent: list[Event] = []
        # Every event with an id above `_floor` is in `_recent`.
        self._floor = 0
        self._polling = False
        # When the poller last read the table (time.monotonic()).
        self._looked = 0.0
        # Set when the server starts to stop: every listener's stream ends.
        self.closing = False
        self._condition = threading.Condition()
        lifecycle.shutdown(app).on_begin(self.close)

    def join(self) -> int:
        """Count a new listener, start the poller if it is the first; return the newest id."""
        with self._condition:
            self.listeners += 1
            if not self._polling:
                try:
                    with self.app.app_context():
                        connection = db.connect()
                        try:
                            self._floor = event_table.newest(connection)
                        finally:
                            connection.close()
                except Exception:
                    self.listeners -= 1
                    raise
                self._recent = []
                self._start_poller()
            return self._newest()

    def leave(self) -> None:
        """Count a listener that has gone; the poller stops after the last one."""
        with self._condition:
            self.listeners -= 1

    def wait(self, after: int, timeout: float) -> list[Event] | None:
        """Events with an id above `after`, waiting up to `timeout` s for one ([] if none came).

        None means that `after` is older than memory reaches: read the table with a TableReader.
        """
        with self._condition:
            if not self._polling:
                # The poller ended with an error it could not survive: start another.
                self._start_poller()
            # Memory may move past `after` while this waits, too.
            self._condition.wait_for(
                lambda: self._newest() > after or after < self._floor or self.closing, timeout
            )
            if after < self._floor:
                return None
            return self._recent[bisect_right(self._recent, after, key=event_id) :]

    def close(self) -> None:
        """Wake every listener for the last time: the server is shutting down."""
        with self._condition:
            self.closing = True
            self._condition.notify_all()

    @property
    def floor(self) -> int:
        """Memory holds every event with an id above this one."""
        with self._condition:
            return self._floor

    def health(self) -> str:
        """The poller's state for /healthz: "ok", or what is wrong."""
        with self._condition:
            if not self.listeners:
                return "ok"
            quiet = time.monotonic() - self._looked
        # The poller reads the table at least once every SSE_POLL_INTERVAL s while it runs.
        if quiet > max(2.0, 10 * self.app.config["SSE_POLL_INTERVAL"]):
            return f"no new events read for {quiet:.0f} s"
        return "ok"

    def _newest(self) -> int:
        return self._recent[-1][0] if self._recent else self._floor

    def _start_poller(self) -> None:
        """Start the poller's thread (the caller holds the condition)."""
        self._polling = True
        self._looked = time.monotonic()
        threading.Thread(target=self._poll, name="event-hub", daemon=True).start()

    def _poll(self) -> None:
        """Look for new rows, then wake the listeners if there are some; repeat.

        It looks again after SSE_POLL_INTERVAL s, or at once when PostgreSQL notifies it. Any
        error closes the connection and the poller opens a new one, after a pause that doubles
        with each failure in a row; it goes on from the newest event it has, so nothing is lost.
        """
        connection = None
        failures = 0
        try:
            while True:
                with self._condition:
                    if not self.listeners:
                        self._polling = False
                        return
                    after = self._newest()
                interval = self.app.config["SSE_POLL_INTERVAL"]
                try:
                    if connection is None:
                        with self.app.app_context():
                            connection = db.connect_for_listener()
                        listen_for_news(connection)
                    events = read_events(connection, after)
                    self._publish(events)
                    if len(events) < BATCH:
                        wait_for_news(connection, interval)
                    failures = 0
                except Exception:
                    failures += 1
                    self.app.logger.exception("Reading new events failed (%d in a row)", failures)
                    close_quietly(connection)
                    connection = None
                    time.sleep(min(FIRST_PAUSE * 2 ** (failures - 1), MAX_PAUSE))
        except BaseException:
            # Not an error of the database's (the worker is exiting, say): the next wait() starts
            # another poller if there are listeners still.
            with self._condition:
                self._polling = False
            raise
        finally:
            close_quietly(connection)

    def _publish(self, events: list[Event]) -> None:
        """Keep new events in memory and wake the listeners; note that the table was read."""
        with self._condition:
            self._looked = time.monotonic()
            if not events:
                return
            self._recent += events
            if len(self._recent) > 2 * KEEP:
                self._floor = self._recent[-KEEP - 1][0]
                del self._recent[:-KEEP]
            self._condition.notify_all()


def close_quietly(connection: db.Connection | None) -> None:
    """Close a connection that may be broken already."""
    if connection is not None:
        # A connection that failed can fail to close, too.
        with suppress(Exception):
            connection.close()
