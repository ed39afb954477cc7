"""Search a user's messages: keywords in subject and body, sender, category, a date range and
a folder. One service over two engines: SQLite's FTS5 index, PostgreSQL's text search; the
same words match on both (prefixes of whole words, every keyword required, no stemming)."""

import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from functools import cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext
from sqlalchemy import DateTime, Integer, bindparam, func, select, text

from ..clock import parse_date_range, utcnow
from ..config import N_
from ..database import read_rows
from ..extensions import db
from ..models import CATEGORIES, Facility, Message, Thread, TriageGroup, User
from ..parsing import as_id
from . import audit, paging, references
from .paging import Page
from .search_index import (
    MESSAGE_FTS,
    PG_MESSAGE_FTS,
    fts_match,
    keyword_condition,
    keyword_params,
    scope_tokens,
)

# Letters and digits, as both search indexes split text into words (an underscore is a
# separator there too: a search for "_" finds nothing, on either database).
WORD = re.compile(r"[^\W_]+")
MAX_TERMS, MAX_TERM = 8, 40
# The search form's fields: what its result pages' links carry.
FIELDS = ("q", "sender", "category", "period", "start", "end", "folder", "order")
# Shown in the page's language (`label|string|translated`): marked to be extracted.
PERIODS = {"any": N_("Any time"), "3": N_("Last 3 months"), "6": N_("Last 6 months"),
           "12": N_("Last 12 months"), "custom": N_("Choose dates")}


@dataclass
class SearchQuery:
    words: list[str] = field(default_factory=list)
    sender: str = ""
    category: str = ""
    period: str = "any"
    start: date | None = None
    end: date | None = None
    folder: str = "any"  # patients: any, inbox, sent, deleted, or a folder id
    order: str = "newest"  # or "oldest", or "sender"
    reference: int | None = None  # the message a reference number typed as the words names

    @property
    def is_empty(self) -> bool:
        return not (self.words or self.sender or self.category or self.period != "any"
                    or self.folder != "any" or self.reference is not None)


def parse(args) -> tuple[SearchQuery, dict[str, str]]:
    """Read the search form (query string). Returns the query and, per field, what was wrong."""
    errors: dict[str, str] = {}
    typed = args.get("q", "")[:500]
    # A reference number (the help desk's first question) finds its message, not words.
    reference = references.message_id_of(typed)
    terms = [] if reference is not None else [w.lower() for w in WORD.findall(typed)]
    query = SearchQuery(
        reference=reference,
        words=[t[:MAX_TERM] for t in terms][:MAX_TERMS],
        sender=args.get("sender", "").strip()[:100],
        category=args.get("category", ""),
        period=args.get("period", "any"),
        folder=args.get("folder", "any") or "any",
        order=args.get("order") if args.get("order") in {"oldest", "sender"} else "newest",
    )
    if query.category and query.category not in CATEGORIES:
        errors["category"] = gettext("Choose a category from the list.")
        query.category = ""
    if query.period not in PERIODS:
        query.period = "any"
    if query.period == "custom":
        query.start, query.end, date_errors = parse_date_range(args, required=True)
        errors |= date_errors
    return query, errors


def _day_start_utc(day: date) -> datetime:
    tz = ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])
    return datetime.combine(day, time(0, 0), tzinfo=tz).astimezone(ZoneInfo("UTC")).replace(
        tzinfo=None)


def search(user: User, query: SearchQuery, number: int, size: int,
           after: int | None = None, before: int | None = None) -> Page:
    """One page of results (see _search), recorded in the audit trail: results show parts of
    message bodies, so a search is an access like opening a thread (who, when, how many
    results; never the words)."""
    page = _search(user, query, number, size, after, before)
    audit.record("search", user, result_count=len(page.items))
    return page


def _search(user: User, query: SearchQuery, number: int, size: int,
            after: int | None = None, before: int | None = None) -> Page:
    """One page of the messages the user may see that match, newest first (or oldest first,
    or by sender). On SQLite, newest means the highest message id (ids are given in the order
    messages are sent) because the search index is read in that order and stops once a page
    is full: a page costs about the same for a hundred threads or twenty thousand. Later
    pages start after the last result shown (`after`, its message id) or, going back, before
    the first (`before`): read from there, not counted off from the top."""
    number = max(number, 1)
    group_ids = [] if user.is_patient else user.staff_group_ids()
    if not user.is_patient and not group_ids:  # staff on no care team: nothing to search
        return Page(items=[], number=number, has_next=False)
    shape = _Shape.of(db.engine.dialect.name, user, query)
    params = _params(shape, user, query, group_ids)

    def first() -> Page:
        return _search(user, query, 1, size)

    # A result's place: its id (SQLite's index order), or its time and id (PostgreSQL's).
    # By name, every match in scope is read and sorted anyway; its pages are counted, and a
    # link never names a place by a person.
    kinds = _place_kinds(shape)
    place_of = None if shape.order == "sender" else (
        lambda row: paging.place((row.id,) if len(kinds) == 1 else (row.sent_at, row.id)))
    after, before, values = paging.starting_place(after, before, kinds) if place_of \
        else (None, None, None)
    if values is None:  # the first page, or an old ?page=N link: counted off from the top
        rows = _read(shape, params | {"limit": size + 1, "offset": (number - 1) * size})
        return paging.counted(rows, size, number, first, place_of)
    shape = replace(shape, start="after" if after is not None else "before")
    rows = _read(shape, params | {"limit": size + 1}
                 | {f"v{i}": value for i, value in enumerate(values)})
    return paging.keyed(rows, size, number, after, before, first, place_of)


