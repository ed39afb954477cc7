"""Threads, their messages, and drafts not yet sent."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, func, select
from sqlalchemy.orm import Mapped, mapped_column, query_expression, relationship

from ..clock import utcnow
from ..config import N_
from ..extensions import db
from .people import TriageGroup, User

# Stored in English; shown in the page's language (`category|translated`): marked with N_.
CATEGORIES = (N_("General"), N_("COVID"), N_("Appointments"), N_("Medications"),
              N_("Test results"), N_("Education"))
SUBJECT_MAX = 50
BODY_MAX = 10_000


class Thread(db.Model):
    """A subject between one patient and one care team, and all its messages.

    The last_* columns and unread flags are kept up to date by the messaging service so that
    folder lists and queues are read from this one table, without a scan of messages.
    """

    __tablename__ = "threads"
    __table_args__ = (
        Index("ix_threads_patient_inbox", "patient_id", "last_team_message_at"),
        Index("ix_threads_patient_recent", "patient_id", "last_message_at"),
        Index("ix_threads_group_recent", "group_id", "last_patient_message_at"),
        # The Inbox's summary (services/mailbox.py): a patient's unread threads and the
        # replies still expected, each one index range, whatever the mailbox's size.
        Index("ix_threads_patient_unread", "patient_id", "unread_for_patient", "group_id"),
        Index("ix_threads_patient_due", "patient_id", "due_at"),
        # The queue's "Possible urgent" (services/queue.py): the few flagged, never the rest.
        Index("ix_threads_urgent", "urgent_at", "group_id"),
        # The staff queue (services/triage.py, migration 0013): each filter is read as a few
        # index ranges, (team or assignee, status) then the sort's columns, so a page reads
        # its rows in order and stops, however many threads the team holds.
        # (warn_at last: it orders nothing, but "due soon" then reads the index alone)
        Index("ix_threads_queue_due", "group_id", "status", "due_at", "last_message_at", "id",
              "warn_at"),
        Index("ix_threads_queue_recent", "group_id", "status", "last_message_at", "id"),
        Index("ix_threads_queue_assignee_due", "assignee_id", "group_id", "status", "due_at",
              "last_message_at", "id"),
        Index("ix_threads_queue_assignee_recent", "assignee_id", "group_id", "status",
              "last_message_at", "id"),
        Index("ix_threads_assigned_for", "assigned_for_id"),
        # "Not read by patient": answered threads the patient has not opened (0022).
        Index("ix_threads_queue_unread_patient", "group_id", "status", "unread_for_patient",
              "last_message_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Filled in only by a list that asks (with_expression and thread_size_columns()).
    message_count: Mapped[int | None] = query_expression()
    attachment_count: Mapped[int | None] = query_expression()
    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    group_id: Mapped[int] = mapped_column(ForeignKey("triage_groups.id"))
    category: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(SUBJECT_MAX))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_message_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_team_message_at: Mapped[datetime | None]
    last_team_author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    last_patient_message_at: Mapped[datetime | None]
    unread_for_patient: Mapped[bool] = mapped_column(default=False)
    unread_for_team: Mapped[bool] = mapped_column(default=False)
    patient_deleted_at: Mapped[datetime | None]
    # The patient's own folder holding the thread (None: the Inbox, or Deleted).
    folder_id: Mapped[int | None] = mapped_column(ForeignKey("folders.id"), index=True)
    # Triage: the team's status, who works it, and the reply clock (see services/sla.py).
    status: Mapped[str] = mapped_column(String(16), default="new", server_default="new")
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    assigned_for_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # surrogate
    due_at: Mapped[datetime | None]  # reply due for the oldest unanswered patient message
    warn_at: Mapped[datetime | None]  # one business day before due_at: "due soon"
    escalated_at: Mapped[datetime | None]
    # The patient sent it past the warning about words of an emergency (services/urgent.py):
    # it tops the team's queue until the team answers.
    urgent_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]

    patient: Mapped[User] = relationship(foreign_keys=[patient_id], lazy="joined")
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id], lazy="joined")
    assigned_for: Mapped[User | None] = relationship(foreign_keys=[assigned_for_id])
    group: Mapped[TriageGroup] = relationship(lazy="joined")
    last_team_author: Mapped[User | None] = relationship(foreign_keys=[last_team_author_id])
    messages: Mapped[list["Message"]] = relationship(
        back_populates="thread", order_by="Message.sent_at, Message.id"
    )


class Folder(db.Model):
    """A patient's own folder. Threads are moved in and out; a folder is removed only when
    empty, so nothing is ever lost with it."""

    __tablename__ = "folders"
    __table_args__ = (UniqueConstraint("owner_id", "name_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    name_key: Mapped[str] = mapped_column(String(50))  # lower-cased: unique per owner
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Message(db.Model):
    """One message as sent. Never edited or destroyed once sent."""

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_thread_sent", "thread_id", "sent_at"),
        Index("ix_messages_author_sent", "author_id", "sent_at"),
        # A form posted twice (a double click) sends one message: the second finds the first.
        Index("uq_messages_author_form_key", "author_id", "form_key", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # A patient's message written for them by their caregiver (services/caregivers.py): the
    # caregiver's user id, a plain column (migration 0030 adds it without a table copy).
    sent_by_id: Mapped[int | None]
    from_patient: Mapped[bool]
    # The thread's subject (fixed once the thread exists), copied here so one full-text index
    # covers subject and body together (migration 0009, PostgreSQL).
    subject: Mapped[str] = mapped_column(String(SUBJECT_MAX), default="", server_default="")
    body: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The first time anyone on the team opened it: the patient's READ receipt.
    read_by_team_at: Mapped[datetime | None]
    read_by_team_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    read_by_patient_at: Mapped[datetime | None]
    # For a patient's message: when the team's reply was due, as the patient was told.
    reply_due_at: Mapped[datetime | None]
    # The random key of the form that sent it (see uq_messages_author_form_key).
    form_key: Mapped[str | None] = mapped_column(String(32))

    thread: Mapped[Thread] = relationship(back_populates="messages")
    author: Mapped[User] = relationship(foreign_keys=[author_id], lazy="joined")
    read_by_team_user: Mapped[User | None] = relationship(foreign_keys=[read_by_team_user_id])
    attachments: Mapped[list["Attachment"]] = relationship(
        back_populates="message", order_by="Attachment.id"
    )


class Draft(db.Model):
    """A message not yet sent: a new one (group set, thread empty) or a reply (thread set).
    A staff member's new message also names the patient. Attachments wait here until sent."""

    __tablename__ = "drafts"
    __table_args__ = (
        # One draft per form: every request of a message form finds it by the form's key.
        Index("uq_drafts_author_form_key", "author_id", "form_key", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("triage_groups.id"))
    thread_id: Mapped[int | None] = mapped_column(ForeignKey("threads.id"))
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    category: Mapped[str | None] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(SUBJECT_MAX), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    form_key: Mapped[str | None] = mapped_column(String(32))
    # Uploads being checked and stored for this draft right now (see services/messaging.py,
    # submit): a send waits for none of them silently.
    uploads_pending: Mapped[int] = mapped_column(default=0, server_default="0")
    upload_started_at: Mapped[datetime | None]

    group: Mapped[TriageGroup | None] = relationship(lazy="joined")
    thread: Mapped[Thread | None] = relationship()
    attachments: Mapped[list["Attachment"]] = relationship(
        back_populates="draft", order_by="Attachment.id"
    )

    @property
    def is_reply(self) -> bool:
        return self.thread_id is not None


class Attachment(db.Model):
    """A file sent with a message (or waiting on a draft). The bytes live in attachment
    storage under `storage_key`, a name the server chose; `filename` is for display only."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), index=True)
    draft_id: Mapped[int | None] = mapped_column(ForeignKey("drafts.id"), index=True)
    uploader_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Shown to staff beside the file: a PDF with a script or launch action (migration 0020).
    warning: Mapped[str | None] = mapped_column(String(200))

    message: Mapped[Message | None] = relationship(back_populates="attachments")
    draft: Mapped[Draft | None] = relationship(back_populates="attachments")

    @property
    def is_image(self) -> bool:
        return self.content_type in {"image/png", "image/jpeg", "image/gif"}


def thread_size_columns(thread_id) -> tuple:
    """How many messages a thread holds and how many files were sent in it, as correlated
    counts for a list's rows (each reads an index range: messages by thread, files by
    message). `thread_id` is the column the list's rows carry, e.g. Thread.id."""
    messages = (select(func.count(Message.id)).where(Message.thread_id == thread_id)
                .scalar_subquery())
    files = (select(func.count(Attachment.id))
             .join(Message, Message.id == Attachment.message_id)
             .where(Message.thread_id == thread_id).scalar_subquery())
    return messages, files
