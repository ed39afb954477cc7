"""Facilities, care teams (triage groups) and the people who use smweb."""

from datetime import datetime, time
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    UniqueConstraint,
    false,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import utcnow
from ..extensions import db


class Role(StrEnum):
    PATIENT = "patient"
    STAFF = "staff"
    ADMIN = "admin"  # the site's administrators: accounts, facilities, care teams
    # Someone a patient lets read (or read and write) their messages: no mailbox of their own
    CAREGIVER = "caregiver"


class AccountLevel(StrEnum):
    BASIC = "basic"
    PREMIUM = "premium"


# A staff member's role in a care team; a group administrator may also restrict the team's
# patients (PRODUCT.md, blocking).
MEMBER_ROLES = {"provider": "Provider", "nurse": "Nurse", "clerk": "Clerk",
                "group_admin": "Group administrator"}

# Staff who work a triage group's queue, each with a role in it.
group_members = Table(
    "group_members",
    db.metadata,
    Column("group_id", ForeignKey("triage_groups.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("role", String(16), nullable=False, server_default="nurse"),
)

# Patients associated with a triage group: the only groups they may write to.
patient_groups = Table(
    "patient_groups",
    db.metadata,
    Column("group_id", ForeignKey("triage_groups.id", ondelete="CASCADE"), primary_key=True),
    Column("patient_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    # A patient's care teams, from the patient (the key leads with the team): asked for
    # each patient the coordinator's list walks (migration 0023).
    Index("ix_patient_groups_patient", "patient_id", "group_id"),
)


class Facility(db.Model):
    __tablename__ = "facilities"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    timezone: Mapped[str] = mapped_column(String(64), default="America/New_York")
    phone: Mapped[str] = mapped_column(String(40))
    opens_at: Mapped[time] = mapped_column(default=time(8, 0), server_default="08:00:00")
    closes_at: Mapped[time] = mapped_column(default=time(17, 0), server_default="17:00:00")

    groups: Mapped[list["TriageGroup"]] = relationship(back_populates="facility")


class TriageGroup(db.Model):
    """A care team at a facility. Patients write to the group, never to a person."""

    __tablename__ = "triage_groups"
    __table_args__ = (UniqueConstraint("facility_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    facility_id: Mapped[int] = mapped_column(ForeignKey("facilities.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))

    facility: Mapped[Facility] = relationship(back_populates="groups", lazy="joined")
    members: Mapped[list["User"]] = relationship(
        secondary=group_members, back_populates="staff_groups", order_by="User.display_name"
    )
    patients: Mapped[list["User"]] = relationship(
        secondary=patient_groups, back_populates="care_groups", order_by="User.display_name"
    )


class User(UserMixin, db.Model):
    __tablename__ = "users"
    # The patients list, A to Z by name, read as one index range a page at a time
    # (services/people.py; migration 0023).
    __table_args__ = (Index("ix_users_role_name", "role", "display_name", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(16), default=Role.PATIENT)
    account_level: Mapped[str] = mapped_column(String(16), default=AccountLevel.BASIC)
    opted_in_at: Mapped[datetime | None]
    disabled: Mapped[bool] = mapped_column(default=False)
    # A staff member who coordinates secure messaging for a facility: escalations reach them.
    coordinator_of_id: Mapped[int | None] = mapped_column(ForeignKey("facilities.id"))
    coordinator_of: Mapped[Facility | None] = relationship()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Second factor (TOTP): the shared secret, one being enrolled (with the hash of the claim
    # of the one browser session it was shown to), and the last time step used, so a code is
    # accepted once only.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_pending_secret: Mapped[str | None] = mapped_column(String(64))
    totp_pending_claim: Mapped[str | None] = mapped_column(String(64))
    totp_last_counter: Mapped[int | None] = mapped_column(BigInteger)
    # Set by an admin's password reset: the next sign-in leads to "choose a new password".
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=false())
    # A patient who made the account on the sign-up page confirms the email address by a
    # link before going on (email_confirmed_at); accounts made by an admin are not asked.
    signed_up: Mapped[bool] = mapped_column(default=False, server_default=false())
    email_confirmed_at: Mapped[datetime | None]
    # Staff who checked the patient's identity in person (which made the account premium).
    identity_verified_at: Mapped[datetime | None]
    identity_verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The language the person chose for their pages and emails ("en", "es"; smweb/i18n.py);
    # None: the browser's Accept-Language decides.
    language: Mapped[str | None] = mapped_column(String(8))

    # Flask-Login keeps this in the session cookie (login_manager.id_attribute), not the user
    # id: the token of a server-side session, which signing out ends for good.
    session_token = None

    staff_groups: Mapped[list[TriageGroup]] = relationship(
        secondary=group_members, back_populates="members", order_by=TriageGroup.name
    )
    care_groups: Mapped[list[TriageGroup]] = relationship(
        secondary=patient_groups, back_populates="patients", order_by=TriageGroup.name
    )

    identity_verified_by: Mapped["User | None"] = relationship(
        remote_side="User.id", foreign_keys=[identity_verified_by_id])

    @property
    def needs_email_confirmation(self) -> bool:
        """Signed up here and has not yet opened the link sent to the address given."""
        return self.signed_up and self.email_confirmed_at is None

    def get_session_token(self) -> str | None:
        return self.session_token

    @property
    def needs_second_factor(self) -> bool:
        """Staff, coordinators and admins must use a second factor; patients and
        caregivers may."""
        return self.is_staff or self.is_admin

    @property
    def is_active(self) -> bool:  # Flask-Login: a disabled account can't stay signed in
        return not self.disabled

    @property
    def is_patient(self) -> bool:
        return self.role == Role.PATIENT

    @property
    def is_staff(self) -> bool:
        return self.role == Role.STAFF

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_caregiver(self) -> bool:
        return self.role == Role.CAREGIVER

    @property
    def is_coordinator(self) -> bool:
        return self.is_staff and self.coordinator_of_id is not None

    @property
    def is_premium(self) -> bool:
        return self.account_level == AccountLevel.PREMIUM

    @property
    def can_use_messaging(self) -> bool:
        """A patient needs a premium (identity-verified) account and to have opted in."""
        return self.is_premium and self.opted_in_at is not None

    def staff_group_ids(self) -> list[int]:
        return list(
            db.session.scalars(
                select(group_members.c.group_id).where(group_members.c.user_id == self.id)
            )
        )

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


class Preferences(db.Model):
    """A user's messaging preferences: signature, email notices, and which care teams
    appear in compose."""

    __tablename__ = "preferences"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    signature_name: Mapped[str] = mapped_column(String(100), default="")
    signature_title: Mapped[str] = mapped_column(String(100), default="")
    signature_by_default: Mapped[bool] = mapped_column(default=False)
    # "none", "each" (one email per new message) or "daily" (one digest a day)
    notify: Mapped[str] = mapped_column(String(8), default="none")
    email: Mapped[str] = mapped_column(String(254), default="")
    # The newest message already announced by email: digests never repeat one.
    notified_through_message_id: Mapped[int] = mapped_column(default=0)

    @property
    def signature(self) -> str:
        return signature_text(self.signature_name, self.signature_title)


def signature_text(name: str, title: str) -> str:
    """A signature as it is added below a message: the name, then the title."""
    return "\n".join(line for line in (name, title) if line)


# Care teams a patient chose not to see in compose (the contact list); all others appear.
hidden_contacts = Table(
    "hidden_contacts",
    db.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("group_id", ForeignKey("triage_groups.id", ondelete="CASCADE"), primary_key=True),
)


class Caregiver(db.Model):
    """Proxy access: a caregiver's own account may read a patient's messages, or read and
    write them, until the patient (or an admin) ends it. An ended link stays, for the record;
    at most one is current per caregiver and patient (a partial unique index)."""

    __tablename__ = "caregivers"
    __table_args__ = (
        Index("uq_caregivers_current", "caregiver_id", "patient_id", unique=True,
              sqlite_where=db.text("ended_at IS NULL"),
              postgresql_where=db.text("ended_at IS NULL")),
        Index("ix_caregivers_patient", "patient_id", "ended_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    caregiver_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    may_write: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    ended_at: Mapped[datetime | None]
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    patient: Mapped[User] = relationship(foreign_keys=[patient_id], lazy="joined")
    caregiver: Mapped[User] = relationship(foreign_keys=[caregiver_id], lazy="joined")

    @property
    def access(self) -> str:
        return "Read and write" if self.may_write else "Read only"
