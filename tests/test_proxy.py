"""The generated nginx snippet in front of the production server: streams pass unbuffered."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import ServedProject, free_port, stop, wait_for

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path(NGINX).exists(),
        reason="nginx is not installed (Debian: apt-get install nginx-light; .ci/run does this)",
    ),
]

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
    prefix = tmp_path_factory.mktemp("nginx")
    snippet = (served_project.project / "deploy" / "nginx.conf").read_text()
    port = free_port()
    upstream = served_project.url.removeprefix("http://")
    snippet = snippet.replace("server 127.0.0.1:8000;", f"server {upstream};")
    snippet = snippet.replace("listen 80;", f"listen 127.0.0.1:{port};")
    snippet = re.sub(r"\n}\s*$", BUFFERED_LOCATION + "}\n", snippet)
    (prefix / "nginx.conf").write_text(
        f"""daemon off;
user root;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log;
events {{}}
http {{
    access_log off;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    {snippet}
}}
"""
    )
    process = subprocess.Popen([NGINX, "-p", str(prefix), "-c", str(prefix / "nginx.conf")])
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", process)
        yield f"127.0.0.1:{port}"
    finally:
        stop(process)


def read_slowly(address: str, path: str, served: ServedProject) -> tuple[int, bool]:
    """Read the first bytes, pause, then read to the end: (bytes, was the app still streaming)."""
    host, port = address.split(":")
    with socket.create_connection((host, int(port))) as client:
        client.sendall(f"GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n".encode())
        received = len(client.recv(65536))
        time.sleep(1.5)
        still_streaming = served.open_database_files() > 0
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
    received, still_streaming = read_slowly(proxy, "/large.csv", served_project)
    assert still_streaming
    assert received > 25_000_000


def test_control_a_buffering_proxy_would_be_noticed(proxy, served_project) -> None:
    # Buffered, nginx reads the whole response into its temp file while the client pauses.
    received, still_streaming = read_slowly(proxy, "/buffered/large.csv", served_project)
    assert not still_streaming
    assert received > 25_000_000
