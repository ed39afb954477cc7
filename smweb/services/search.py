"""Search a user's messages: keywords in subject and body, sender, category, a date range and
a folder. One service over two engines: SQLite's FTS5 index, PostgreSQL's text search; the
same words match on both (prefixes of whole words, every keyword required, no stemming)."""

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from markupsafe import Markup, escape
from sqlalchemy import and_, func, literal_column, select, text
from sqlalchemy.orm import joinedload

from ..clock import parse_date_range, utcnow
from ..extensions import db
from ..models import CATEGORIES, Message, Thread, User, group_members
from .mailbox import Page

WORD = re.compile(r"\w+", re.UNICODE)
MAX_TERMS, MAX_TERM = 8, 40
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


def _keyword_condition(words: list[str]):
    if db.engine.dialect.name == "sqlite":
        match = " AND ".join(f'"{w}"*' for w in words)  # quoted: FTS5 operators are text
        ids = select(literal_column("rowid")).select_from(text("message_fts")).where(
            text("message_fts MATCH :match").bindparams(match=match))
        return Message.id.in_(ids)
    tsquery = " & ".join(f"{w}:*" for w in words)  # words are \\w+ only: safe to join
    # The very expression of the GIN index ix_messages_search (migration 0009).
    document = func.to_tsvector(literal_column("'simple'::regconfig"),
                                Message.subject + " " + Message.body)
    return document.op("@@")(func.to_tsquery("simple", tsquery))


def search(user: User, query: SearchQuery, number: int, size: int) -> Page:
    """One page of the messages the user may see that match, newest (or oldest) first."""
    author = User
    statement = (
        select(Message)
        .join(Thread, Thread.id == Message.thread_id)
        .join(author, author.id == Message.author_id)
        .options(joinedload(Message.thread))
    )
    if user.is_patient:
        statement = statement.where(Thread.patient_id == user.id)
        if query.folder == "inbox":
            statement = statement.where(Thread.folder_id.is_(None),
                                        Thread.patient_deleted_at.is_(None))
        elif query.folder == "sent":
            statement = statement.where(Message.author_id == user.id)
        elif query.folder == "deleted":
            statement = statement.where(Thread.patient_deleted_at.is_not(None))
        elif query.folder.isdigit():
            statement = statement.where(Thread.folder_id == int(query.folder),
                                        Thread.patient_deleted_at.is_(None))
    else:
        statement = statement.where(Thread.group_id.in_(
            select(group_members.c.group_id).where(group_members.c.user_id == user.id)))
    if query.words:
        statement = statement.where(_keyword_condition(query.words))
    if query.sender:
        pattern = "%" + query.sender.replace("\\", "\\\\").replace("%", "\\%").replace(
            "_", "\\_") + "%"
        statement = statement.where(func.lower(author.display_name).like(
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
    number = max(number, 1)
    rows = list(db.session.scalars(
        statement.order_by(*{
            "oldest": (Message.sent_at.asc(), Message.id.asc()),
            "sender": (author.display_name.asc(), Message.sent_at.desc(), Message.id.desc()),
        }.get(query.order, (Message.sent_at.desc(), Message.id.desc())))
        .limit(size + 1).offset((number - 1) * size)).unique())
    return Page(items=rows[:size], number=number, has_next=len(rows) > size)


def snippet(body: str, words: list[str], width: int = 80) -> Markup:
    """The part of a message around the first matched word, matched words marked."""
    if not words:
        return escape(body[:width * 2]) + ("…" if len(body) > width * 2 else "")
    pattern = re.compile(r"\b(" + "|".join(re.escape(w) for w in words) + r")\w*", re.I)
    found = pattern.search(body)
    start = max((found.start() if found else 0) - width, 0)
    end = min(start + width * 2, len(body))
    piece = body[start:end]
    marked = Markup("")
    last = 0
    for match in pattern.finditer(piece):
        marked += escape(piece[last:match.start()]) + Markup("<mark>") + escape(
            match.group(0)) + Markup("</mark>")
        last = match.end()
    marked += escape(piece[last:])
    return (Markup("…") if start else Markup("")) + marked + (
        Markup("…") if end < len(body) else Markup(""))


