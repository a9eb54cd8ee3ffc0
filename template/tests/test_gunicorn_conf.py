"""gunicorn.conf.py, read by a real gunicorn that serves a minimal app."""

from __future__ import annotations

import os
import re
import signal
import stat
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path

import pytest

pytestmark = pytest.mark.live

GUNICORN = tuple(int(part) for part in version("gunicorn").split(".")[:2])
CONFIG = Path(__file__).resolve().parent.parent / "gunicorn.conf.py"
APP = """
def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"up"]
"""


@contextmanager
def gunicorn(folder: Path, **env: str) -> Iterator[subprocess.Popen[bytes]]:
    """Serve a minimal app with gunicorn.conf.py on a free port while the block runs.

    The server runs in a process group of its own, as it would in a terminal of its own.
    """
    (folder / "minimal.py").write_text(APP)
    log = folder / "gunicorn.log"
    base = {name: value for name, value in os.environ.items() if name != "XDG_RUNTIME_DIR"}
    command = [sys.executable, "-m", "gunicorn", "-c", str(CONFIG), "minimal:app"]
    with log.open("wb") as output:
        process = subprocess.Popen(
            command,
            cwd=folder,
            env={**base, "BIND": "127.0.0.1:0", "WEB_CONCURRENCY": "1", **env},
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 30
        while not (found := re.search(r"Listening at: (http://\S+)", log.read_text())):
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        url = found[1]
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    assert response.read() == b"up"
                break
            except OSError:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.05)
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
        process.wait(timeout=30)


@pytest.mark.skipif(GUNICORN < (25, 1), reason="gunicorn has a control socket from 25.1 on")
def test_no_control_socket_is_shared_between_instances(tmp_path: Path) -> None:
    # Without a setting, gunicorn would open $HOME/.gunicorn/gunicorn.ctl for every instance.
    with gunicorn(tmp_path, HOME=str(tmp_path)):
        assert not (tmp_path / ".gunicorn").exists()


@pytest.mark.skipif(GUNICORN < (25, 1), reason="gunicorn has a control socket from 25.1 on")
def test_a_control_socket_opens_where_the_environment_says(tmp_path: Path) -> None:
    path = tmp_path / "instance.ctl"
    with gunicorn(tmp_path, HOME=str(tmp_path), GUNICORN_CONTROL_SOCKET=str(path)):
        deadline = time.monotonic() + 10
        while not path.exists():
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert stat.S_ISSOCK(path.stat().st_mode)
        assert not (tmp_path / ".gunicorn").exists()


@pytest.mark.parametrize("attempt", range(3))
def test_ctrl_c_stops_the_server_at_once_and_quietly(tmp_path: Path, attempt: int) -> None:
    with gunicorn(tmp_path) as server:
        # Ctrl-C in a terminal signals the master and its workers, which the master then QUITs.
        started = time.monotonic()
        os.killpg(server.pid, signal.SIGINT)
        assert server.wait(timeout=30) == 0
    assert time.monotonic() - started < 10
    log = (tmp_path / "gunicorn.log").read_text()
    assert "Shutting down: Master" in log
    assert "Traceback" not in log, log
