"""Search a user's messages: keywords in subject and body, sender, category, a date range and
a folder. One service over two engines: SQLite's FTS5 index, PostgreSQL's text search; the
same words match on both (prefixes of whole words, every keyword required, no stemming)."""

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import (
    and_,
    bindparam,
    cast,
    column,
    func,
    literal_column,
    select,
    table,
    text,
)
from sqlalchemy.dialects.postgresql import TSQUERY

from ..clock import parse_date_range, utcnow
from ..database import read_rows
from ..extensions import db
from ..models import CATEGORIES, Facility, Message, Thread, TriageGroup, User
from ..parsing import as_id
from . import audit, paging
from .paging import Page

# Letters and digits, as both search indexes split text into words (an underscore is a
# separator there too: a search for "_" finds nothing, on either database).
WORD = re.compile(r"[^\W_]+")
MAX_TERMS, MAX_TERM = 8, 40
# The search form's fields: what its result pages' links carry.
FIELDS = ("q", "sender", "category", "period", "start", "end", "folder", "order")
PERIODS = {"any": "Any time", "3": "Last 3 months", "6": "Last 6 months",
           "12": "Last 12 months", "custom": "Choose dates"}


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

    @property
    def is_empty(self) -> bool:
        return not (self.words or self.sender or self.category or self.period != "any"
                    or self.folder != "any")


def parse(args) -> tuple[SearchQuery, dict[str, str]]:
    """Read the search form (query string). Returns the query and, per field, what was wrong."""
    errors: dict[str, str] = {}
    terms = [w.lower() for w in WORD.findall(args.get("q", "")[:500])]
    query = SearchQuery(
        words=[t[:MAX_TERM] for t in terms][:MAX_TERMS],
        sender=args.get("sender", "").strip()[:100],
        category=args.get("category", ""),
        period=args.get("period", "any"),
        folder=args.get("folder", "any") or "any",
        order=args.get("order") if args.get("order") in {"oldest", "sender"} else "newest",
    )
    if query.category and query.category not in CATEGORIES:
        errors["category"] = "Choose a category from the list."
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


# The search index, kept by triggers. SQLite: an FTS5 table (migrations 0005, 0014) whose
# `scope` column holds, per message, the tokens xp<patient id> and xg<triage group id> of the
# message's thread. PostgreSQL: a table (migration 0015) of each message's time sent and its
# document, the words with the tokens ~p<patient id> and ~g<triage group id>, GIN-indexed.
MESSAGE_FTS = table("message_fts", column("rowid"))
PG_MESSAGE_FTS = table("message_fts", column("message_id"), column("sent_at"),
                       column("document"))


def _scope_tokens(user: User, group_ids: list[int], mark: str = "x") -> list[str]:
    """The scope tokens of the threads the user may search: a patient's own, or those of the
    staff member's triage groups (migrations 0014, `x`, and 0015, `~`, write the same)."""
    if user.is_patient:
        return [f"{mark}p{user.id}"]
    return [f"{mark}g{group_id}" for group_id in group_ids]


def _fts_match(words: list[str], scope: list[str]) -> str:
    """An FTS5 query: every word as a prefix, in the subject or body only (never the scope
    column), and one of the user's scope tokens. Words are quoted, so FTS5 operators typed
    into the search box are just text."""
    match = "scope : (" + " OR ".join(scope) + ")"
    if words:
        match = "{subject body} : (" + " AND ".join(f'"{w}"*' for w in words) + ") AND " + match
    return match


