"""Recipe csv_import: load a large CSV upload into the orders as it arrives, all rows or none."""

from __future__ import annotations

import csv
import io
import pickle
import tempfile
import time
from collections.abc import Iterator
from itertools import islice
from typing import IO, Any, Protocol

from flask import Blueprint, abort, current_app, render_template, request
from flask.sansio.blueprints import BlueprintSetupState
from werkzeug.exceptions import RequestEntityTooLarge

from . import cells, cooperative, db, orders, uploads

bp = Blueprint("csv_import", __name__)

# The headers an import may have: the export's, with or without the id.
HEADERS = (list(orders.COLUMNS), list(orders.COLUMNS[1:]))
# A row as it is inserted.
Row = tuple[Any, ...]


@bp.record_once
def set_defaults(state: BlueprintSetupState) -> None:
    """Add this recipe's settings unless the environment or test config set them."""
    config = state.app.config
    # A larger body gets 413 before a byte of it is read.
    config.setdefault("IMPORT_MAX_BYTES", 1024**3)
    # Errors a 422 lists; reading stops at the last of them.
    config.setdefault("IMPORT_MAX_ERRORS", 20)
    # Rows inserted at a time.
    config.setdefault("IMPORT_BATCH_SIZE", 1000)
    # Seconds a client may send nothing in the middle of its upload before it gets 408 (gunicorn's
    # gevent workers; waitress receives the whole body before the app sees it, and closes a
    # connection quiet for its channel_timeout, 120 s).
    config.setdefault("IMPORT_READ_TIMEOUT", 30.0)
    # Seconds an import waits for its turn to write (SQLite lets one writer in at a time; on
    # PostgreSQL, rows another import holds); past it, 503 and Retry-After.
    config.setdefault("IMPORT_LOCK_TIMEOUT", 30.0)
    # /healthz reports a database this process cannot write.
    state.app.extensions.setdefault("health_checks", {})["imports"] = db.writable


class Problems(Exception):
    """What is wrong with an upload, line by line: nothing of it is kept."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(errors)
        self.errors = errors


def problem(line: int | None, column: str | None, message: str) -> dict[str, Any]:
    """One entry of a 422's list of errors."""
    return {"line": line, "column": column, "message": message}


class Records(Protocol):
    """What checked() needs of a csv.reader: its records, and the line it has read up to."""

    line_num: int

    def __iter__(self) -> Iterator[list[str]]: ...


def checked(
    reader: Records, header: list[str], errors: list[dict[str, Any]], max_errors: int
) -> Iterator[tuple[int, Row]]:
    """Yield (line, row) for each good row until one is bad; from then on only list errors."""
    line = reader.line_num
    columns = [(column, cells.CONVERTERS[column]) for column in header]
    try:
        for record in reader:
            start, line = line + 1, reader.line_num
            if len(record) != len(header):
                errors.append(problem(start, None, f"{len(record)} cells, not {len(header)}"))
            else:
                values = []
                for (column, convert), raw in zip(columns, record, strict=True):
                    try:
                        values.append(convert(raw))
                    except ValueError as error:
                        errors.append(problem(start, column, str(error)))
                        break
                else:
                    if not errors:
                        yield start, tuple(values)
            if len(errors) >= max_errors:
                return
    except csv.Error as error:
        errors.append(problem(line + 1, None, str(error)))


def load(text: IO[str], batch_size: int, max_errors: int) -> int:
    """Insert the CSV's rows into orders in one transaction; raise Problems if any is bad.

    The rows are checked as they arrive and kept in a temporary file; the transaction starts
    once the whole body is in. It lasts as long as the inserts, not as long as the client likes
    to take: a stalled upload holds no lock, and a cut one has written nothing.
    """
    # strict: a quote left open at the end (a cut file) is an error, not a last short row.
    reader = csv.reader(text, strict=True)
    try:
        header = next(reader, None)
    except csv.Error as error:
        raise Problems([problem(1, None, str(error))]) from None
    if header not in HEADERS:
        names = ",".join(orders.COLUMNS)
        raise Problems([problem(1, None, f"the header must be {names}, with or without id")])
    errors: list[dict[str, Any]] = []
    rows = checked(reader, header, errors, max_errors)
    with tempfile.TemporaryFile() as spool:
        while batch := list(islice(rows, batch_size)):
            # The lines a batch came from, for a 422 if the database refuses an id of it.
            lines = (batch[0][0], batch[-1][0])
            pickle.dump((lines, [row for _, row in batch]), spool, pickle.HIGHEST_PROTOCOL)
            # Parsing is all CPU: let the worker's other clients in between batches.
            cooperative.take_turn()
        if errors:
            raise Problems(errors)
        spool.seek(0)
        return insert(spool, header)