@dataclass(frozen=True)
class _Shape:
    """What a search statement's shape depends on; the words, the user, the dates and the
    page's place are bound when it runs, so each shape is built once per process
    (functools.cache), as the queue's are: building and compiling a statement of six joined
    tables costs more than SQLite's reading of a page of results."""

    engine: str
    patient: bool
    words: bool
    folder: str  # "any", "inbox", "sent", "deleted" or "folder" (one of the patient's own)
    sender: bool
    category: bool
    period: str  # "any", "since" or "custom"
    order: str  # "newest", "oldest" or "sender"
    start: str = "top"  # counted off from the top, or "after" / "before" a place
    reference: bool = False  # one message, by its reference number

    @classmethod
    def of(cls, engine: str, user: User, query: SearchQuery) -> "_Shape":
        folder = "any"
        if user.is_patient:
            folder = query.folder if query.folder in {"inbox", "sent", "deleted"} else \
                "folder" if as_id(query.folder) is not None else "any"
        period = "since" if query.period in {"3", "6", "12"} else \
            "custom" if query.period == "custom" and query.start and query.end else "any"
        return cls(engine, user.is_patient, bool(query.words), folder, bool(query.sender),
                   bool(query.category), period, query.order,
                   reference=query.reference is not None)


def _params(shape: _Shape, user: User, query: SearchQuery, group_ids: list[int]) -> dict:
    """The values a statement of this shape is run with."""
    params: dict = {"user_id": user.id, "group_ids": group_ids}
    if shape.reference:
        params["message_id"] = query.reference
    elif shape.engine == "sqlite":
        params["match"] = fts_match(query.words, scope_tokens(user, group_ids))
    elif shape.words:
        params |= keyword_params(query.words, scope_tokens(user, group_ids, mark="~"))
    if shape.folder == "folder":
        params["folder_id"] = as_id(query.folder)
    if shape.sender:
        params["sender"] = "%" + query.sender.lower().replace("\\", "\\\\").replace(
            "%", "\\%").replace("_", "\\_") + "%"
    if shape.category:
        params["category"] = query.category
    if shape.period == "since":
        params["since"] = utcnow() - timedelta(days=int(query.period) * 366 // 12)
    elif shape.period == "custom":
        params["since"] = _day_start_utc(query.start)
        params["until"] = _day_start_utc(query.end + timedelta(days=1))
    return params


def _newest(shape: _Shape) -> tuple:
    """The newest-first order of the shape's source (see _source)."""
    if shape.reference:
        return ((Message.id, False),)
    if shape.engine == "sqlite":
        return ((MESSAGE_FTS.c.rowid, False),)
    if shape.words:
        return ((PG_MESSAGE_FTS.c.sent_at, False), (PG_MESSAGE_FTS.c.message_id, False))
    return ((Message.sent_at, False), (Message.id, False))


def _place_kinds(shape: _Shape) -> tuple[type, ...]:
    return (int,) if len(_newest(shape)) == 1 else (datetime, int)


def _source(shape: _Shape):
    """The messages whose words match, as this engine finds them fastest."""
    if shape.reference:  # the one message, if the user may see it (_narrowed)
        return select(Message.id).where(Message.id == bindparam("message_id"))
    if shape.engine == "sqlite":
        # FTS5 intersects the words with the user's scope and hands rows over newest first:
        # with the LIMIT, only about one page of rows is read from messages and threads.
        # Without words it still serves as an index of the user's messages by recency.
        return (select(Message.id).select_from(MESSAGE_FTS)
                .join(Message, Message.id == MESSAGE_FTS.c.rowid)
                .where(text("message_fts MATCH :match")))
    if shape.words:
        # The index table (migration 0015) holds words and scope together: PostgreSQL either
        # asks its GIN index for the user's matches and sorts them by the time kept beside
        # them (a rare word), or walks its index of that time back from the newest message
        # until a page is full (words common in the mailbox), as its statistics suggest.
        return (select(Message.id).select_from(PG_MESSAGE_FTS)
                .join(Message, Message.id == PG_MESSAGE_FTS.c.message_id)
                .where(keyword_condition()))
    # No words (filters only): the user's messages by the time sent. Ordering by id alone
    # would tempt the planner to walk the primary key backwards: seconds.
    return select(Message.id)


def _narrowed(statement, shape: _Shape):
    """Only what the user may see (decided here, from the threads themselves, on both
    engines; on SQLite the scope tokens only make it fast), in the folder, from the sender,
    of the category and in the period asked for."""
    if shape.patient:
        statement = statement.where(Thread.patient_id == bindparam("user_id"))
        statement = statement.where(*{
            "inbox": (Thread.folder_id.is_(None), Thread.patient_deleted_at.is_(None)),
            "sent": (Message.author_id == bindparam("user_id"),),
            "deleted": (Thread.patient_deleted_at.is_not(None),),
            "folder": (Thread.folder_id == bindparam("folder_id"),
                       Thread.patient_deleted_at.is_(None)),
        }.get(shape.folder, ()))
    else:
        statement = statement.where(Thread.group_id.in_(bindparam("group_ids", expanding=True)))
    if shape.sender:
        statement = statement.where(func.lower(User.display_name).like(
            bindparam("sender"), escape="\\"))
    if shape.category:
        statement = statement.where(Thread.category == bindparam("category"))
    if shape.period != "any":
        statement = statement.where(Message.sent_at >= bindparam("since", type_=DateTime))
    if shape.period == "custom":
        statement = statement.where(Message.sent_at < bindparam("until", type_=DateTime))
    return statement


@cache
def _statement(shape: _Shape):
    """The statement of one page of this shape: `limit` rows, after `offset` rows or beyond
    the place v0 (and v1)."""
    newest = _newest(shape)
    order = {
        "oldest": tuple((column, True) for column, _newest in newest),
        # Sorting by name reads every match in the user's scope (bounded by their mailbox).
        "sender": ((User.display_name, True), *newest),
    }.get(shape.order, newest)
    statement = _narrowed(_source(shape).join(Thread, Thread.id == Message.thread_id)
                          .join(User, User.id == Message.author_id), shape)
    backwards = shape.start == "before"
    if shape.start == "top":
        statement = statement.offset(bindparam("offset", type_=Integer))
    else:  # a bound only: the scope above still decides what is found
        values = [bindparam(f"v{i}", type_=Integer if kind is int else DateTime)
                  for i, kind in enumerate(_place_kinds(shape))]
        statement = statement.where(paging.beyond(order, values, backwards))
    statement = statement.order_by(*paging.order_by(order, backwards)).limit(
        bindparam("limit", type_=Integer))
    if shape.engine != "sqlite" and shape.words:
        # The page's ids first, then those messages with their threads (_BY_IDS): as one
        # statement, its ten joined tables cost PostgreSQL's planner more than running it.
        return statement.with_only_columns(PG_MESSAGE_FTS.c.message_id)
    return _with_result_columns(statement)



# A result as the page shows it: the message, its thread's subject and category, who wrote
# it, and the time zone its time is shown in (named columns, read as the mailbox's rows are).
RESULT = (Message.id, Message.sent_at, Message.body, Message.author_id, Message.thread_id,
          Thread.subject, Thread.category, User.display_name.label("author_name"),
          Facility.timezone)


def _with_result_columns(statement):
    """The results a statement selects (from messages joined to their threads and authors),
    in its order."""
    return (statement.with_only_columns(*RESULT)
            .join(TriageGroup, TriageGroup.id == Thread.group_id)
            .join(Facility, Facility.id == TriageGroup.facility_id))


_BY_IDS = _with_result_columns(
    select(Message.id).join(Thread, Thread.id == Message.thread_id)
    .join(User, User.id == Message.author_id)
    .where(Message.id.in_(bindparam("ids", expanding=True))))


def _read(shape: _Shape, params: dict) -> list:
    """The rows of one page; on PostgreSQL with words, as two statements: the ids (from the
    index table), then their messages."""
    if shape.engine == "sqlite" or not shape.words:
        return read_rows(_statement(shape), params)
    ids = db.session.scalars(_statement(shape), params).all()
    if not ids:
        return []
    found = {row.id: row for row in read_rows(_BY_IDS, {"ids": ids})}
    return [found[message_id] for message_id in ids if message_id in found]



class Piece(NamedTuple):
    """A run of a snippet's text; `marked` when it is a word the person searched for."""

    text: str
    marked: bool = False


def snippet(body: str, words: list[str], width: int = 80) -> list[Piece]:
    """The part of a message around the first matched word, as pieces the page marks up
    (the template escapes the text and marks the matched words)."""
    if not words:
        return [Piece(body[:width * 2] + ("…" if len(body) > width * 2 else ""))]
    pattern = re.compile(r"\b(" + "|".join(re.escape(w) for w in words) + r")\w*", re.I)
    found = pattern.search(body)
    start = max((found.start() if found else 0) - width, 0)
    end = min(start + width * 2, len(body))
    piece = body[start:end]
    pieces, last = [Piece("…")] if start else [], 0
    for match in pattern.finditer(piece):
        pieces += [Piece(piece[last:match.start()]), Piece(match.group(0), marked=True)]
        last = match.end()
    pieces.append(Piece(piece[last:] + ("…" if end < len(body) else "")))
    return [p for p in pieces if p.text]


