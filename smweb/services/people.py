"""Lists of people, found by any part of a name or username and read A to Z a page at a
time: the coordinator's Patients (blocking.patients_page) and the admin's accounts
(admin.accounts_page).

Both are keyset-paged (services/paging.py): a page is read from where the one before it
ended, in an index's order, and stops once full, so page 100 costs what page 1 does and
no page reads the whole table. A link names its row by the id alone, never by a name: the
name is looked up from the id when the page is read. A search for part of a name is a
LIKE '%...%', which no B-tree index can seek: it is checked on the rows walked in that same
order, so a search that matches few people reads further before its page is full (every
row of the list, at the worst, and only their index entries and the rows they name).

Case: the words and the names are compared in lower case. On SQLite, lower() folds only
ASCII letters (as its LIKE does), so "élodie" does not find "Élodie" there; PostgreSQL
folds every letter.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from sqlalchemy import Integer, Select, bindparam, func, or_, select
from sqlalchemy.orm import aliased

from ..database import read_rows
from ..models import User
from . import paging
from .paging import Page

PER_PAGE = 25
MAX_TYPED = 100  # longer than any part of a name a person would type to find someone


@dataclass(frozen=True)
class NameSearch:
    """What was typed in a list's "Name or username" box, and what to tell the person
    about it (`notice`: the text was cut to MAX_TYPED characters)."""

    typed: str = ""
    notice: str | None = None
    longest: ClassVar[int] = MAX_TYPED  # the box's maxlength

    @property
    def pattern(self) -> str | None:
        """A LIKE pattern for any part of a name, lower case, with the wildcards typed
        (%, _ and the escape character itself) matched as themselves; None: everyone."""
        if not self.typed:
            return None
        escaped = self.typed.lower().replace("\\", "\\\\").replace("%", "\\%").replace(
            "_", "\\_")
        return f"%{escaped}%"

    def link_args(self) -> dict[str, str]:
        """The query arguments that carry this search into a list's page links."""
        return {"q": self.typed} if self.typed else {}


def parse(args) -> NameSearch:
    """The search box of a people list (its query string). Too long a text is cut and
    searched, with a notice saying so; a box of spaces is no search."""
    typed = args.get("q", "").strip()
    if len(typed) > MAX_TYPED:
        return NameSearch(typed[:MAX_TYPED].strip(),
                          f"Only the first {MAX_TYPED} characters you typed were searched.")
    return NameSearch(typed)


@dataclass
class PeopleList:
    """One list of people: its rows (a SELECT of the named columns the page shows, from
    `users`, with any conditions of its own) and the `users` columns it is sorted by, A to
    Z (ending with a unique one, so every row has one place). Each statement shape — with
    or without a search, from the top or after or before a row — is built once per process;
    the values are bound when it runs."""

    rows: Select
    order: Sequence[str]
    _statements: dict = field(default_factory=dict, repr=False)

    def page(self, search: NameSearch, params: dict[str, Any], number: int,
             after: str | None, before: str | None, size: int = PER_PAGE) -> Page:
        """The page after the row `after` names (or before `before`), or else the first
        page: a link hand-edited into something that is not a place of this list, or
        that names a row no longer there, reads the first page."""
        searched = search.pattern is not None
        bound = {**params, "limit": size + 1}
        if searched:
            bound["pattern"] = search.pattern
        after, before, values = paging.starting_place(after, before, (int,))

        def first() -> Page:
            return self.page(search, params, 1, None, None, size)

        if values is None:
            rows = read_rows(self._statement(searched, "top"), bound)
            return paging.counted(rows, size, 1, first, _place_of)
        rows = read_rows(self._statement(searched, "after" if after else "before"),
                         bound | {"k_id": values[0]})
        return paging.keyed(rows, size, number, after, before, first, _place_of)

    def _statement(self, searched: bool, start: str) -> Select:
        key = (searched, start)
        if key not in self._statements:
            self._statements[key] = self._build(searched, start)
        return self._statements[key]

    def _build(self, searched: bool, start: str) -> Select:
        order = [(getattr(User, name), True) for name in self.order]
        statement = self.rows
        if searched:
            statement = statement.where(or_(*(
                func.lower(column).like(bindparam("pattern"), escape="\\")
                for column in (User.display_name, User.username))))
        backwards = start == "before"
        if start != "top":
            # The row the page starts from, by its id: its sort values are read from it
            # (an alias, so the lookup is not taken for the list's own row).
            row_id = bindparam("k_id", type_=Integer)
            there = aliased(User, name="place_row")
            values = [row_id if name == "id" else
                      select(getattr(there, name)).where(there.id == row_id).scalar_subquery()
                      for name in self.order]
            statement = statement.where(paging.beyond(order, values, backwards))
        return (statement.order_by(*paging.order_by(order, backwards))
                .limit(bindparam("limit", type_=Integer)))


def _place_of(row) -> str:
    return paging.place([row.id])
