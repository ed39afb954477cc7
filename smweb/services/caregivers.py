"""Caregivers (proxy access): a patient lets someone they trust read their messages, or
read and write them, from that person's own account.

This is the caregiver's gate. Every request a caregiver makes for a patient asks it first
(auth/guards.py): `acting_for` answers with the current link, or refuses — never chosen,
ended, or for a patient whose messaging is closed. Past it, the request is served as the
patient's (the same one-gate functions of services/access.py find each thread, draft and
file), with the caregiver named in the origin (services/origin.py): the audit trail records
the caregiver as the one who acted, and a message sent says who wrote it.
"""

from dataclasses import dataclass

from flask_babel import gettext
from sqlalchemy import and_, func, or_, select

from ..clock import utcnow
from ..extensions import db
from ..models import Caregiver, Preferences, Role, User
from . import audit, blocking
from .refusals import Forbidden, NotAllowed, NotFound


class NotChosen(Exception):
    """The caregiver has not said (in this session) whose messages they are acting on."""


class AccessEnded(Forbidden):
    """The link is gone: ended by the patient or an admin, or never there."""

    def __init__(self, patient_name: str | None = None):
        super().__init__(
            gettext("Your access to %(name)s's messages has ended.", name=patient_name)
            if patient_name else gettext("Your access to this patient's messages has ended."))


class CaregiverError(NotAllowed):
    pass


@dataclass(frozen=True)
class Acting:
    """A caregiver acting for a patient, as the gate allowed it for this request."""

    caregiver: User
    patient: User
    may_write: bool
    several: bool  # the caregiver has other patients to switch to


def current_links(caregiver: User) -> list[Caregiver]:
    """The patients this caregiver may act for now, A to Z."""
    return list(db.session.scalars(
        select(Caregiver).join(User, User.id == Caregiver.patient_id)
        .where(Caregiver.caregiver_id == caregiver.id, Caregiver.ended_at.is_(None),
               User.disabled.is_(False), User.role == Role.PATIENT)
        .order_by(User.display_name, Caregiver.id)))


def acting_for(caregiver: User, patient_id: int | None) -> Acting:
    """The gate: the caregiver's current link to this patient. NotChosen when no patient was
    chosen and there is more than one (or none) to choose; AccessEnded when the chosen one's
    link ended; Forbidden when the patient's own messaging is closed."""
    links = current_links(caregiver)
    if patient_id is None:
        if not links and (ended := _last_ended(caregiver)) is not None:
            raise AccessEnded(ended.patient.display_name)
        if len(links) != 1:
            raise NotChosen()
        patient_id = links[0].patient_id
    link = next((link for link in links if link.patient_id == patient_id), None)
    if link is None:
        patient = db.session.get(User, patient_id)
        raise AccessEnded(patient.display_name if patient is not None else None)
    patient = link.patient
    if not patient.can_use_messaging or blocking.is_blocked_from_all(patient):
        raise Forbidden(gettext("%(name)s's secure messaging is not open now. They can call "
                                "their care team, or the help desk, to ask why.",
                                name=patient.display_name))
    return Acting(caregiver, patient, link.may_write, several=len(links) > 1)


def _last_ended(caregiver: User) -> Caregiver | None:
    return db.session.scalar(
        select(Caregiver).where(Caregiver.caregiver_id == caregiver.id,
                                Caregiver.ended_at.is_not(None))
        .order_by(Caregiver.ended_at.desc()).limit(1))


def caregivers_of(patient: User) -> list[Caregiver]:
    """The patient's caregivers with access now, A to Z."""
    return list(db.session.scalars(
        select(Caregiver).join(User, User.id == Caregiver.caregiver_id)
        .where(Caregiver.patient_id == patient.id, Caregiver.ended_at.is_(None))
        .order_by(User.display_name, Caregiver.id)))


def link_of(patient: User, link_id: int) -> Caregiver:
    """One of the patient's current caregivers; 404 for anyone else's, or an ended one."""
    link = db.session.get(Caregiver, link_id)
    if link is None or link.patient_id != patient.id or link.ended_at is not None:
        raise NotFound()
    return link


def _caregiver_named(typed: str) -> User:
    """The caregiver account with this username, or with this (confirmed) email address."""
    typed = typed.strip().lower()
    found = list(db.session.scalars(
        select(User).outerjoin(Preferences, Preferences.user_id == User.id)
        .where(User.role == Role.CAREGIVER, User.disabled.is_(False),
               or_(User.username == typed,
                   and_(func.lower(Preferences.email) == typed,
                        or_(User.signed_up.is_(False), User.email_confirmed_at.is_not(None)))))
        .limit(2)))
    if len(found) == 1:
        return found[0]
    if any(person.username == typed for person in found):
        return next(person for person in found if person.username == typed)
    if found:
        raise CaregiverError(gettext("Several caregiver accounts have that email address: "
                                     "enter the username of the right one."))
    raise CaregiverError(gettext(
        "There is no caregiver account with that username or email address. Your caregiver "
        "signs up first, choosing \"as a caregiver\" (or the help desk makes the account), "
        "and confirms their email address."))


def add(patient: User, caregiver_username: str, may_write: bool, by: User) -> Caregiver:
    """Give a caregiver's account access to the patient's messages (an admin does this, or
    the patient), named by its username or email address. Audited as `by`."""
    if not patient.is_patient:
        raise CaregiverError(gettext("Only a patient's messages can be shared with a "
                                     "caregiver."))
    caregiver = _caregiver_named(caregiver_username)
    existing = db.session.scalar(select(Caregiver).where(
        Caregiver.patient_id == patient.id, Caregiver.caregiver_id == caregiver.id,
        Caregiver.ended_at.is_(None)))
    if existing is not None:
        raise CaregiverError(
            gettext("%(name)s already has access (read and write).",
                    name=caregiver.display_name) if existing.may_write else
            gettext("%(name)s already has access (read only).", name=caregiver.display_name))
    link = Caregiver(patient_id=patient.id, caregiver_id=caregiver.id, may_write=may_write,
                     created_at=utcnow(), created_by_id=by.id)
    db.session.add(link)
    audit.add("caregiver_add", by, target_user=patient)
    db.session.commit()
    return link


def change_access(link: Caregiver, may_write: bool, by: User) -> None:
    link.may_write = may_write
    audit.add("caregiver_change", by, target_user=link.patient)
    db.session.commit()


def end(link: Caregiver, by: User) -> None:
    """End the caregiver's access at once: their next request is refused."""
    link.ended_at, link.ended_by_id = utcnow(), by.id
    audit.add("caregiver_end", by, target_user=link.patient)
    db.session.commit()

