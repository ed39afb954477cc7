"""Links sent by email that work once: choosing a new password, confirming an address."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import utcnow
from ..extensions import db
from .people import User


class EmailLink(db.Model):
    """One link sent in one email. The token is made by the worker as it sends the email and
    only its SHA-256 is kept: neither the outbox nor a copy of the database holds a link
    that works. Using it sets used_at; it works until expires_at, once."""

    __tablename__ = "email_links"
    __table_args__ = (Index("ix_email_links_user_purpose", "user_id", "purpose"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(String(16))  # "reset_password" or "verify_email"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()
