"""A page of a list, and keyset paging: the rows after (or before) a given row in a list's
order, read from where that row stands in the index instead of counted off from the top, so a
deep page costs what the first one does. The patient's folders and search page this way.

An order is a sequence of `(column, ascending)`; a row's place in it is the same columns'
values (usually bound parameters), taken from the row the page starts after or before.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, tuple_

from ..parsing import as_index

Order = Sequence[tuple[Any, bool]]


@dataclass(frozen=True)
class Page:
    """One page of a list. Keyset-paged lists also say where the page was read from
    (`after` or `before` a place: see `place`), where their Newer and Older links start
    (`newer`, `older`) and whether there are newer rows; others count pages."""

    items: list[Any]
    number: int
    has_next: bool
    after: str | None = None
    before: str | None = None
    newer: str | None = None  # the place of the first row shown (the Newer link's ?before=)
    older: str | None = None  # the place of the last row shown (the Older link's ?after=)
    has_newer: bool | None = None

    @property
    def has_prev(self) -> bool:
        return self.number > 1 if self.has_newer is None else self.has_newer

    def link_args(self) -> dict:
        """The query arguments that read this same page again (a refresh, a new sort)."""
        args = {"page": self.number, "after": self.after, "before": self.before}
        return {k: v for k, v in args.items() if v is not None}


def place(values: Sequence[Any]) -> str:
    """Where a row stands in a list's order, for a link: its sort values (times and ids,
    never a name: a name is looked up from an id), joined by '~'."""
    return "~".join(v.isoformat() if isinstance(v, datetime) else str(int(v)) for v in values)


def read_place(text: str | None, kinds: Sequence[type]) -> list | None:
    """The values of a place written by `place()` for an order of these kinds (int or
    datetime); None if the text is not one (a hand-edited link: the page is counted)."""
    if not text or len(text) > 200:
        return None
    raw = text.split("~")
    if len(raw) != len(kinds):
        return None
    try:
        values = [datetime.fromisoformat(v).replace(tzinfo=None) if kind is datetime else int(v)
                  for kind, v in zip(kinds, raw, strict=True)]
    except ValueError:
        return None
    if any(kind is int and not 0 <= v < 2**31 for kind, v in zip(kinds, values, strict=True)):
        return None
    return values


def starting_place(after: str | None, before: str | None,
                   kinds: Sequence[type]) -> tuple[str | None, str | None, list | None]:
    """Which way a page is read: (after, None, values) forwards, (None, before, values)
    backwards, or (None, None, None) from the top when neither is a place of this order."""
    if (values := read_place(after, kinds)) is not None:
        return after, None, values
    if (values := read_place(before, kinds)) is not None:
        return None, before, values
    return None, None, None


def starting_segment(after: str | None, before: str | None,
                     kinds: Sequence[Sequence[type]]) -> tuple[str | None, str | None,
                                                                tuple[int, list] | None]:
    """The same for a list read in segments, one after the other, each in its own index
    order (the staff queue's "soonest due": the threads with a due time, then those
    without): a place names its segment first, then that segment's values. Returns the
    segment's number and values as the third item."""
    for text, forwards in ((after, True), (before, False)):
        segment = as_index((text or "").split("~", 1)[0], len(kinds))
        if segment is None:
            continue
        if (values := read_place(text, [int, *kinds[segment]])) is not None:
            return (text if forwards else None, None if forwards else text,
                    (segment, values[1:]))
    return None, None, None


def counted(rows: list, size: int, number: int, first: Callable[[], Page],
            place_of: Callable[[Any], str] | None = None) -> Page:
    """Page `number`, from `size + 1` rows counted off from the top (the first page, or an
    old ?page=N link): past the end, the first page instead. With `place_of`, its links
    are keyset links from here on."""
    if not rows and number > 1:
        return first()
    return _page(rows[:size], number, len(rows) > size, place_of, has_newer=number > 1)


def keyed(rows: list, size: int, number: int, after: str | None, before: str | None,
          first: Callable[[], Page], place_of: Callable[[Any], str]) -> Page:
    """A page from `size + 1` rows read forwards after the place `after`, or else backwards
    before `before`. When nothing is left that way (the top was reached, or everything
    after was removed), the first page as it is now."""
    if after is not None:
        if not rows:
            return first()
        return _page(rows[:size], max(number, 2), len(rows) > size, place_of, True,
                     after=after)
    if len(rows) <= size:
        return first()
    return _page(rows[size - 1::-1], max(number, 2), True, place_of, True, before=before)


def _page(items: list, number: int, has_next: bool, place_of, has_newer: bool,
          **read_from) -> Page:
    if place_of is None:
        return Page(items, number, has_next, **read_from)
    ends = {"newer": place_of(items[0]), "older": place_of(items[-1])} if items else {}
    return Page(items, number, has_next, has_newer=has_newer, **ends, **read_from)


def order_by(order: Order, backwards: bool = False) -> list:
    """ORDER BY clauses for the order, or for reading it backwards from a row."""
    return [column.asc() if ascending != backwards else column.desc()
            for column, ascending in order]


def beyond(order: Order, values: Sequence[Any], backwards: bool = False):
    """The rows that come after the row at `values` in the order (before it, `backwards`).
    Neighbouring columns sorted the same way are compared as one row value, which SQLite and
    PostgreSQL both read as an index range: (when, id) < (:when, :id). When the order turns
    (due time up, then newest first), a plain bound on the first columns leads, so the
    range starts at the row instead of being read from its beginning."""
    runs: list[tuple[bool, list, list]] = []
    for (column, ascending), value in zip(order, values, strict=True):
        if runs and runs[-1][0] == ascending:
            runs[-1][1].append(column)
            runs[-1][2].append(value)
        else:
            runs.append((ascending, [column], [value]))
    condition = None
    for ascending, columns, run_values in reversed(runs):
        left, right = _row(columns), _row(run_values)
        later = left > right if ascending != backwards else left < right
        condition = later if condition is None else or_(later, and_(left == right, condition))
    if len(runs) > 1:
        ascending, columns, run_values = runs[0]
        left, right = _row(columns), _row(run_values)
        condition = and_(left >= right if ascending != backwards else left <= right, condition)
    return condition


def _row(items: list):
    return tuple_(*items) if len(items) > 1 else items[0]
