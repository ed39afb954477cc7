"""The care team's working records: a thread's staff-only history, escalation notices, the
medical-record entries saved from messages, the education library, and staff absences."""

from datetime import date, datetime

from flask_babel import lazy_gettext
from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import utcnow
from ..extensions import db
from .messaging import Draft, Message, Thread
from .people import TriageGroup, User


class ThreadStatus:
    NEW = "new"
    ASSIGNED = "assigned"
    WAITING = "waiting"  # the team answered; waiting on the patient
    COMPLETED = "completed"

    LABELS = {NEW: lazy_gettext("New"), ASSIGNED: lazy_gettext("Assigned"),
              WAITING: lazy_gettext("Waiting on patient"), COMPLETED: lazy_gettext("Completed")}
    OPEN = (NEW, ASSIGNED, WAITING)


class ThreadEvent(db.Model):
    """One line of a thread's staff-only history: assigned, reassigned, completed, ...
    Patients never see these."""

    __tablename__ = "thread_events"
    # The escalations of a period, for the response-time reports.
    __table_args__ = (Index("ix_thread_events_kind_created", "kind", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: the system
    kind: Mapped[str] = mapped_column(String(32))
    subject_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("triage_groups.id"))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id], lazy="joined")
    subject_user: Mapped[User | None] = relationship(foreign_keys=[subject_user_id],
                                                     lazy="joined")
    group: Mapped[TriageGroup | None] = relationship(lazy="joined")


class Notification(db.Model):
    """Something a coordinator must see: for now, a thread past its reply time."""

    __tablename__ = "notifications"
    __table_args__ = (UniqueConstraint("user_id", "thread_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id"))
    kind: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]

    thread: Mapped[Thread] = relationship(lazy="joined")


class RecordEntry(db.Model):
    """A message, or a whole thread, saved to the patient's medical record. Never changed
    after it is written: no code path updates it, and the database refuses to."""

    __tablename__ = "record_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    saved_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    saved_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The text as sent, with who wrote each message and when (JSON), frozen at saving.
    content: Mapped[str] = mapped_column(Text)

    thread: Mapped[Thread] = relationship()
    message: Mapped[Message | None] = relationship()
    saved_by: Mapped[User] = relationship(foreign_keys=[saved_by_id], lazy="joined")
    patient: Mapped[User] = relationship(foreign_keys=[patient_id])


class EducationItem(db.Model):
    """A patient-education page from the library, which staff can put into a message."""

    __tablename__ = "education_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str] = mapped_column(String(500))


message_education = db.Table(
    "message_education",
    db.Column("message_id", ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True),
    db.Column("item_id", ForeignKey("education_items.id"), primary_key=True),
)

draft_education = db.Table(
    "draft_education",
    db.Column("draft_id", ForeignKey("drafts.id", ondelete="CASCADE"), primary_key=True),
    db.Column("item_id", ForeignKey("education_items.id"), primary_key=True),
)


