"""A page of a list, and keyset paging: the rows after (or before) a given row in a list's
order, read from where that row stands in the index instead of counted off from the top, so a
deep page costs what the first one does. The patient's folders and search page this way.

An order is a sequence of `(column, ascending)`; a row's place in it is the same columns'
values (usually bound parameters), taken from the row the page starts after or before.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, or_, tuple_

Order = Sequence[tuple[Any, bool]]


@dataclass(frozen=True)
class Page:
    """One page of a list. Keyset-paged lists also say which row the page was read from
    (`after` or `before` its id) and whether there are newer rows; others count pages."""

    items: list[Any]
    number: int
    has_next: bool
    after: int | None = None
    before: int | None = None
    newer: bool | None = None

    @property
    def has_prev(self) -> bool:
        return self.number > 1 if self.newer is None else self.newer

    @property
    def keyed(self) -> bool:
        return self.newer is not None

    def link_args(self) -> dict:
        """The query arguments that read this same page again (a refresh, a new sort)."""
        args = {"page": self.number, "after": self.after, "before": self.before}
        return {k: v for k, v in args.items() if v is not None}


def counted(rows: list, size: int, number: int, first: Callable[[], Page]) -> Page:
    """Page `number`, from `size + 1` rows counted off from the top (the first page, or an
    old ?page=N link): past the end, the first page instead."""
    if not rows and number > 1:
        return first()
    return Page(rows[:size], number, has_next=len(rows) > size, newer=number > 1)


def keyed(rows: list, size: int, number: int, after: int | None, before: int | None,
          first: Callable[[], Page]) -> Page:
    """A page from `size + 1` rows read forwards after row `after`, or else backwards before
    row `before`. When nothing is left that way (the rows moved, or the top was reached),
    the first page as it is now."""
    if after is not None:
        if not rows:
            return first()
        return Page(rows[:size], max(number, 2), has_next=len(rows) > size, after=after,
                    newer=True)
    if len(rows) <= size:
        return first()
    return Page(rows[size - 1::-1], max(number, 2), has_next=True, before=before, newer=True)


def order_by(order: Order, backwards: bool = False) -> list:
    """ORDER BY clauses for the order, or for reading it backwards from a row."""
    return [column.asc() if ascending != backwards else column.desc()
            for column, ascending in order]


def beyond(order: Order, values: Sequence[Any], backwards: bool = False):
    """The rows that come after the row at `values` in the order (before it, `backwards`).
    Neighbouring columns sorted the same way are compared as one row value, which SQLite and
    PostgreSQL both read as an index range: (when, id) < (:when, :id)."""
    runs: list[tuple[bool, list, list]] = []
    for (column, ascending), value in zip(order, values, strict=True):
        if runs and runs[-1][0] == ascending:
            runs[-1][1].append(column)
            runs[-1][2].append(value)
        else:
            runs.append((ascending, [column], [value]))
    condition = None
    for ascending, columns, run_values in reversed(runs):
        left = tuple_(*columns) if len(columns) > 1 else columns[0]
        right = tuple_(*run_values) if len(run_values) > 1 else run_values[0]
        later = left > right if ascending != backwards else left < right
        condition = later if condition is None else or_(later, and_(left == right, condition))
    return condition
