"""The generated nginx snippet in front of the production server: streams pass unbuffered."""

from __future__ import annotations

import socket
import time
import urllib.request
from collections.abc import Iterator

import pytest

from .conftest import ServedProject, needs_nginx, nginx

pytestmark = [pytest.mark.slow, needs_nginx]

# A second location that makes nginx buffer anyway: the control that shows the check can fail.
BUFFERED_LOCATION = """
    location /buffered/ {
        rewrite ^/buffered(/.*)$ $1 break;
        proxy_pass http://app;
        proxy_http_version 1.1;
        proxy_buffering on;
        proxy_ignore_headers X-Accel-Buffering;
        proxy_max_temp_file_size 1024m;
    }
"""


@pytest.fixture(scope="module")
def proxy(served_project: ServedProject, tmp_path_factory) -> Iterator[str]:
    """nginx with the project's deploy/nginx.conf, in front of the served project."""
    upstream = served_project.url.removeprefix("http://")
    with nginx(served_project.project, [upstream], tmp_path_factory, BUFFERED_LOCATION) as address:
        yield address


def read_slowly(address: str, path: str, served: ServedProject, pause: float) -> tuple[int, bool]:
    """Read the first bytes, pause, then read to the end: (bytes, was the app still streaming).

    The pause ends early once the app has closed its cursor: it has sent everything.
    """
    host, port = address.split(":")
    with socket.create_connection((host, int(port))) as client:
        client.sendall(f"GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n".encode())
        received = len(client.recv(65536))
        deadline = time.monotonic() + pause
        while (still_streaming := served.open_database_files() > 0) and time.monotonic() < deadline:
            time.sleep(0.1)
        while chunk := client.recv(1 << 20):
            received += len(chunk)
    return received, still_streaming


def test_stream_passes_through_chunked_and_complete(proxy, served_project) -> None:
    direct = urllib.request.urlopen(f"{served_project.url}/large.csv?limit=50000").read()
    started = time.perf_counter()
    with urllib.request.urlopen(f"http://{proxy}/large.csv?limit=50000") as response:
        assert response.headers["Transfer-Encoding"] == "chunked"
        first = response.read1(65536)
        first_byte = time.perf_counter() - started
        body = first + response.read()
    assert body == direct
    assert first_byte < 0.1


def test_proxy_does_not_buffer_the_stream(proxy, served_project) -> None:
    # Unbuffered, the app waits for this slow client: its cursor stays open during the pause.
    received, still_streaming = read_slowly(proxy, "/large.csv", served_project, pause=1.5)
    assert still_streaming
    assert received > 25_000_000


def test_control_a_buffering_proxy_would_be_noticed(proxy, served_project) -> None:
    # Buffered, nginx reads the whole response into its temp file while the client pauses (as
    # long as the app needs to make it: 25 MB took 1 to 3 s on the same machine).
    received, still_streaming = read_slowly(proxy, "/buffered/large.csv", served_project, pause=30)
    assert not still_streaming
    assert received > 25_000_000
