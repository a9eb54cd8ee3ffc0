"""The cells of an orders CSV as the table holds them, in a form both databases store as it is."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from .params import quoted

# How a number in a CSV of numbers starts and ends: float() also takes spaces around it, a plus
# sign, "inf" and "nan", which these refuse, and underscores.
NUMBER_START = frozenset("-.0123456789")
NUMBER_END = frozenset(".0123456789")
# The one form dates are stored in, so that `since=` compares them as text correctly (the
# pattern fixes the form; fromisoformat, in C and 35 times as fast as strptime, the calendar).
DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", re.ASCII)

# Turns a cell's text into its column's value; ValueError saying what is wrong when it cannot.
Converter = Callable[[str], Any]


def whole_number(column: str, lowest: int, highest: int) -> Converter:
    """A whole number from `lowest` to `highest`, written with digits and an optional minus."""
    message = f"{column} must be a whole number from {lowest} to {highest}, not "

    def convert(raw: str) -> int:
        digits = raw[1:] if raw[:1] == "-" else raw
        # The length first: int() refuses 4,301 digits.
        if digits.isascii() and digits.isdigit() and len(digits) <= 19:
            number = int(raw)
            if lowest <= number <= highest:
                return number
        raise ValueError(message + quoted(raw))

    return convert


def amount(raw: str) -> float:
    """A finite number, as a CSV of numbers writes it (-12.5, .5, 1e6)."""
    # Cheaper than a regular expression: the number is parsed once, by float(), in C.
    if raw[:1] in NUMBER_START and raw[-1:] in NUMBER_END and raw.isascii() and "_" not in raw:
        try:
            number = float(raw)
        except ValueError:
            pass
        else:
            if math.isfinite(number):
                return number
    raise ValueError(f"amount must be a finite number such as -12.5 or 1e6, not {quoted(raw)}")


def date_time(raw: str) -> str:
    """A real date and time written YYYY-MM-DD HH:MM:SS, as the export writes it."""
    if DATE_TIME.fullmatch(raw):
        try:
            datetime.fromisoformat(raw)
            return raw
        except ValueError:  # 2025-02-30
            pass
    raise ValueError(f"created_at must be a date and time (YYYY-MM-DD HH:MM:SS), not {quoted(raw)}")


def text(column: str) -> Converter:
    """Any text without NUL: PostgreSQL's text cannot hold one, and SQLite's exports would."""

    def convert(raw: str) -> str:
        if "\0" in raw:
            raise ValueError(f"{column} must not contain a NUL character")
        return raw

    return convert


# Each column of orders: the ids are BIGINT from 1 (as SQLite's rowid allows), the quantity
# PostgreSQL's 32-bit INTEGER.
CONVERTERS: dict[str, Converter] = {
    "id": whole_number("id", 1, 2**63 - 1),
    "created_at": date_time,
    "customer": text("customer"),
    "product": text("product"),
    "quantity": whole_number("quantity", -(2**31), 2**31 - 1),
    "amount": amount,
    "note": text("note"),
}