def _keyword_condition(words: list[str], scope: list[str]):
    """PostgreSQL: every word as a prefix of a word of the subject or body, and one of the
    user's scope tokens, asked of the GIN index of migration 0015 in one go."""
    tsquery = " & ".join(f"{w}:*" for w in words)  # letters and digits only: safe to join
    tokens = " | ".join(f"'{token}'" for token in scope)  # ~p<int> / ~g<int>: safe to quote
    # The query's text goes into the SQL itself (quoted by SQLAlchemy), not as a parameter:
    # psycopg prepares a statement run five times, and PostgreSQL's generic plan for it,
    # blind to how common the words are, walks every message of a big mailbox (seconds).
    # The tokens are cast, not parsed: the text search parser would drop their `~`.
    matching = func.to_tsquery(literal_column("'simple'::regconfig"),
                               bindparam("tsquery", tsquery, literal_execute=True)).op("&&")(
        cast(bindparam("scope", tokens, literal_execute=True), TSQUERY))
    return PG_MESSAGE_FTS.c.document.op("@@")(matching)


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
    statement, newest, read = _matches(user, query, group_ids)
    statement = _narrowed(statement.join(Thread, Thread.id == Message.thread_id)
                          .join(User, User.id == Message.author_id), user, query, group_ids)
    order = {
        "oldest": tuple((column, True) for column, _newest in newest),
        # Sorting by name reads every match in the user's scope (bounded by their mailbox).
        "sender": ((User.display_name, True), *newest),
    }.get(query.order, newest)

    def first() -> Page:
        return _search(user, query, 1, size)

    def counted() -> Page:  # the first page, or an old ?page=N link: counted off from the top
        rows = read(statement.order_by(*paging.order_by(order))
                    .limit(size + 1).offset((number - 1) * size))
        return paging.counted(rows, size, number, first, place_of)

    if query.order == "sender":
        # By name, every match in scope is read and sorted anyway; its pages are counted, and
        # a link never names a place by a person.
        place_of = None
        return counted()
    # A result's place: its id (SQLite's index order), or its time and id (PostgreSQL's).
    kinds = (int,) if len(newest) == 1 else (datetime, int)

    def place_of(message) -> str:
        return paging.place((message.id,) if len(kinds) == 1 else (message.sent_at, message.id))

    after, before, values = paging.starting_place(after, before, kinds)
    if values is None:
        return counted()
    # A bound only: the scope above still decides what is found.
    backwards = after is None
    statement = statement.where(paging.beyond(order, values, backwards))
    rows = read(statement.order_by(*paging.order_by(order, backwards)).limit(size + 1))
    return paging.keyed(rows, size, number, after, before, first, place_of)


def _matches(user: User, query: SearchQuery, group_ids: list[int]):
    """The messages whose words match, as this engine finds them fastest: the statement, its
    newest-first order, and how its rows are read."""
    if db.engine.dialect.name == "sqlite":
        # FTS5 intersects the words with the user's scope and hands rows over newest first:
        # with the LIMIT, only about one page of rows is read from messages and threads.
        # Without words it still serves as an index of the user's messages by recency.
        statement = (
            select(Message)
            .select_from(MESSAGE_FTS)
            .join(Message, Message.id == MESSAGE_FTS.c.rowid)
            .where(text("message_fts MATCH :match").bindparams(
                match=_fts_match(query.words, _scope_tokens(user, group_ids))))
        )
        return statement, ((MESSAGE_FTS.c.rowid, False),), _read
    if query.words:
        # The index table (migration 0015) holds words and scope together: PostgreSQL either
        # asks its GIN index for the user's matches and sorts them by the time kept beside
        # them (a rare word), or walks its index of that time back from the newest message
        # until a page is full (words common in the mailbox), as its statistics suggest.
        statement = (
            select(Message)
            .select_from(PG_MESSAGE_FTS)
            .join(Message, Message.id == PG_MESSAGE_FTS.c.message_id)
            .where(_keyword_condition(query.words,
                                      _scope_tokens(user, group_ids, mark="~")))
        )
        newest = ((PG_MESSAGE_FTS.c.sent_at, False), (PG_MESSAGE_FTS.c.message_id, False))
        # The page's ids first, then those messages with their threads: as one statement, its
        # ten joined tables cost PostgreSQL's planner more than running it does.
        return statement, newest, _read_by_ids
    # No words (filters only): the user's messages by the time sent. Ordering by id alone
    # would tempt the planner to walk the primary key backwards: seconds.
    return select(Message), ((Message.sent_at, False), (Message.id, False)), _read


