"""Background work's records: the outbox of email notices, and the scheduled jobs' runs."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import utcnow
from ..extensions import db


class Notice(db.Model):
    """An email notice waiting to go, or gone: written in the same transaction as the message
    it announces, delivered by the worker. It holds no address and no text: the address is
    read from the user's preferences when it goes, and every notice says the same thing."""

    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # "message" (one per new message), "digest" (the daily one), or an email with a one-use
    # link: "reset" (choose a new password) or "verify" (confirm the address; email_links.py)
    kind: Mapped[str] = mapped_column(String(8))
    staff: Mapped[bool] = mapped_column(default=False)  # "new work in your queue" wording
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    # A worker delivering it holds it until then; after a crash another takes it up.
    claimed_until: Mapped[datetime | None]
    # The first failed try of the current run of failures, and the last error's kind (an
    # exception's class name or an SMTP reply code: never an address or any content).
    failing_since: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(60))
    sent_at: Mapped[datetime | None]
    # Not to be sent after all: "no address" (the user took it away), "refused" (the relay
    # refused the address for good), "expired" (undeliverable for NOTICE_GIVE_UP_HOURS).
    dropped: Mapped[str | None] = mapped_column(String(12))

    __table_args__ = (
        # The worker's question: which notices are due? Only the unsent ones are indexed.
        Index("ix_notices_due", "next_attempt_at",
              sqlite_where=db.text("sent_at IS NULL AND dropped IS NULL"),
              postgresql_where=db.text("sent_at IS NULL AND dropped IS NULL")),
    )


class JobRun(db.Model):
    """One row per scheduled job: when it last started, finished and succeeded, and the
    lease that keeps a second worker from running it at the same time."""

    __tablename__ = "job_runs"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    # When a worker first knew of the job: a job not yet due is not a job that stopped.
    registered_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    running_until: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    succeeded_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(60))
    last_result: Mapped[str | None] = mapped_column(String(120))
