"""Time JSON encoders on the orders of a generated project's SQLite database, as ndjson feeds them.

Usage, in a generated project's environment with the candidates added
(`pip install ujson python-rapidjson`), after `flask --app sales_reports seed-db --rows 1000000`:
    python3 scripts/compare_json_encoders.py SQLITE_FILE

SQLITE_FILE is the database in the project's instance folder (`src/instance/sales_reports.sqlite`
when the package runs from `src/`). Each encoder writes every row as a dict, one call per row as
the recipe makes them, on one core in this process; each time includes building the dicts and is
the best of three runs. Then each writes NaN and infinity, which JSON cannot hold.
docs/benchmarks/json-encoders.txt is its output, which docs/recipes/ndjson.md quotes.
"""

from __future__ import annotations

import importlib
import json
import sqlite3
import sys
import time
from collections.abc import Callable, Sequence
from importlib.metadata import version
from typing import Any

RUNS = 3

Encoder = Callable[[Any], str | bytes]


def encoders() -> dict[str, Encoder]:
    """The candidates by name, with `json` of the standard library first."""
    found: dict[str, Encoder] = {"json": json.dumps}
    for name in ("orjson", "ujson", "rapidjson"):
        found[name] = importlib.import_module(name).dumps
    return found


def best_time(encode: Encoder, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> float:
    """The fastest of RUNS runs of `encode` over every row, as a dict."""
    timings = []
    for _ in range(RUNS):
        started = time.perf_counter()
        for row in rows:
            encode(dict(zip(columns, row, strict=False)))
        timings.append(time.perf_counter() - started)
    return min(timings)


def main(path: str) -> None:
    cursor = sqlite3.connect(path).execute("SELECT * FROM orders ORDER BY id")
    columns = [column[0] for column in cursor.description]
    rows = cursor.fetchall()
    names = ("orjson", "ujson", "python-rapidjson")
    libraries = ", ".join(f"{name} {version(name)}" for name in names)
    print(f"{len(rows):,} rows, best of {RUNS}; {libraries}")
    print(f"{'building the dicts alone':<25} {best_time(lambda row: '', columns, rows):6.2f} s")
    candidates = encoders()
    for name, encode in candidates.items():
        print(f"{name:<25} {best_time(encode, columns, rows):6.2f} s")
    for name, encode in candidates.items():
        try:
            written = encode([float("nan"), float("inf")])
        except (TypeError, ValueError, OverflowError) as error:
            written = f"refused ({type(error).__name__})"
        print(f"{name:<25} NaN and infinity: {written!r}")


if __name__ == "__main__":
    main(*sys.argv[1:])
