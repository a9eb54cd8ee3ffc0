"""PostgreSQL sessions kept open for requests' own queries: psycopg_pool, one pool a process."""

from __future__ import annotations

import threading
from typing import Any

import psycopg
from flask import Flask, current_app
from psycopg.conninfo import make_conninfo
from psycopg_pool import ConnectionPool

from .db_postgresql import pool_session_name

Pool = ConnectionPool[psycopg.Connection[Any]]


class RequestPool:
    """The app's pool of sessions for requests, opened on first use (one per DATABASE_URL)."""

    def __init__(self, size: int, timeout: float) -> None:
        self._size = size
        self._timeout = timeout
        self._pools: dict[str, Pool] = {}
        # Two first requests at once (threads, or greenlets that yield while a pool starts)
        # would each open a pool, and one would never be closed.
        self._opening = threading.Lock()

    def connect(self) -> psycopg.Connection[Any]:
        """A session from the pool; 503 when none comes within the timeout."""
        url = current_app.config["DATABASE_URL"]
        if (pool := self._pools.get(url)) is None:
            with self._opening:
                if (pool := self._pools.get(url)) is None:
                    pool = self._pools[url] = self._open(url)
        if not pool.get_stats()["pool_size"]:
            # No session yet, or none left (the database went away). A session of its own says
            # at once whether the database answers, and why not, where the pool would keep the
            # request waiting for the timeout to say only that it waited.
            psycopg.connect(url, autocommit=True, connect_timeout=2).close()
        return pool.getconn(timeout=self._timeout)

    def _open(self, url: str) -> Pool:
        return ConnectionPool(
            make_conninfo(url, application_name=pool_session_name(url, current_app.name)),
            kwargs={"autocommit": True},
            # Opened as requests need them (none for an app that never queries), closed after
            # 10 idle minutes; close() gives a connection back.
            min_size=0,
            max_size=self._size,
            close_returns=True,
            # A session that the server ended (a restart, a failover) is replaced before a
            # request gets it: one round trip, about 0.1 ms on a local server.
            check=ConnectionPool.check_connection,
            # A session that cannot be opened is not retried for minutes in the background:
            # the next request that needs one tries again.
            reconnect_timeout=0,
            open=True,
        )

    def close(self) -> None:
        """Close the pools' sessions and stop their threads."""
        while self._pools:
            self._pools.popitem()[1].close()


def init_app(app: Flask) -> None:
    """Give the app a pool for requests, unless DATABASE_POOL_SIZE is 0."""
    if size := app.config["DATABASE_POOL_SIZE"]:
        app.extensions["database_pool"] = RequestPool(size, app.config["DATABASE_POOL_TIMEOUT"])
