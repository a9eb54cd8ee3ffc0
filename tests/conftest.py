"""Fixtures that render the template into temporary folders and run what it generated."""

from __future__ import annotations

import ast
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import copier
import pytest

TEMPLATE = Path(__file__).resolve().parent.parent
# Every recipe, in the order copier.yml offers them and the answers file stores them.
ALL_RECIPES = [
    "csv_export",
    "template_stream",
    "context_stream",
    "sse",
    "ndjson",
    "zip_export",
    "csv_import",
    "token_relay",
]
# How a project's own tests are run: in this environment, leaving no cache in the project.
PYTEST = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
MYPY_CACHE = Path(tempfile.gettempdir()) / "flask-streaming-template-mypy-cache"


def run(command: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Run a command, failing the test with its output when it fails."""
    result = subprocess.run(
        command, cwd=cwd, env={**os.environ, **env}, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture
def render(tmp_path: Path) -> Callable[..., Path]:
    """Render the working tree (uncommitted edits included) with the defaults and `answers`."""

    def render_project(name: str = "project", **answers: Any) -> Path:
        destination = tmp_path / name
        copier.run_copy(
            str(TEMPLATE),
            destination,
            data=answers,
            defaults=True,
            vcs_ref="HEAD",
            quiet=True,
            unsafe=False,
        )
        return destination

    return render_project


def run_project_checks(project: Path, *, live: bool = False) -> subprocess.CompletedProcess[str]:
    """Lint and type-check the rendered project, and run its own tests in this environment.

    Its live tests (the production server, started for real) run only when `live` is true: the
    renders that carry every recipe run them, so each one runs on each server and database.
    """
    python = sys.executable
    run([python, "-m", "ruff", "check", "--no-cache", "."], project)
    run([python, "-m", "ruff", "format", "--check", "--no-cache", "."], project)
    # One cache for every render: the libraries' types are read once, not once a project.
    run([python, "-m", "mypy", "--cache-dir", str(MYPY_CACHE)], project)
    # This environment has the projects' dependencies; src/ on the path stands in for an install.
    return run(
        [*PYTEST, *([] if live else ["-m", "not live"])], project, PYTHONPATH=str(project / "src")
    )


def stop(process: subprocess.Popen[Any]) -> str:
    """Stop a server: SIGTERM, then SIGKILL if it has not exited after 10 s; return its output."""
    process.terminate()
    try:
        output = process.communicate(timeout=10)[0]
    except subprocess.TimeoutExpired:
        process.kill()
        output = process.communicate()[0]
    return output or ""


def free_port() -> int:
    """A TCP port on the loopback interface that nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for(url: str, process: subprocess.Popen[Any], timeout: float = 30) -> None:
    """Poll `url` until it answers 200, failing if `process` exits or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"{process.args!r} exited with {process.returncode}"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"{url} did not answer within {timeout} s")


def start_production_server(
    project: Path, env: dict[str, str]
) -> tuple[subprocess.Popen[bytes], str]:
    """Start a rendered project's production server on a free port; wait until it is healthy."""
    port = free_port()
    # From scripts/serving.py, which the project's benchmarks import from their folder.
    ask = (
        "import sys; sys.path.insert(0, 'scripts'); from serving import server_command; "
        f"print(server_command(port={port}))"
    )
    command = ast.literal_eval(run([sys.executable, "-c", ask], project, **env).stdout)
    process = subprocess.Popen(
        command, cwd=project, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", process)
    except BaseException:
        stop(process)
        raise
    return process, f"127.0.0.1:{port}"


@dataclass
class ServedProject:
    """A rendered project's production server on a loopback port, over a seeded database."""

    project: Path
    url: str
    process: subprocess.Popen[bytes]
    database: Path

    def open_database_files(self) -> int:
        """How many descriptors the server and its workers hold on the database files."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text()
        count = 0
        for pid in [self.process.pid, *map(int, children.split())]:
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with suppress(FileNotFoundError):
                    count += os.readlink(fd).startswith(str(self.database))
        return count


@pytest.fixture(scope="module")
def served_project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedProject]:
    """A project with every recipe, 300,000 rows a table, served by its production server."""
    project = tmp_path_factory.mktemp("served") / "project"
    copier.run_copy(
        str(TEMPLATE),
        project,
        data={"recipes": ALL_RECIPES},
        defaults=True,
        vcs_ref="HEAD",
        quiet=True,
    )
    package = "sales_reports"
    database = project / "served.sqlite"
    env = {**os.environ, "PYTHONPATH": str(project / "src"), "FLASK_DATABASE": str(database)}
    python = sys.executable
    run([python, "-m", "flask", "--app", package, "seed-db", "--rows", "300000"], project, **env)
    process, address = start_production_server(project, env)
    try:
        yield ServedProject(project, f"http://{address}", process, database)
    finally:
        stop(process)


NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
needs_nginx = pytest.mark.skipif(
    not Path(NGINX).exists(),
    reason="nginx is not installed (Debian: apt-get install nginx-light; .ci/run does this)",
)


@contextmanager
def nginx(
    project: Path,
    upstreams: list[str],
    tmp_path_factory: pytest.TempPathFactory,
    extra_locations: str = "",
) -> Iterator[str]:
    """Run nginx with the project's deploy/nginx.conf in front of `upstreams`; yield its address."""
    prefix = tmp_path_factory.mktemp("nginx")
    snippet = (project / "deploy" / "nginx.conf").read_text()
    port = free_port()
    servers = "".join(f"server {upstream}; " for upstream in upstreams)
    snippet = snippet.replace("server 127.0.0.1:8000;", servers)
    snippet = snippet.replace("listen 80;", f"listen 127.0.0.1:{port};")
    snippet = re.sub(r"\n}\s*$", extra_locations + "}\n", snippet)
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
