"""The orders query that the exports stream, with its query-string options checked up front."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from . import db, formats, params

COLUMNS = ("id", "created_at", "customer", "product", "quantity", "amount", "note")
# The text columns: every cell in them is text (STRICT tables on SQLite, types on PostgreSQL), and
# the CSV formula guard applies to each; the number columns hold numbers only.
TEXT_COLUMNS = frozenset({"created_at", "customer", "product", "note"})
MAX_LIMIT = 100_000_000


def guarded(name: str) -> str:
    """Select a text column with the formula guard applied, any other column as it is."""
    return formats.formula_safe(name, db.FIRST_CODE) if name in TEXT_COLUMNS else name


@dataclass(frozen=True)
class Asked:
    """What a request asks of the orders: which columns, from which date, how many rows."""

    columns: list[str]
    since: date | None
    limit: int | None

    @classmethod
    def from_request(cls) -> Asked:
        """Read ?columns=a,b ?since=YYYY-MM-DD ?limit=N from the query string (400 when bad)."""
        return cls(
            columns=params.subset("columns", COLUMNS),
            since=params.iso_date("since"),
            limit=params.integer("limit", default=None, minimum=0, maximum=MAX_LIMIT),
        )

    @property
    def arguments(self) -> tuple[str, int | None]:
        """The values of `WHERE created_at >= ? ... LIMIT ?`, as the database takes them."""
        return (
            self.since.isoformat() if self.since else "",
            db.NO_LIMIT if self.limit is None else self.limit,
        )

    def sql(self, *, guard: bool) -> str:
        """The SELECT of the asked columns, the text ones through the formula guard if `guard`."""
        # Column names come from COLUMNS only; values travel as arguments.
        selected = ", ".join(
            f"{guarded(name) if guard else name} AS {name}" for name in self.columns
        )
        return f"SELECT {selected} FROM orders WHERE created_at >= ? ORDER BY id LIMIT ?"

    def options(self) -> dict[str, object]:
        """The options as a manifest records them: None where the request set none."""
        since = self.since.isoformat() if self.since else None
        return {"columns": self.columns, "since": since, "limit": self.limit}
