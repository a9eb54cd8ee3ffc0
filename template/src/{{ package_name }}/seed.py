"""Deterministic sample rows, including the values that break naive CSV and HTML."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta
from itertools import cycle, islice
from typing import Any

BATCH_SIZE = 10_000
# A row as the seed functions make it and insert_rows takes it.
Row = tuple[Any, ...]
START = datetime(2025, 1, 1)

# Commas, quotes, line breaks, non-ASCII text and the leading characters that spreadsheet
# programs run as formulas: every one of them must survive a round trip through the CSV.
CUSTOMERS = (
    "Acme Corporation",
    "Smith, Jones & Partners",
    'Bob "The Builder" Ltd',
    "Zoë's Café",
    "株式会社 東京",
    '=HYPERLINK("https://example.com","click")',
    "+44 20 7946 0000",
    "-Minus Industries",
    "@everyone",
    "\tTab Traders",
    "\rCarriage Co",
    "Two\nLines Ltd",
)
PRODUCTS = ("Widget", "Gadget, large", 'Gizmo 12"', "Ünïcödé thing", "Spare part")
NOTES = (
    "",
    "Leave at the back door",
    "Line one\r\nline two",
    'He said "ship it"',
    "=1+1",
    "✓ paid",
)

EVENT_KINDS = ("deploy", "signup", "alert", "comment")
# Event text is user content: the timeline must show it escaped, never run it.
EVENT_MESSAGES = (
    "Released version {n}",
    "New customer signed up from Zürich",
    '<script>alert("event {n}")</script>',
    "Tom & Jerry said <b>hello</b>",
    "Disk usage at {n}% on db-1",
)


def orders(count: int) -> Iterator[tuple[int, str, str, str, int, float, str]]:
    """Yield `count` orders: (id, created_at, customer, product, quantity, amount, note)."""
    customers, products, notes = cycle(CUSTOMERS), cycle(PRODUCTS), cycle(NOTES)
    for i in range(1, count + 1):
        amount = round((i * 7919) % 100_000 / 100, 2)
        # Every tenth order is a refund: a negative number that must stay a number in the CSV.
        # A refund of 0 stays 0.0: -0.0 would be written as "-0.0" by PostgreSQL, "0.0" by SQLite.
        if i % 10 == 0 and amount:
            amount = -amount
        created_at = (START + timedelta(minutes=i)).isoformat(sep=" ")
        yield i, created_at, next(customers), next(products), 1 + i * 7 % 20, amount, next(notes)


def events(count: int) -> Iterator[tuple[int, str, str, str]]:
    """Yield `count` events: (id, created_at, kind, message)."""
    kinds, messages = cycle(EVENT_KINDS), cycle(EVENT_MESSAGES)
    for i in range(1, count + 1):
        created_at = (START + timedelta(seconds=37 * i)).isoformat(sep=" ")
        yield i, created_at, next(kinds), next(messages).format(n=i % 100)


TABLES: dict[str, Callable[[int], Iterator[Row]]] = {"orders": orders, "events": events}


def batched(rows: Iterable[Row], size: int = BATCH_SIZE) -> Iterator[list[Row]]:
    """Group rows into lists of at most `size`."""
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch
