"""The production server for the live tests: start it, fetch from it, count what it holds.

`StreamChecks` and `DownloadChecks` are what every streamed path must pass on the real server;
a recipe's `test_live_<recipe>.py` names its paths in a subclass of one of them.
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from flask import Flask

from serving import (
    app_with,
    database_connections,
    free_port,
    peak_memory_mb,
    server_command,
    wait_until_healthy,
)

PROJECT = Path(__file__).resolve().parent.parent
# Rows in each table of the database that the shared server (conftest's live_server) serves.
ROWS = 200_000


@dataclass
class LiveServer:
    """A production server process on a loopback port, and the same app in this process."""

    process: subprocess.Popen[bytes]
    port: int
    config: Mapping[str, object]
    app: Flask

    def connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)

    def send(self, request: bytes) -> socket.socket:
        """Open a raw connection to the server and send `request` on it."""
        client = socket.create_connection(("127.0.0.1", self.port))
        client.sendall(request)
        return client

    def database_sessions(self) -> int:
        """How many connections the server holds on its database."""
        env = {f"FLASK_{key}": str(value) for key, value in self.config.items()}
        return database_connections(self.process.pid, env)

    def database_released(self, timeout: float = 10) -> bool:
        """Wait until the server holds nothing open on the database; False if that never happens."""
        deadline = time.monotonic() + timeout
        while self.database_sessions():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True


@contextmanager
def running(config: Mapping[str, object], app: Flask, log: Path) -> Iterator[LiveServer]:
    """The production server of create_app(config) while the block runs; its output in `log`.

    The app's defaults and `config`, as the other tests have them: the project's settings.py
    stays out.
    """
    port = free_port()
    with log.open("wb") as output:
        process = subprocess.Popen(
            server_command(app_with(config), port=port),
            cwd=PROJECT,
            # gunicorn: two workers whatever the machine, so that sharing clients is tested.
            env={**os.environ, "WEB_CONCURRENCY": "2"},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until_healthy(process, port)
            yield LiveServer(process, port, config, app)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                # gunicorn lets open streams finish for up to graceful_timeout: do not wait so long.
                process.kill()
                process.wait()


def download(server: LiveServer, path: str) -> tuple[float, float, bytes, http.client.HTTPResponse]:
    """Fetch `path`: seconds to the first body byte, total seconds, the body, the response."""
    connection = server.connect()
    started = time.perf_counter()
    connection.request("GET", path)
    response = connection.getresponse()
    assert response.status == 200, path
    chunks = [response.read1(65536)]
    first_byte = time.perf_counter() - started
    while chunk := response.read1(65536):
        chunks.append(chunk)
    connection.close()
    return first_byte, time.perf_counter() - started, b"".join(chunks), response


def read_until(client: socket.socket, marker: bytes, timeout: float) -> bytes:
    """Read from a stream until `marker` has arrived; fail after `timeout` s."""
    client.settimeout(timeout)
    received = b""
    while marker not in received:
        chunk = client.recv(65536)
        assert chunk, received
        received += chunk
    return received


def health_latencies(server: LiveServer, count: int) -> list[float]:
    """Seconds each of `count` /healthz requests took, slowest last."""
    latencies = []
    for _ in range(count):
        connection = server.connect()
        started = time.perf_counter()
        connection.request("GET", "/healthz")
        assert connection.getresponse().status == 200
        latencies.append(time.perf_counter() - started)
        connection.close()
    return sorted(latencies)


class StreamChecks:
    """A streamed response on the real server: a subclass names it in `path` (a few MB at most)."""

    path: ClassVar[str]

    @staticmethod
    def comparable(body: bytes) -> bytes:
        """What of a body every download of `path` must have the same: all of it, here."""
        return body

    def test_response_is_chunked(self, live_server: LiveServer) -> None:
        *_, body, response = download(live_server, self.path)
        assert response.getheader("Transfer-Encoding") == "chunked"
        assert response.getheader("Content-Length") is None
        assert response.getheader("X-Accel-Buffering") == "no"
        assert body

    def test_eight_concurrent_clients_get_complete_bodies(self, live_server: LiveServer) -> None:
        # What the app produces for this request, without a server in between.
        expected = self.comparable(live_server.app.test_client().get(self.path).get_data())
        with ThreadPoolExecutor(max_workers=8) as pool:
            bodies = list(pool.map(lambda _: download(live_server, self.path)[2], range(8)))
        bodies = [self.comparable(body) for body in bodies]
        assert [len(body) for body in bodies] == [len(expected)] * 8
        assert all(body == expected for body in bodies)


class DownloadChecks(StreamChecks):
    """A large download too: `large`, over `least_size` bytes; `path` is the same, smaller."""

    large: ClassVar[str]
    least_size: ClassVar[int]
    # PostgreSQL sessions that one download holds.
    sessions: ClassVar[int] = 1

    def test_first_bytes_arrive_long_before_the_last(self, live_server: LiveServer) -> None:
        first_byte, total, body, _ = download(live_server, self.large)
        assert len(body) > self.least_size
        # Orders of magnitude, which a loaded machine leaves standing: the first byte comes in a
        # few ms here (up to 0.35 s with the cores busy), and long before the last; a body
        # gathered before it was sent would come all at the end.
        assert first_byte < 1
        assert first_byte < total / 2

    def test_a_client_that_hangs_up_releases_the_cursor(self, live_server: LiveServer) -> None:
        assert live_server.database_released()
        request = f"GET {self.large} HTTP/1.1\r\nHost: test\r\n\r\n".encode()
        with live_server.send(request) as client:
            assert client.recv(65536)
            # The server blocks on this client's full socket with its cursor open.
            deadline = time.monotonic() + 10
            while not live_server.database_sessions():
                assert time.monotonic() < deadline
                time.sleep(0.05)
        assert live_server.database_released()

    def test_clients_that_hang_up_together_release_every_cursor(
        self, live_server: LiveServer
    ) -> None:
        # As a deploy or a flaky network cuts many at once: each client leaves after its first
        # block, while its stream has a cursor open. 20, or as many as the bounds let in at once.
        config = live_server.app.config
        bounds = [20, config["STREAM_MAX_OPEN"]]
        if "DATABASE_MAX_STREAMS" in config:
            bounds.append(config["DATABASE_MAX_STREAMS"] // self.sessions)
        assert live_server.database_released()
        request = f"GET {self.large} HTTP/1.1\r\nHost: test\r\n\r\n".encode()
        clients = [live_server.send(request) for _ in range(min(bounds))]
        try:
            for client in clients:
                assert read_until(client, b"\r\n\r\n", timeout=30).startswith(b"HTTP/1.1 200 ")
        finally:
            for client in clients:
                client.close()
        assert live_server.database_released()

    def test_memory_does_not_grow_with_the_download(self, live_server: LiveServer) -> None:
        download(live_server, self.path)
        before = peak_memory_mb(live_server.process.pid)
        assert len(download(live_server, self.large)[2]) > self.least_size
        assert peak_memory_mb(live_server.process.pid) - before < 5
