"""Identity verified in person: a patient who signed up has a basic account until clinic
staff check a photo ID at the desk, which makes it premium (messaging, once the patient opts
in), records who checked and when, and links the care teams the patient is seen by.

Who may check: a facility's coordinator, and staff who are a clerk or a group administrator
in a care team, for that team's facility. Their reach is the whole facility: the desk checks
whoever comes in, and links any of the facility's teams. Everyone else gets a 404.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, or_, select

from ..clock import utcnow
from ..extensions import db
from ..models import Preferences, Role, TriageGroup, User, group_members
from ..models.people import AccountLevel
from . import audit
from .people import NameSearch
from .refusals import NotAllowed, NotFound

# The member roles that make a staff member one of the desk's verifiers (MEMBER_ROLES).
VERIFIER_ROLES = ("clerk", "group_admin")
FOUND_AT_MOST = 20
NAME_MAX = 120
TYPED_MAX = 254  # an email address's longest


class IdentityError(NotAllowed):
    """A verification, or a linking of care teams, the rules don't allow; the text says why."""


class AlreadyVerified(IdentityError):
    """The patient's identity was verified already (perhaps just now, in another window)."""


@dataclass(frozen=True)
class FoundPatient:
    """A row of the search's results: who the account is, its level, its email address."""

    id: int
    display_name: str
    username: str
    account_level: str
    email: str
    email_confirmed_at: datetime | None
    signed_up: bool

    @property
    def is_premium(self) -> bool:
        return self.account_level == AccountLevel.PREMIUM


def facility_ids_of(staff: User) -> set[int]:
    """The facilities whose patients this staff member may verify (none: not a verifier)."""
    if not staff.is_staff:
        return set()
    facilities = set(db.session.scalars(
        select(TriageGroup.facility_id)
        .join(group_members, group_members.c.group_id == TriageGroup.id)
        .where(group_members.c.user_id == staff.id,
               group_members.c.role.in_(VERIFIER_ROLES))))
    if staff.coordinator_of_id is not None:
        facilities.add(staff.coordinator_of_id)
    return facilities


def may_verify(staff: User) -> bool:
    """Whether this person checks patients' identity at a facility's desk."""
    return bool(facility_ids_of(staff))


def teams_in_reach(staff: User) -> list[TriageGroup]:
    """The care teams this staff member may link a verified patient to: every team of the
    facilities they verify for."""
    facilities = facility_ids_of(staff)
    if not facilities:
        return []
    return list(db.session.scalars(
        select(TriageGroup).where(TriageGroup.facility_id.in_(facilities))
        .order_by(TriageGroup.name, TriageGroup.id)))


def find(staff: User, typed: str) -> list[FoundPatient]:
    """Patient accounts whose username or email address is what was typed, or whose name
    holds it: at most FOUND_AT_MOST, basic (still to verify) first, then A to Z."""
    if not may_verify(staff):
        raise NotFound()
    typed = typed.strip()[:TYPED_MAX]
    if not typed:
        return []
    exact = typed.lower()
    name_pattern = NameSearch(typed[:NAME_MAX]).pattern
    rows = db.session.execute(
        select(User.id, User.display_name, User.username, User.account_level,
               func.coalesce(Preferences.email, "").label("email"), User.email_confirmed_at,
               User.signed_up)
        .outerjoin(Preferences, Preferences.user_id == User.id)
        .where(User.role == Role.PATIENT,
               or_(User.username == exact, func.lower(Preferences.email) == exact,
                   func.lower(User.display_name).like(name_pattern, escape="\\")))
        .order_by(case((User.account_level == AccountLevel.BASIC, 0), else_=1),
                  User.display_name, User.id)
        .limit(FOUND_AT_MOST))
    return [FoundPatient(*row) for row in rows]


def get_patient_for(staff: User, patient_id: int) -> User:
    """The one gate of these pages: a patient's account, for a staff member who verifies
    identities; 404 for anyone else, and for an account that is not a patient's."""
    patient = db.session.get(User, patient_id)
    if patient is None or not patient.is_patient or not may_verify(staff):
        raise NotFound()
    return patient


def email_of(patient: User) -> str:
    """The email address the account has for notices ("" if none)."""
    return db.session.scalar(select(Preferences.email).where(
        Preferences.user_id == patient.id)) or ""


def verify(staff: User, patient: User, *, display_name: str, group_ids: list[int],
           photo_id_checked: bool) -> list[TriageGroup]:
    """Record that `staff` checked the patient's photo ID in person: the account becomes
    premium, with the name as on the ID, who checked it and when, and the care teams chosen
    (of the staff member's reach). Once only. Returns the teams newly linked."""
    if patient.identity_verified_at is not None:
        raise AlreadyVerified(
            f"{patient.display_name}'s identity is already verified. You can link more care "
            "teams below.")
    if not photo_id_checked:
        raise IdentityError("Tick “I checked a photo ID in person” once you have seen the "
                            "patient's photo ID. Nothing was changed.")
    name = " ".join(display_name.split())
    if not name:
        raise IdentityError("Enter the patient's name as it is on the photo ID.")
    if len(name) > NAME_MAX:
        raise IdentityError(f"A name can be at most {NAME_MAX} characters.")
    added = _teams_to_link(staff, patient, group_ids)
    patient.display_name = name
    patient.account_level = AccountLevel.PREMIUM
    patient.identity_verified_at, patient.identity_verified_by = utcnow(), staff
    patient.care_groups.extend(added)
    db.session.flush()  # the teams first: the audit rows find the patient's facility
    audit.add("identity_verify", staff, target_user=patient)
    if added:
        audit.add("membership_change", staff, target_user=patient)
    db.session.commit()
    return added


def link_teams(staff: User, patient: User, group_ids: list[int]) -> list[TriageGroup]:
    """Link a verified patient to more care teams of the staff member's reach. Returns the
    teams newly linked."""
    if patient.identity_verified_at is None:
        raise IdentityError("Verify the patient's identity first: check a photo ID in person.")
    added = _teams_to_link(staff, patient, group_ids)
    if not added:
        raise IdentityError("Choose a care team to link.")
    patient.care_groups.extend(added)
    db.session.flush()
    audit.add("membership_change", staff, target_user=patient)
    db.session.commit()
    return added


def _teams_to_link(staff: User, patient: User, group_ids: list[int]) -> list[TriageGroup]:
    """The chosen teams the patient is not yet linked to; a team out of reach is refused."""
    reach = {team.id: team for team in teams_in_reach(staff)}
    outside = [group_id for group_id in group_ids if group_id not in reach]
    if outside:
        raise IdentityError("Choose care teams of your facility from the list: you can't "
                            "link a patient to another facility's care team.")
    linked = {team.id for team in patient.care_groups}
    return [reach[group_id] for group_id in dict.fromkeys(group_ids)
            if group_id not in linked]
