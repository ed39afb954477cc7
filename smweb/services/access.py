"""The one gate: every thread and draft is looked up here, for the user asking.

Anything the user may not see is a 404, exactly like something that does not exist, so an id
tells nothing about what lies behind it.
"""


from sqlalchemy import bindparam, select

from ..database import read_rows
from ..extensions import db
from ..models import (
    Draft,
    StaffNote,
    Thread,
    TriageGroup,
    User,
    group_members,
    patient_groups,
)
from .refusals import NotFound


def get_thread_for(user: User, thread_id: int) -> Thread:
    """The thread, if `user` is its patient or on its care team; 404 otherwise."""
    thread = db.session.get(Thread, thread_id)
    if thread is None or not can_see_thread(user, thread):
        raise NotFound()
    return thread


def can_see_thread(user: User, thread: Thread) -> bool:
    if user.is_patient:
        return thread.patient_id == user.id
    if user.is_staff:
        return works_thread(user, thread) or was_consulted(user, thread)
    return False


def works_thread(user: User, thread: Thread) -> bool:
    """Who answers the patient and works the thread: its care team, and its facility's
    coordinator (escalations and reassignment are theirs)."""
    if not user.is_staff:
        return False
    if thread.group_id in user.staff_group_ids():
        return True
    return user.coordinator_of_id is not None and \
        thread.group.facility_id == user.coordinator_of_id


# A colleague asked for advice on the thread (a consult: services/notes.py) reads it and
# answers with a note; they don't write to the patient.
_CONSULTED = (select(StaffNote.id).where(StaffNote.thread_id == bindparam("thread_id"),
                                         StaffNote.asked_id == bindparam("user_id")).limit(1))


def was_consulted(user: User, thread: Thread) -> bool:
    return bool(read_rows(_CONSULTED, {"thread_id": thread.id, "user_id": user.id}))


def get_draft_for(user: User, draft_id: int) -> Draft:
    """The user's own draft; 404 for anyone else's."""
    draft = db.session.get(Draft, draft_id)
    if draft is None or draft.author_id != user.id:
        raise NotFound()
    return draft


def groups_patient_may_write(patient: User) -> list[TriageGroup]:
    """The care teams this patient is associated with: the only possible recipients."""
    return _linked_groups(patient_groups.c.patient_id, patient.id)


def staff_groups(staff: User) -> list[TriageGroup]:
    """The triage groups whose queue this staff member works."""
    return _linked_groups(group_members.c.user_id, staff.id)


def patients_staff_may_write(staff: User) -> list[tuple[TriageGroup, list[User]]]:
    """For each of the staff member's groups, the patients associated with it."""
    return [(group, list(group.patients)) for group in staff_groups(staff)]


def colleagues_of(staff: User) -> list[User]:
    """Other staff on any of this staff member's care teams."""
    groups = select(group_members.c.group_id).where(group_members.c.user_id == staff.id)
    return list(db.session.scalars(
        select(User)
        .join(group_members, group_members.c.user_id == User.id)
        .where(group_members.c.group_id.in_(groups), User.id != staff.id,
               User.disabled.is_(False))
        .distinct()
        .order_by(User.display_name)
    ))


def is_associated(patient_id: int, group_id: int) -> bool:
    return _is_linked(patient_groups.c.patient_id, patient_id, group_id)


def administered_group_ids(staff: User) -> set[int]:
    """The care teams in which this staff member is a group administrator."""
    return set(db.session.scalars(select(group_members.c.group_id).where(
        group_members.c.user_id == staff.id, group_members.c.role == "group_admin")))


def is_member(staff_id: int, group_id: int) -> bool:
    return _is_linked(group_members.c.user_id, staff_id, group_id)


# patient_groups and group_members are both (group_id, person) link tables.
def _linked_groups(person_column, person_id: int) -> list[TriageGroup]:
    link = person_column.table
    return list(
        db.session.scalars(
            select(TriageGroup)
            .join(link, link.c.group_id == TriageGroup.id)
            .where(person_column == person_id)
            .order_by(TriageGroup.name)
        )
    )


def _is_linked(person_column, person_id: int, group_id: int) -> bool:
    link = person_column.table
    found = select(link.c.group_id).where(person_column == person_id, link.c.group_id == group_id)
    return db.session.scalar(found) is not None
