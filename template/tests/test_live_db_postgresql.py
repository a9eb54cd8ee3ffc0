"""The production server's pool of PostgreSQL sessions: requests reuse them and give them back."""

from __future__ import annotations

import time
from collections.abc import Mapping

import pytest

from tests.fixtures.postgresql import pool_sessions
from tests.live import LiveServer

pytestmark = pytest.mark.live


def healthz(server: LiveServer) -> int:
    """GET /healthz on a new connection (so that any worker may take it): the status."""
    connection = server.connect()
    try:
        connection.request("GET", "/healthz", headers={"Connection": "close"})
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def all_idle(config: Mapping[str, object], timeout: float = 5) -> dict[int, str]:
    """The pool's sessions once none is busy (a request gives its back after the response)."""
    deadline = time.monotonic() + timeout
    sessions = dict(pool_sessions(str(config["DATABASE_URL"])))
    while set(sessions.values()) - {"idle"} and time.monotonic() < deadline:
        time.sleep(0.05)
        sessions = dict(pool_sessions(str(config["DATABASE_URL"])))
    return sessions


def test_requests_one_after_another_open_no_new_session(live_server) -> None:
    # Enough for every worker to have taken a request and opened its pool's first session.
    assert [healthz(live_server) for _ in range(20)] == [200] * 20
    before = all_idle(live_server.config)
    assert before
    assert [healthz(live_server) for _ in range(200)] == [200] * 200
    after = all_idle(live_server.config)
    # Without a pool, each request would have opened a session of its own and ended it. With
    # one, the same sessions serve them, and a few more at most: a client may send its next
    # request before the worker has given the last one's session back.
    assert set(before) <= set(after)
    assert len(set(after) - set(before)) <= 20
    assert set(after.values()) == {"idle"}
