"""The README's demo command and the generated benchmark script, run for real."""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys
import urllib.request

import pytest

from .conftest import TEMPLATE, free_port, run, stop, wait_for


@pytest.mark.install
def test_demo_renders_seeds_and_serves(tmp_path) -> None:
    port = free_port()
    demo = subprocess.Popen(
        [
            sys.executable,
            str(TEMPLATE / "scripts" / "demo.py"),
            str(tmp_path / "demo"),
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", demo, timeout=240)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/large.csv?limit=3") as response:
            body = response.read().decode()
    finally:
        output = stop(demo)
    header, *rows = csv.reader(io.StringIO(body, newline=""))
    assert header == ["id", "created_at", "customer", "product", "quantity", "amount", "note"]
    assert [row[0] for row in rows] == ["1", "2", "3"]
    assert "Seeded 100,000 rows into each of orders, events." in output
    assert f"curl -N 'http://127.0.0.1:{port}/large.csv?limit=5'" in output


@pytest.mark.slow
def test_benchmark_prints_figures_for_both_variants_and_concurrent_clients(render) -> None:
    project = render()
    command = [sys.executable, "scripts/bench_csv.py", "--rows", "20000", "--runs", "1"]
    result = run([*command, "--clients", "1", "2"], project, PYTHONPATH=str(project / "src"))
    rows = re.findall(
        r"^\s+20,000\s+(recipe|naive)\s+(\d)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)"
        r"\s+([\d.]+)\s+([\d.]+) ms\s+([\d.]+) MB$",
        result.stdout,
        flags=re.MULTILINE,
    )
    assert [row[:2] for row in rows] == [
        ("recipe", "1"),
        ("recipe", "2"),
        ("naive", "1"),
        ("naive", "2"),
    ], result.stdout
    assert all(float(value) > 0 for row in rows for value in row[2:])
    # Two clients download twice the bytes; one client is the yardstick of its own round.
    assert float(rows[1][2]) == pytest.approx(2 * float(rows[0][2]), rel=0.05)
    assert rows[0][5:7] == ("1.00", "1.00")


@pytest.mark.slow
def test_event_stream_benchmark_holds_its_listeners(render) -> None:
    project = render(recipes=["csv_export", "sse"])
    result = run(
        [sys.executable, "scripts/bench_sse.py", "--clients", "50"],
        project,
        PYTHONPATH=str(project / "src"),
    )
    row = re.search(
        r"^\s+50\s+(\d+)\s+(\d+)\s+-\s+([\d.]+) ms\s+([\d.]+) ms\s+(\d+) ms\s+(\d+) ms\s+(\d+) ms"
        r"\s+([\d.]+) MB\s+([\d.]+) MB\s+(\d+)$",
        result.stdout,
        flags=re.MULTILINE,
    )
    assert row, result.stdout
    held, refused, *_, connections = row.groups()
    assert (held, refused) == ("50", "0")
    # One poller per worker (2 cores here, so 2 workers at most), not one per listener.
    assert 1 <= int(connections) <= 2 * (os.cpu_count() or 1)
