"""Folder lists for patients and the staff queue, a page at a time."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import Draft, Message, Thread, User

# What each folder's rows show that can change: a poll compares these (templating.list_version).
SHOWN = {
    "inbox": ("last_team_message_at", "unread_for_patient", "last_team_author_id"),
    "sent": ("read_by_team_at", "reply_due_at"),
    "drafts": ("updated_at", "subject"),
    "deleted": ("last_message_at",),
}

FOLDERS = {
    "inbox": "Inbox",
    "sent": "Sent",
    "drafts": "Drafts",
    "deleted": "Deleted",
}


@dataclass(frozen=True)
class Page:
    items: list[Any]
    number: int
    has_next: bool

    @property
    def has_prev(self) -> bool:
        return self.number > 1


def _page(query: Select, number: int, size: int) -> Page:
    # One row more than a page tells whether there is a next one, without counting them all.
    number = max(number, 1)
    rows = list(db.session.scalars(query.limit(size + 1).offset((number - 1) * size)).unique())
    return Page(items=rows[:size], number=number, has_next=len(rows) > size)


def folder_page(patient: User, folder: str, number: int, size: int) -> Page:
    """One page of the patient's folder, newest first."""
    match folder:
        case "inbox":
            query = (
                select(Thread)
                .options(joinedload(Thread.last_team_author))
                .where(
                    Thread.patient_id == patient.id,
                    Thread.patient_deleted_at.is_(None),
                    Thread.last_team_message_at.is_not(None),
                )
                .order_by(Thread.last_team_message_at.desc(), Thread.id.desc())
            )
        case "sent":
            query = (
                select(Message)
                .join(Message.thread)
                .options(joinedload(Message.thread))
                .where(
                    Message.author_id == patient.id,
                    Thread.patient_id == patient.id,
                    Thread.patient_deleted_at.is_(None),
                )
                .order_by(Message.sent_at.desc(), Message.id.desc())
            )
        case "drafts":
            query = (
                select(Draft)
                .where(Draft.author_id == patient.id)
                .order_by(Draft.updated_at.desc(), Draft.id.desc())
            )
        case "deleted":
            query = (
                select(Thread)
                .where(Thread.patient_id == patient.id, Thread.patient_deleted_at.is_not(None))
                .order_by(Thread.last_message_at.desc(), Thread.id.desc())
            )
        case _:
            raise ValueError(folder)
    return _page(query, number, size)
