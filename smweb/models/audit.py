"""The audit trail: who did what to which health information, when and from where.
Append-only: no code path changes a row, and the database refuses to (migration 0007)."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import utcnow
from ..extensions import db
from .people import User


class AuditEvent(db.Model):
    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_facility_at", "facility_id", "at"),
        Index("ix_audit_events_actor_at", "actor_id", "at"),
        Index("ix_audit_events_patient_at", "patient_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)  # UTC
    action: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    facility_id: Mapped[int | None] = mapped_column(ForeignKey("facilities.id"))
    # What the row names, as plain ids: the trail outlives a removed file or draft
    # (migration 0018), so these are no foreign keys.
    thread_id: Mapped[int | None]
    message_id: Mapped[int | None]
    attachment_id: Mapped[int | None]
    record_entry_id: Mapped[int | None]
    result_count: Mapped[int | None]  # a search: how many results it showed (no words)
    ip: Mapped[str] = mapped_column(String(45), default="")
    user_agent: Mapped[str] = mapped_column(String(200), default="")

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id], lazy="joined")
    patient: Mapped[User | None] = relationship(foreign_keys=[patient_id], lazy="joined")