def _narrowed(statement, user: User, query: SearchQuery, group_ids: list[int]):
    """Only what the user may see (decided here, from the threads themselves, on both
    engines; on SQLite the scope tokens only make it fast), in the folder, from the sender,
    of the category and in the period asked for."""
    if user.is_patient:
        statement = statement.where(Thread.patient_id == user.id)
        if query.folder == "inbox":
            statement = statement.where(Thread.folder_id.is_(None),
                                        Thread.patient_deleted_at.is_(None))
        elif query.folder == "sent":
            statement = statement.where(Message.author_id == user.id)
        elif query.folder == "deleted":
            statement = statement.where(Thread.patient_deleted_at.is_not(None))
        elif (folder_id := as_id(query.folder)) is not None:
            statement = statement.where(Thread.folder_id == folder_id,
                                        Thread.patient_deleted_at.is_(None))
    else:
        statement = statement.where(Thread.group_id.in_(group_ids))
    if query.sender:
        pattern = "%" + query.sender.replace("\\", "\\\\").replace("%", "\\%").replace(
            "_", "\\_") + "%"
        statement = statement.where(func.lower(User.display_name).like(
            pattern.lower(), escape="\\"))
    if query.category:
        statement = statement.where(Thread.category == query.category)
    if query.period in {"3", "6", "12"}:
        since = utcnow() - timedelta(days=int(query.period) * 366 // 12)
        statement = statement.where(Message.sent_at >= since)
    elif query.period == "custom" and query.start and query.end:
        statement = statement.where(and_(
            Message.sent_at >= _day_start_utc(query.start),
            Message.sent_at < _day_start_utc(query.end + timedelta(days=1))))
    return statement


def rebuild_index() -> int:
    """Index every message again, with its thread's scope: after data was loaded with the
    database's triggers turned off (a restore, an import), search finds it again. Returns
    how many messages were indexed."""
    if db.engine.dialect.name == "sqlite":
        db.session.execute(text("INSERT INTO message_fts (message_fts) VALUES ('delete-all')"))
        indexed = db.session.execute(text(
            "INSERT INTO message_fts (rowid, subject, body, scope) "
            "SELECT messages.id, threads.subject, messages.body,"
            " 'xp' || threads.patient_id || ' xg' || threads.group_id "
            "FROM messages JOIN threads ON threads.id = messages.thread_id "
            "ORDER BY messages.id")).rowcount
    else:
        indexed = db.session.execute(text(
            "INSERT INTO message_fts (message_id, sent_at, document) "
            "SELECT messages.id, messages.sent_at, smweb_message_document(messages.subject, "
            "messages.body, threads.patient_id, threads.group_id) "
            "FROM messages JOIN threads ON threads.id = messages.thread_id "
            "ON CONFLICT (message_id) DO UPDATE "
            "SET sent_at = EXCLUDED.sent_at, document = EXCLUDED.document")).rowcount
    db.session.commit()
    return indexed


# A result as the page shows it: the message, its thread's subject and category, who wrote
# it, and the time zone its time is shown in (named columns, read as the mailbox's rows are).
RESULT = (Message.id, Message.sent_at, Message.body, Message.author_id, Message.thread_id,
          Thread.subject, Thread.category, User.display_name.label("author_name"),
          Facility.timezone)


def _read(statement) -> list:
    """The results a search statement selects (from messages joined to their threads and
    authors), in its order."""
    return read_rows(statement.with_only_columns(*RESULT)
                     .join(TriageGroup, TriageGroup.id == Thread.group_id)
                     .join(Facility, Facility.id == TriageGroup.facility_id), {})


def _read_by_ids(statement) -> list:
    """The same, as two statements: the ids (from the index table), then their messages."""
    ids = db.session.scalars(statement.with_only_columns(PG_MESSAGE_FTS.c.message_id)).all()
    if not ids:
        return []
    found = {row.id: row for row in _read(
        select(Message).join(Thread, Thread.id == Message.thread_id)
        .join(User, User.id == Message.author_id).where(Message.id.in_(ids)))}
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


