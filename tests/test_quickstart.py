"""The README's quickstart, pasted line by line into a shell, serves what it says it serves."""

from __future__ import annotations

import re
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from .conftest import TEMPLATE, free_port, run, stop, wait_for

README = (TEMPLATE / "README.md").read_text()
QUICKSTART = README[README.index("[start:quickstart]") : README.index("[end:quickstart]")]
BLOCKS = re.findall(r"```(\w+)\n(.*?)\n```", QUICKSTART, re.DOTALL)
DEFAULT_PORT = "127.0.0.1:5000"


@pytest.mark.install
def test_the_quickstart_serves_the_output_it_shows(tmp_path: Path) -> None:
    (_, setup), (_, fetch), (_, shown) = BLOCKS
    *commands, serve = setup.splitlines()
    assert serve == "flask --app sales_reports run"
    # Pressing Enter at every question (test_interactive.py does that through a terminal) is
    # what --defaults does without one.
    copy = next(number for number, line in enumerate(commands) if " copy " in line)
    assert commands[copy].endswith("# Enter keeps each default"), commands[copy]
    commands[copy] = commands[copy].replace(" copy ", " copy --defaults ", 1)
    # The folder that holds a clone of this repository, as the quickstart assumes.
    run(["git", "clone", "--quiet", str(TEMPLATE), "flask-streaming-template"], tmp_path)
    port = free_port()
    script = "\n".join(["set -eu", *commands, f"exec {serve} --port {port}"])
    server = subprocess.Popen(
        ["bash", "-c", script],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", server, timeout=300)
        # The copy records where the template came from, so that `copier update` finds it.
        answers = (tmp_path / "my-app" / ".copier-answers.yml").read_text()
        assert f"_src_path: {tmp_path / 'flask-streaming-template'}\n" in answers
        url = re.fullmatch(r"curl -N '(\S+)'", fetch)
        assert url is not None, fetch
        local = url[1].replace(DEFAULT_PORT, f"127.0.0.1:{port}")
        with urllib.request.urlopen(local) as response:
            assert response.read().decode() == shown.replace("\n", "\r\n") + "\r\n"
        refused = re.search(r"`curl '(\S+)'` prints\n`(.+?)`", QUICKSTART)
        assert refused is not None
        with pytest.raises(urllib.error.HTTPError) as error:
            urllib.request.urlopen(refused[1].replace(DEFAULT_PORT, f"127.0.0.1:{port}"))
        assert error.value.code == 400
        assert error.value.read().decode() == refused[2] + "\n"
    finally:
        output = stop(server)
    assert "Seeded 100,000 rows into each of orders, events." in output, output
