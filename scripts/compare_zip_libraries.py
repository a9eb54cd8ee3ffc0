"""Time stream-zip and zipstream-ng zipping the same CSV, as the zip_export recipe feeds them.

Usage, in a generated project's environment with zipstream-ng added (`pip install zipstream-ng`):
    curl -s 'http://127.0.0.1:5000/large.csv?limit=300000' > orders.csv
    python3 scripts/compare_zip_libraries.py orders.csv

The file is cut into 16 KiB chunks (the recipe's STREAM_CHUNK_SIZE) and zipped as one member of
unknown size at deflate levels 1, 6 and 9; each line is the best of five runs in this process.
docs/benchmarks/zip-libraries.txt is its output, which docs/recipes/zip-export.md quotes.
"""

from __future__ import annotations

import importlib
import sys
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from importlib.metadata import version
from pathlib import Path
from stat import S_IFREG

CHUNK = 16_384
RUNS = 5


def chunks(data: bytes) -> Iterator[bytes]:
    """`data` in CHUNK-sized pieces, as the recipe's CSV arrives."""
    return (data[start : start + CHUNK] for start in range(0, len(data), CHUNK))


def with_stream_zip(data: bytes, level: int) -> Iterable[bytes]:
    """The archive's pieces from stream-zip."""
    stream_zip = importlib.import_module("stream_zip")
    member = ("orders.csv", datetime(2025, 1, 1), S_IFREG | 0o644, stream_zip.ZIP_64, chunks(data))
    pieces: Iterable[bytes] = stream_zip.stream_zip(
        [member],
        chunk_size=CHUNK,
        get_compressobj=lambda: zlib.compressobj(level=level, wbits=-zlib.MAX_WBITS),
    )
    return pieces


def with_zipstream_ng(data: bytes, level: int) -> Iterable[bytes]:
    """The archive's pieces from zipstream-ng."""
    zipstream = importlib.import_module("zipstream")
    archive = zipstream.ZipStream(compress_type=zipstream.ZIP_DEFLATED, compress_level=level)
    archive.add(chunks(data), "orders.csv")
    pieces: Iterable[bytes] = archive
    return pieces


def best_run(make: Callable[[bytes, int], Iterable[bytes]], data: bytes, level: int) -> str:
    """The fastest of RUNS runs, as one line: seconds, MB/s in, MB out, pieces."""
    timings = []
    for _ in range(RUNS):
        started = time.perf_counter()
        sizes = [len(piece) for piece in make(data, level)]
        timings.append(time.perf_counter() - started)
    seconds = min(timings)
    return (
        f"{seconds:6.3f} s {len(data) / seconds / 1e6:7.1f} MB/s in,"
        f" {sum(sizes) / 1e6:5.2f} MB out, {len(sizes)} pieces"
    )


def main(path: str) -> None:
    data = Path(path).read_bytes()
    libraries = ", ".join(f"{name} {version(name)}" for name in ("stream-zip", "zipstream-ng"))
    print(f"input {len(data) / 1e6:.1f} MB; {libraries}")
    for level in (1, 6, 9):
        for name, make in (("stream-zip", with_stream_zip), ("zipstream-ng", with_zipstream_ng)):
            print(f"level {level} {name:<13} {best_run(make, data, level)}")


if __name__ == "__main__":
    main(*sys.argv[1:])
