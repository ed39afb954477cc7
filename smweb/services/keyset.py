"""Keyset paging: the rows after (or before) a given row in a list's order, read from where
that row stands in the index instead of counted off from the top, so a deep page costs what
the first one does. Used by the patient's folders and by search.

An order is a sequence of `(column, ascending)`; a row's place in it is the same columns'
values (usually bound parameters), taken from the row the page starts after or before.
"""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, or_, tuple_

Order = Sequence[tuple[Any, bool]]


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
