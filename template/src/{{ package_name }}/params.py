"""Query-string parsing that answers 400 before a stream starts, never in the middle of one."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from typing import Protocol, overload

from flask import abort, request

# What the 400 messages promise for a date: four, two and two digits (fromisoformat alone also
# takes 20250102 and 2025-W01-1).
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


class Values(Protocol):
    """Where a value is read from: the query string (request.args) or the headers."""

    def get(self, key: str, /) -> str | None: ...


def quoted(raw: str, limit: int = 40) -> str:
    """Quote a bad value for a message, cut short: the rest would be echoed back to nobody."""
    return repr(raw) if len(raw) <= limit else f"{raw[:limit]!r}..."


def whole_number(raw: str, *, minimum: int, maximum: int) -> int | None:
    """The whole number `raw` spells if it lies in [minimum, maximum], else None.

    The length is checked before int(): Python refuses 4,301 digits or more with ValueError,
    and a database driver refuses past 2**63 - 1 at bind time, after the response has begun.
    """
    if not raw.isascii() or not raw.isdigit() or len(raw) > len(str(maximum)):
        return None
    value = int(raw)
    return value if minimum <= value <= maximum else None


@overload
def integer(
    name: str, *, default: int, minimum: int, maximum: int, source: Values | None = None
) -> int: ...
@overload
def integer(
    name: str, *, default: None, minimum: int, maximum: int, source: Values | None = None
) -> int | None: ...


def integer(
    name: str,
    *,
    default: int | None,
    minimum: int,
    maximum: int,
    source: Values | None = None,
) -> int | None:
    """Read a whole number between `minimum` and `maximum`; `default` when it is absent.

    From the query string, or from `source` (the request's headers, say).
    """
    raw = (request.args if source is None else source).get(name)
    if raw is None:
        return default
    value = whole_number(raw, minimum=minimum, maximum=maximum)
    if value is None:
        abort(400, f"{name} must be a whole number from {minimum} to {maximum}, not {quoted(raw)}.")
    return value


def flag(name: str, *, default: bool) -> bool:
    """Read a yes/no switch written as 1/0, true/false or yes/no."""
    raw = request.args.get(name)
    if raw is None:
        return default
    value = raw.lower()
    if value not in {"1", "0", "true", "false", "yes", "no"}:
        abort(400, f"{name} must be 1 or 0 (true/false, yes/no), not {quoted(raw)}.")
    return value in {"1", "true", "yes"}


def iso_date(name: str) -> date | None:
    """Read an optional date written as YYYY-MM-DD."""
    raw = request.args.get(name)
    if raw is None:
        return None
    if ISO_DATE.fullmatch(raw):
        try:
            return date.fromisoformat(raw)
        except ValueError:  # 2025-02-30
            pass
    abort(400, f"{name} must be a date written as YYYY-MM-DD, not {quoted(raw)}.")


def subset(name: str, allowed: Sequence[str]) -> list[str]:
    """Read a comma-separated selection from `allowed`, in the order given; all when absent."""
    raw = request.args.get(name)
    if raw is None:
        return list(allowed)
    chosen = raw.split(",")
    unknown = [item for item in chosen if item not in allowed]
    if unknown or not raw or len(set(chosen)) != len(chosen):
        abort(
            400,
            f"{name} must be distinct, comma-separated names from {', '.join(allowed)}; "
            f"got {quoted(raw)}.",
        )
    return chosen


def text(name: str, *, max_length: int) -> str:
    """Read a required, non-empty text value of at most `max_length` characters."""
    raw = request.args.get(name, "")
    if not raw.strip():
        abort(400, f"{name} is required.")
    if len(raw) > max_length:
        abort(400, f"{name} must be at most {max_length} characters, not {len(raw)}.")
    return raw
