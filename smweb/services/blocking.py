"""Restricting a patient's access, with the notices the patient sees (PRODUCT.md, in the
site's own service name and coordinator title). The server refuses what a block forbids,
whatever the page shows."""

from flask_babel import gettext
from sqlalchemy import Integer, bindparam, or_, select

from ..clock import utcnow
from ..database import read_rows
from ..extensions import db
from ..i18n import site_text
from ..models import Block, Role, TriageGroup, User, group_members, patient_groups
from . import access, audit, people
from .paging import Page
from .refusals import Forbidden, NotAllowed, NotFound

KINDS = {
    "all": "From all of secure messaging",
    "new": "From sending new messages to a care team",
    "reply": "From replying to a care team's messages",
}


class BlockError(NotAllowed):
    """A block that can't be made; the text says why."""


def notice(kind: str) -> str:
    """The notice of a restriction, in the page's language (the site's own words too)."""
    service = site_text("SERVICE_NAME")
    coordinator = site_text("COORDINATOR_TITLE")
    if kind == "all":
        return gettext("Your provider has restricted your access to %(service)s. If you think "
                       "your access was restricted by mistake and you want to continue using "
                       "%(service)s, contact your %(coordinator)s at your local VA Medical "
                       "Center.", service=service, coordinator=coordinator)
    if kind == "new":
        return gettext("You have been restricted from a Triage Group(s).You are unable to send "
                       "messages to those Triage Groups.")
    return gettext("Your access to this Triage Group has been restricted. You cannot send "
                   "messages to this Triage Group. If you think your access was restricted by "
                   "mistake, contact your %(coordinator)s at your local VA Medical Center.",
                   coordinator=coordinator)


def active_blocks(patient: User) -> list[Block]:
    return list(db.session.scalars(select(Block).where(
        Block.patient_id == patient.id, Block.lifted_at.is_(None)).order_by(Block.id)))


# (kind, care team) of each restriction in force: asked on every messaging page, so just
# the two columns, not the restrictions with their teams and facilities; built once.
_ACTIVE_KINDS = select(Block.kind, Block.group_id).where(
    Block.patient_id == bindparam("patient_id"), Block.lifted_at.is_(None))


def _active_kinds(patient: User) -> list[tuple[str, int | None]]:
    return read_rows(_ACTIVE_KINDS, {"patient_id": patient.id})


def is_blocked_from_all(patient: User) -> bool:
    return any(kind == "all" for kind, _group in _active_kinds(patient))


def blocked_group_ids(patient: User, kind: str) -> set[int]:
    return {group for k, group in _active_kinds(patient) if k == kind}


def history(patient: User) -> list[Block]:
    return list(db.session.scalars(select(Block).where(Block.patient_id == patient.id)
                                   .order_by(Block.created_at.desc(), Block.id.desc())))


def may_restrict(staff: User) -> bool:
    """Coordinators (their facility) and group administrators (their care teams)."""
    return staff.is_coordinator or bool(staff.is_staff and access.administered_group_ids(staff))


def _in_reach(staff: User, group: TriageGroup) -> bool:
    return (staff.coordinator_of_id == group.facility_id
            or group.id in access.administered_group_ids(staff))


def get_patient_for(staff: User, patient_id: int) -> User:
    """A patient of the coordinator's facility or the group administrator's care teams;
    404 for anyone else."""
    patient = db.session.get(User, patient_id)
    if patient is None or not patient.is_patient or not may_restrict(staff):
        raise NotFound()
    if not any(_in_reach(staff, group) for group in patient.care_groups):
        raise NotFound()
    return patient


# A row of the Patients page: who the patient is (named columns, not ORM objects).
PATIENT_ROW = (User.id, User.display_name, User.username)

# The patients of a care team in the staff member's reach: any team of the coordinator's
# facility, and the teams they administer. One statement; a patient is asked about (through
# ix_patient_groups_patient) as the list walks the patients by name.
_IN_REACH = (
    select(patient_groups.c.patient_id)
    .where(patient_groups.c.patient_id == User.id,
           patient_groups.c.group_id.in_(
               select(TriageGroup.id).where(or_(
                   TriageGroup.facility_id == bindparam("facility_id", type_=Integer),
                   TriageGroup.id.in_(select(group_members.c.group_id).where(
                       group_members.c.user_id == bindparam("staff_id", type_=Integer),
                       group_members.c.role == "group_admin"))))))
    .exists()
)

PATIENTS = people.PeopleList(
    select(*PATIENT_ROW).where(User.role == Role.PATIENT, _IN_REACH),
    order=("display_name", "id"))


def patients_page(staff: User, search: people.NameSearch, number: int,
                  after: str | None = None, before: str | None = None) -> Page:
    """One page of the patients this coordinator or group administrator may restrict,
    A to Z by name, those whose name or username holds the words typed (404 for other
    staff). Read in the order of ix_users_role_name from where the page starts."""
    if not may_restrict(staff):
        raise NotFound()
    return PATIENTS.page(search, {"facility_id": staff.coordinator_of_id,
                                  "staff_id": staff.id}, number, after, before)


def block(coordinator: User, patient: User, kind: str, group_id: int | None,
          reason: str) -> Block:
    """Restrict the patient. Blocking from all of messaging also opts the patient out: once
    access is restored they must accept the terms again."""
    if kind not in KINDS:
        raise BlockError("Choose what to restrict.")
    if not reason.strip():
        raise BlockError("Give the reason for the restriction.")
    group = None
    if kind == "all" and not coordinator.is_coordinator:
        raise BlockError("Only the facility's coordinator can restrict all of messaging.")
    if kind != "all":
        group = db.session.get(TriageGroup, group_id) if group_id else None
        if group is None or not access.is_associated(patient.id, group.id):
            raise BlockError("Choose one of the patient's care teams.")
        if not _in_reach(coordinator, group):
            raise BlockError("You can restrict only for the care teams you administer.")
    entry = Block(patient_id=patient.id, kind=kind, group_id=group.id if group else None,
                  reason=reason.strip(), blocked_by_id=coordinator.id, created_at=utcnow())
    db.session.add(entry)
    if kind == "all":
        patient.opted_in_at = None
    audit.add("block", coordinator, patient_id=patient.id)
    db.session.commit()
    return entry


def may_lift(staff: User, entry: Block) -> bool:
    """Lifting a restriction, and reading why it was placed, follow the rule for placing
    it: all of messaging is the coordinator's; a care team's is its administrators' and its
    facility's coordinator's."""
    if entry.kind == "all":
        return staff.is_coordinator
    return entry.group is not None and _in_reach(staff, entry.group)


def liftable_ids(staff: User, entries: list[Block]) -> set[int]:
    """The restrictions among `entries` this staff member may lift and read the reason of."""
    return {entry.id for entry in entries if may_lift(staff, entry)}


def unblock(coordinator: User, patient: User, block_id: int) -> None:
    """Lift one of the patient's restrictions in force (404 if there is no such one; 403 if
    it is out of this staff member's reach)."""
    entry = db.session.get(Block, block_id)
    if entry is None or entry.patient_id != patient.id or entry.lifted_at is not None:
        raise NotFound()
    if not may_lift(coordinator, entry):
        raise Forbidden()
    entry.lifted_at = utcnow()
    entry.lifted_by_id = coordinator.id
    audit.add("unblock", coordinator, patient_id=patient.id)
    db.session.commit()
