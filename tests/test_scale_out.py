"""Two app instances behind nginx over one PostgreSQL: an event reaches the clients of both."""

from __future__ import annotations

import os
import socket
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import copier
import psycopg
import pytest

from .conftest import TEMPLATE, needs_nginx, nginx, run, start_production_server, stop

pytestmark = [pytest.mark.slow, needs_nginx]
# Its own name on every run, so that two runs of the suite can share the server.
SCHEMA = f"scale_out_{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="module")
def database_url() -> Iterator[str]:
    """A schema of its own at DATABASE_URL; sessions opened through the URL carry its name."""
    url = os.environ.get("DATABASE_URL", "postgresql:///postgres")
    try:
        admin = psycopg.connect(url, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL is not reachable at DATABASE_URL={url!r}: {error}")
        pytest.skip(f"PostgreSQL is not reachable at DATABASE_URL={url!r}")
    with admin:
        admin.execute(f"CREATE SCHEMA {SCHEMA}")
        try:
            yield psycopg.conninfo.make_conninfo(
                url, options=f"-c search_path={SCHEMA}", application_name=SCHEMA
            )
        finally:
            admin.execute("SET lock_timeout = '10s'")
            admin.execute(f"DROP SCHEMA {SCHEMA} CASCADE")


@pytest.fixture(scope="module")
def instances(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, dict[str, str], list[str]]]:
    """A PostgreSQL project with sse, served twice, one worker each: (project, env, addresses)."""
    project = tmp_path_factory.mktemp("scale") / "project"
    answers = {"database": "postgresql", "recipes": ["sse"]}
    copier.run_copy(str(TEMPLATE), project, data=answers, defaults=True, vcs_ref="HEAD", quiet=True)
    env = {
        **os.environ,
        "PYTHONPATH": str(project / "src"),
        "FLASK_DATABASE_URL": database_url,
        "WEB_CONCURRENCY": "1",
    }
    flask = [sys.executable, "-m", "flask", "--app", "sales_reports"]
    run([*flask, "seed-db", "--rows", "100"], project, **env)
    processes, addresses = [], []
    try:
        for _ in range(2):
            process, address = start_production_server(project, env)
            processes.append(process)
            addresses.append(address)
        yield project, env, addresses
    finally:
        for process in processes:
            stop(process)


def sessions(database_url: str) -> int:
    """How many sessions the app instances hold on the database."""
    with psycopg.connect(database_url) as connection:
        row = connection.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE application_name = %s AND pid <> pg_backend_pid()",
            (SCHEMA,),
        ).fetchone()
    return int(row[0]) if row else 0


def listen(address: str) -> socket.socket:
    """Open /events through `address` and read up to its first chunk."""
    host, port = address.split(":")
    client = socket.create_connection((host, int(port)), timeout=10)
    client.sendall(b"GET /events HTTP/1.1\r\nHost: test\r\n\r\n")
    received = b""
    while b"retry: 3000" not in received:
        chunk = client.recv(65536)
        assert chunk, received
        received += chunk
    return client


def test_an_event_reaches_the_clients_of_both_instances(
    instances, database_url, tmp_path_factory
) -> None:
    project, env, addresses = instances
    with nginx(project, addresses, tmp_path_factory) as proxy:
        # nginx takes turns between the two instances.
        clients = [listen(proxy) for _ in range(6)]
        try:
            # One poller per instance, whatever the number of clients.
            deadline = time.monotonic() + 5
            while sessions(database_url) < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert sessions(database_url) == 2
            flask = [sys.executable, "-m", "flask", "--app", "sales_reports"]
            added = run(
                [*flask, "add-event", "across instances", "--kind", "deploy"], project, **env
            )
            event_id = int(added.stdout.split()[-1].rstrip("."))
            expected = f"id: {event_id}\nevent: deploy\ndata: across instances\n\n".encode()
            for client in clients:
                received = b""
                while expected not in received:
                    chunk = client.recv(65536)
                    assert chunk, received
                    received += chunk
        finally:
            for client in clients:
                client.close()
