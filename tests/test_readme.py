"""Follow a generated project's README word for word in a fresh virtual environment."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import free_port, run, stop, wait_for


def readme_blocks(project: Path) -> dict[str, list[str]]:
    """The README's shell blocks, under the heading of the section they stand in."""
    sections: dict[str, list[str]] = {}
    for section in re.split(r"^## ", (project / "README.md").read_text(), flags=re.MULTILINE)[1:]:
        heading = section.splitlines()[0]
        sections[heading] = re.findall(r"```sh\n(.*?)```", section, flags=re.DOTALL)
    return sections


@pytest.mark.install
@pytest.mark.parametrize("server", ["gunicorn", "waitress"])
def test_readme_instructions_work_as_written(render, server) -> None:
    project = render(wsgi_server=server)
    blocks = readme_blocks(project)
    port = free_port()

    # uv comes with the template's dev tools, beside this Python.
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"

    def shell(script: str) -> subprocess.CompletedProcess[str]:
        script = script.replace("127.0.0.1:8000", f"127.0.0.1:{port}")
        return run(["bash", "-euo", "pipefail", "-c", script], project, PATH=path)

    # The project as a user would commit it: following the README must leave nothing to commit.
    shell("git init -q && git add -A && git -c user.name=t -c user.email=t@t commit -qm copy")
    with_uv, with_pip = blocks["Install"]
    (database,) = blocks["Create and seed the database"]
    (tests,) = blocks["Tests"]
    # Both ways in: uv for one server, pip for the other.
    if server == "gunicorn":
        shell(with_uv)
        # The README asks for uv.lock to be committed.
        shell("git add uv.lock && git -c user.name=t -c user.email=t@t commit -qm lock")
        # `uv run` works as well as activating the environment.
        routes = shell("uv run flask --app sales_reports routes").stdout
        assert "/large.csv" in routes
    else:
        shell(with_pip)
    activate = ". .venv/bin/activate\n"
    seeded = shell(activate + database)
    assert "Seeded 100,000 rows into each of orders, events." in seeded.stdout
    checked = shell(activate + tests)
    assert " passed" in checked.stdout

    _development, production = blocks["Run"]
    (tour,) = blocks["Endpoints"]
    # The production block is one command: exec makes it the process that terminate() stops.
    script = activate + "exec " + production.strip().replace("127.0.0.1:8000", f"127.0.0.1:{port}")
    server_process = subprocess.Popen(
        ["bash", "-c", script],
        cwd=project,
        env={**os.environ, "BIND": f"127.0.0.1:{port}"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", server_process)
        output = shell(tour).stdout
    finally:
        log = stop(server_process)
    assert "GET /large.csv?limit=5" in log or server == "waitress"
    assert '{"database":"ok","status":"ok"}' in output
    assert "id,created_at,customer,product,quantity,amount,note" in output
    assert "bytes, first byte after" in output
    assert "<h1>Timeline</h1>" in output
    assert "<p>Hello World!</p>" in output
    assert shell("git status --porcelain").stdout == ""
