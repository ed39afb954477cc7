"""A user's preferences: signature, email notices, and the contact list shown in compose."""

from dataclasses import dataclass
from datetime import timedelta

from flask_babel import gettext, lazy_gettext
from sqlalchemy import bindparam, delete, insert, select

from ..clock import utcnow
from ..database import read_rows
from ..extensions import db
from ..models import Message, Preferences, Thread, TriageGroup, User, hidden_contacts
from ..models.people import signature_text
from . import access
from .refusals import NotAllowed

NOTIFY_CHOICES = {
    "none": lazy_gettext("No emails"),
    "each": lazy_gettext("An email for each new message"),
    "daily": lazy_gettext("One email a day when there is something new"),
}


class PreferencesError(NotAllowed):
    """A preference that can't be kept; the text says why."""


def preferences_of(user: User) -> Preferences:
    """The user's preferences (defaults until they save some)."""
    prefs = db.session.get(Preferences, user.id)
    if prefs is None:
        prefs = Preferences(user_id=user.id, signature_name="", signature_title="",
                            signature_by_default=False, notify="none", email="",
                            notified_through_message_id=0)
    return prefs


# Asked by every message form: the two columns alone.
_DEFAULT_SIGNATURE = select(Preferences.signature_name, Preferences.signature_title).where(
    Preferences.user_id == bindparam("user_id"), Preferences.signature_by_default.is_(True))


def default_signature(user: User) -> str:
    """The signature the user adds to every new message and reply ("" if none)."""
    found = read_rows(_DEFAULT_SIGNATURE, {"user_id": user.id})
    return signature_text(*found[0]) if found else ""


def hidden_group_ids(user: User) -> set[int]:
    return set(db.session.scalars(
        select(hidden_contacts.c.group_id).where(hidden_contacts.c.user_id == user.id)))


@dataclass
class ComposeTeams:
    """The care teams Compose offers a patient, and why others are not there."""

    groups: list[tuple[str, list[TriageGroup]]]  # (heading, teams): recent first, by facility
    hidden: list[TriageGroup]  # taken out of their contact list
    restricted: list[TriageGroup]  # new messages restricted (blocking)


RECENT = lazy_gettext("Written to in the last 6 months")
RECENT_DAYS = 183
# The teams of the threads the patient wrote in lately: from their own messages' index
# (ix_messages_author_sent), a range of a few rows.
_RECENT = (select(Thread.group_id).join(Message, Message.thread_id == Thread.id)
           .where(Message.author_id == bindparam("patient_id"),
                  Message.sent_at >= bindparam("since")).distinct())


def compose_teams(patient: User) -> ComposeTeams:
    """The care teams the patient chose to see in Compose (their contact list): those written
    to in the last 6 months first, then the rest by facility; and the ones left out, why."""
    from .blocking import blocked_group_ids

    teams = access.groups_patient_may_write(patient)
    hidden, blocked = hidden_group_ids(patient), blocked_group_ids(patient, "new")
    shown = [t for t in teams if t.id not in hidden | blocked]
    recent = {row.group_id for row in read_rows(_RECENT, {
        "patient_id": patient.id, "since": utcnow() - timedelta(days=RECENT_DAYS)})}
    groups: dict[str, list[TriageGroup]] = {}
    if any(t.id in recent for t in shown):
        groups[str(RECENT)] = [t for t in shown if t.id in recent]
    for team in sorted((t for t in shown if t.id not in recent),
                       key=lambda t: (t.facility.name, t.name)):
        groups.setdefault(team.facility.name, []).append(team)
    return ComposeTeams(
        groups=list(groups.items()),
        hidden=[t for t in teams if t.id in hidden and t.id not in blocked],
        restricted=[t for t in teams if t.id in blocked])


def save(user: User, *, signature_name: str, signature_title: str, signature_by_default: bool,
         notify: str, email: str, shown_group_ids: list[int] | None,
         language: str | None = None) -> Preferences:
    """Keep the user's preferences. A patient keeps at least one care team in compose, and
    email notices need an address."""
    if notify not in NOTIFY_CHOICES:
        raise PreferencesError(gettext("Choose how you want to be told about new messages."))
    if notify != "none" and not email:
        raise PreferencesError(gettext("Enter the email address for notices, or choose No "
                                       "emails."))
    if language is not None:
        user.language = checked_language(language)
    prefs = preferences_of(user)
    if prefs not in db.session:
        db.session.add(prefs)
    prefs.signature_name = signature_name.strip()
    prefs.signature_title = signature_title.strip()
    prefs.signature_by_default = signature_by_default
    if prefs.notify != notify and notify != "none":
        # Start announcing from now: earlier messages were already there to be seen.
        prefs.notified_through_message_id = _newest_message_id()
    prefs.notify = notify
    prefs.email = email.strip()
    if user.is_patient and shown_group_ids is not None:
        own = {g.id for g in access.groups_patient_may_write(user)}
        shown = set(shown_group_ids) & own
        if own and not shown:
            raise PreferencesError(gettext("Keep at least one care team in your contact list."))
        db.session.execute(delete(hidden_contacts).where(hidden_contacts.c.user_id == user.id))
        for group_id in sorted(own - shown):
            db.session.execute(insert(hidden_contacts).values(user_id=user.id,
                                                              group_id=group_id))
    db.session.commit()
    return prefs


def checked_language(language: str | None) -> str:
    """`language` if smweb speaks it; else the refusal says what to choose."""
    from ..i18n import known

    if not known(language):
        raise PreferencesError(gettext("Choose English or Español."))
    return language


def set_language(user: User, language: str) -> None:
    """The language of the person's pages and emails from now on."""
    user.language = checked_language(language)
    db.session.commit()


def _newest_message_id() -> int:
    from ..models import Message

    return db.session.scalar(select(db.func.max(Message.id))) or 0