def spooled(spool: IO[bytes]) -> Iterator[tuple[tuple[int, int], list[Row]]]:
    """The batches written to `spool`, in order: their first and last line, and their rows."""
    while True:
        try:
            yield pickle.load(spool)
        except EOFError:
            return


def insert(spool: IO[bytes], header: list[str]) -> int:
    """Insert the spooled rows into orders, all or none; Problems if an id is taken."""
    imported = 0
    with db.transaction(wait=current_app.config["IMPORT_LOCK_TIMEOUT"]):
        for (first, last), batch in spooled(spool):
            try:
                db.insert_rows("orders", batch, header)
            except db.Conflict:
                message = f"an id of lines {first} to {last} is in the table or twice in the file"
                raise Problems([problem(first, "id", message)]) from None
            except db.Error as error:
                if not db.ids_exhausted(error):
                    raise
                # Not the file's fault alone, and no retry helps: say what to do instead.
                message = "no new id is left (the table holds the largest): give each row its id"
                raise Problems([problem(first, "id", message)]) from None
            imported += len(batch)
            cooperative.take_turn()
        if "id" in header:
            db.advance_ids("orders")
    return imported


@bp.get("/import")
def import_page() -> str:
    """A form that uploads a CSV file to /import.csv."""
    return form_page(outcome=None)


def form_page(outcome: dict[str, Any] | None) -> str:
    """The form's page, with the outcome of the upload it sent when there is one."""
    return render_template(
        "import.html",
        columns=orders.COLUMNS,
        exported="csv_export" in current_app.blueprints,
        max_bytes=current_app.config["IMPORT_MAX_BYTES"],
        outcome=outcome,
    )


@bp.post("/import.csv")
def import_csv() -> tuple[dict[str, Any] | str, int]:
    """Import a CSV of orders (the body, or a form's `file`): all rows, or none and a 422.

    A program gets JSON; a browser that sent the form (HTML before JSON in its Accept) gets the
    form's page again with the outcome on it.
    """
    outcome, status = load_upload()
    if request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html":
        return form_page(outcome), status
    return outcome, status


def load_upload() -> tuple[dict[str, Any], int]:
    """Load the request's CSV: how many rows in how long, or the problems and 422."""
    config = current_app.config
    limit = config["IMPORT_MAX_BYTES"]
    too_large = f"An import may hold at most {limit:,} bytes."
    # Werkzeug's stream stops past this too, for a body sent without a Content-Length.
    request.max_content_length = limit
    if (request.content_length or 0) > limit:
        abort(413, too_large)
    started = time.perf_counter()
    # utf-8-sig: a file saved by Excel, or exported with ?bom=1, starts with a byte order mark.
    chunks = uploads.upload("text/csv", "file", timeout=config["IMPORT_READ_TIMEOUT"])
    binary = io.BufferedReader(uploads.ChunkReader(chunks), uploads.READ_SIZE)
    text = io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")
    try:
        imported = load(text, config["IMPORT_BATCH_SIZE"], config["IMPORT_MAX_ERRORS"])
    except Problems as problems:
        return {"imported": 0, "errors": problems.errors}, 422
    except UnicodeDecodeError:
        return {"imported": 0, "errors": [problem(None, None, "the file is not UTF-8")]}, 422
    except RequestEntityTooLarge:
        # A chunked body that has passed the limit, mid-file: the transaction is rolled back.
        abort(413, too_large)
    return {"imported": imported, "seconds": round(time.perf_counter() - started, 3)}, 200