class StaffAbsence(db.Model):
    """A staff member away from `starts_on` to `ends_on` (inclusive): threads assigned to
    them then go to their surrogate."""

    __tablename__ = "staff_absences"
    __table_args__ = (Index("ix_staff_absences_user_dates", "user_id", "starts_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    surrogate_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    starts_on: Mapped[date]
    ends_on: Mapped[date]

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    surrogate: Mapped[User] = relationship(foreign_keys=[surrogate_id], lazy="joined")


# Declared here, beside their link tables: what the library put into a message or a draft.
Message.education_items = relationship(
    EducationItem, secondary=message_education, order_by=EducationItem.title
)
Draft.education_items = relationship(
    EducationItem, secondary=draft_education, order_by=EducationItem.title
)


class Block(db.Model):
    """A restriction on a patient, with a reason: from all of messaging ("all"), from sending
    new messages to a group ("new"), or from replying to a group's messages ("reply")."""

    __tablename__ = "blocks"
    __table_args__ = (Index("ix_blocks_patient_active", "patient_id", "lifted_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(8))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("triage_groups.id"))
    reason: Mapped[str] = mapped_column(Text)
    blocked_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    lifted_at: Mapped[datetime | None]
    lifted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    group: Mapped[TriageGroup | None] = relationship(lazy="joined")
    blocked_by: Mapped[User] = relationship(foreign_keys=[blocked_by_id], lazy="joined")
    lifted_by: Mapped[User | None] = relationship(foreign_keys=[lifted_by_id])


class QuickText(db.Model):
    """A reply staff insert with two clicks: a staff member's own (`owner_id`), or a care
    team's, kept by its group administrators (`group_id`). Exactly one of the two is set.
    Placeholders such as {patient_first_name} are filled in when it is inserted
    (services/quick_texts.py)."""

    __tablename__ = "quick_texts"
    __table_args__ = (
        CheckConstraint("(owner_id IS NULL) <> (group_id IS NULL)",
                        name="ck_quick_texts_one_owner"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True)
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("triage_groups.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(80))
    body: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class StaffNote(db.Model):
    """A note on a thread that only staff see: never shown to the patient, never in the
    print page or the medical record. A note may ask a colleague of any of the facility's
    care teams for advice (a consult, `asked_id`): the thread is in their queue's Consults
    until they answer with a note of their own (`answered_at`)."""

    __tablename__ = "staff_notes"
    __table_args__ = (
        # Consults still to answer, per colleague asked: the queue's Consults tab.
        Index("ix_staff_notes_open_consults", "asked_id", "answered_at", "thread_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"),
                                           index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    asked_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answered_at: Mapped[datetime | None]

    author: Mapped[User] = relationship(foreign_keys=[author_id], lazy="joined")
    asked: Mapped[User | None] = relationship(foreign_keys=[asked_id], lazy="joined")


class ReplyTime(db.Model):
    """What the response-time reports count (services/reports.py), one row per patient
    message: when it came, to which team, when its reply was due, and the team's first reply
    after it (who, when, and how much business time that took, on the due time's clock).
    Written as the messages are sent, so a report sums rows and never replays the clock."""

    __tablename__ = "reply_times"
    __table_args__ = (
        # The report's two passes (services/reports.py), each read in its GROUP BY's order
        # from an index holding every column it needs: no sort, no row of the table read.
        Index("ix_reply_times_counts", "group_id", "category", "weekday", "received_at",
              "replied_at", "due_at", "closed_at"),
        Index("ix_reply_times_spread", "group_id", "replied_by_id", "business_tenths",
              "received_at", "replied_at", "due_at"),
        # A thread's messages still waiting for the team's reply.
        Index("ix_reply_times_thread_open", "thread_id", "replied_at"),
    )

    message_id: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(ForeignKey("triage_groups.id"))
    category: Mapped[str] = mapped_column(String(32))
    received_at: Mapped[datetime]
    weekday: Mapped[int] = mapped_column(SmallInteger)  # 0 is Monday, at the facility
    due_at: Mapped[datetime]  # 3 business days after this message came
    replied_at: Mapped[datetime | None]
    replied_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    business_seconds: Mapped[int | None]  # received to replied, in business time
    business_tenths: Mapped[int | None]  # the same in tenths of an hour, rounded down
    # The team completed the thread without a reply to it (a "thank you"): no reply was
    # needed, unless it was already overdue then.
    closed_at: Mapped[datetime | None]

    message: Mapped[Message] = relationship()
    thread: Mapped[Thread] = relationship()
    group: Mapped[TriageGroup] = relationship()


class CallBack(db.Model):
    """A patient's request for a phone call on a thread whose reply time has passed: in the
    team's queue and the coordinator's escalations until someone on the team calls back."""

    __tablename__ = "call_backs"
    __table_args__ = (
        # The few still waiting, for the queue, the escalations and a thread.
        Index("ix_call_backs_open", "done_at", "thread_id"),
        # One waiting per thread, even when two asks arrive at once (a double tap).
        Index("uq_call_backs_one_waiting", "thread_id", unique=True,
              sqlite_where=text("done_at IS NULL"), postgresql_where=text("done_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"))
    phone: Mapped[str] = mapped_column(String(40))
    good_times: Mapped[str] = mapped_column(String(100), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None]
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    thread: Mapped[Thread] = relationship()
