"""The README's demo command and the generated benchmark script, run for real."""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
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
def test_export_and_import_benchmarks_print_their_figures(render) -> None:
    project = render(
        recipes=["csv_export", "template_stream", "ndjson", "zip_export", "csv_import"]
    )
    command = [sys.executable, "scripts/bench_exports.py", "--rows", "20000", "--runs", "1"]
    compared = run(command, project, PYTHONPATH=str(project / "src")).stdout
    rows = re.findall(
        r"^\s+20,000\s+(\w+)\s+(recipe|naive|limit)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)"
        r"\s+([\d.]+|-)\s+([\d.]+|-)\s+([\d.]+) ms\s+(?:([\d.]+) MB|-)$",
        compared,
        flags=re.MULTILINE,
    )
    assert [row[:2] for row in rows] == [
        (endpoint, variant)
        for endpoint in ("csv", "ndjson", "json", "timeline", "zip")
        for variant in ("recipe", "naive", "limit")
    ], compared
    for _, variant, size, rate, lowest, naive, limit, first_byte, peak in rows:
        assert float(size) > 0.2 and float(rate) > 0 and float(lowest) > 0 and float(first_byte) > 0
        # Ratios belong to the recipe; the in-process limit has no server memory.
        assert (naive != "-") == (limit != "-") == (variant == "recipe")
        assert bool(peak) == (variant != "limit")
    # The recipe and its limit are the same pipeline: the same bytes.
    sizes = {(row[0], row[1]): row[2] for row in rows}
    assert all(sizes[endpoint, "recipe"] == sizes[endpoint, "limit"] for endpoint, _ in sizes)
    # The docs' stream_template renders the recipe's template: the same page, cut finer.
    assert sizes["timeline", "naive"] == sizes["timeline", "recipe"]

    concurrent = run(
        [*command, "--endpoints", "csv", "--clients", "1", "2"],
        project,
        PYTHONPATH=str(project / "src"),
    ).stdout
    rows = re.findall(
        r"^\s+20,000\s+csv\s+(\d)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)"
        r"\s+([\d.]+)\s+([\d.]+) ms\s+([\d.]+) MB$",
        concurrent,
        flags=re.MULTILINE,
    )
    assert [row[0] for row in rows] == ["1", "2"], concurrent
    # Two clients download twice the bytes; one client is the yardstick of its own round.
    assert float(rows[1][1]) == pytest.approx(2 * float(rows[0][1]), rel=0.05)
    assert rows[0][4:6] == ("1.00", "1.00")
    # The machine's own ceiling: the pipeline in one process per core, against one process.
    ceiling = re.search(
        r"^\s+20,000\s+csv\s+(\d+)\s+([\d.]+)\s+[\d.]+\s+[\d.]+\s+([\d.]+)\s+[\d.]+"
        r"\s+no server$",
        concurrent,
        flags=re.MULTILINE,
    )
    assert ceiling is not None, concurrent
    cores = os.cpu_count() or 1
    assert int(ceiling[1]) == cores
    assert float(ceiling[2]) == pytest.approx(cores * float(rows[0][1]), rel=0.05)
    # A ratio, measured: on a machine busy with other work it can be anything below the cores.
    assert 0 < float(ceiling[3]) <= cores + 0.5

    # Another version of the project (here: a copy) is served beside it, round by round.
    shutil.copytree(project, project.with_name("before"))
    beside = run(
        [*command, "--endpoints", "csv", "--before", str(project.with_name("before"))],
        project,
        PYTHONPATH=str(project / "src"),
    ).stdout
    variants = re.findall(r"^\s+20,000\s+csv\s+(\w+)\s+[\d.]+\s+([\d.]+)", beside, re.MULTILINE)
    assert [variant for variant, _ in variants] == ["recipe", "before", "naive", "limit"], beside
    gain = re.search(
        r"^\s+20,000\s+csv recipe / before: ([\d.]+)x \(lowest round [\d.]+x\)$",
        beside,
        re.MULTILINE,
    )
    assert gain is not None, beside
    # The same code on both servers: neither is an order of magnitude faster, even on a busy
    # machine in a single round.
    assert 0.1 < float(gain[1]) < 10

    imported = run(
        [sys.executable, "scripts/bench_import.py", "--rows", "5000", "--runs", "1"],
        project,
        PYTHONPATH=str(project / "src"),
    ).stdout
    row = re.search(
        r"^\s+5,000\s+([\d.]+)\s+([\d,]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+) MB$",
        imported,
        flags=re.MULTILINE,
    )
    assert row is not None, imported
    size, rate, speed, seconds, peak = row.groups()
    assert float(size) > 0.3 and float(speed) > 0 and float(seconds) > 0 and float(peak) > 0
    # rows/s and MB/s describe the same uploads.
    assert int(rate.replace(",", "")) / 5000 == pytest.approx(float(speed) / float(size), rel=0.05)


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
