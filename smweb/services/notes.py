"""Staff notes on a thread, and consults: a note may ask a colleague of any of the facility's
care teams for advice. The thread is then in that colleague's queue under Consults (see
services/queue.py) until they answer with a note of their own. Patients never see any of
it: not in the thread, the print page, the medical record or its FHIR export."""

from sqlalchemy import select, update

from ..clock import utcnow
from ..extensions import db
from ..models import StaffNote, Thread, TriageGroup, User, group_members
from . import access, audit
from .refusals import NotAllowed, NotFound

BODY_MAX = 2000


class NoteError(NotAllowed):
    """A note that can't be added; the text says why."""


def notes_of(thread: Thread) -> list[StaffNote]:
    """The thread's notes, oldest first, with who wrote each and whom it asked."""
    return list(db.session.scalars(select(StaffNote).where(StaffNote.thread_id == thread.id)
                                   .order_by(StaffNote.created_at, StaffNote.id)))


def colleagues_to_ask(staff: User, thread: Thread) -> list[User]:
    """Whom a note on this thread may ask: active staff of any care team of its facility,
    but the writer."""
    return list(db.session.scalars(
        select(User).join(group_members, group_members.c.user_id == User.id)
        .join(TriageGroup, TriageGroup.id == group_members.c.group_id)
        .where(TriageGroup.facility_id == thread.group.facility_id, User.id != staff.id,
               User.disabled.is_(False))
        .distinct().order_by(User.display_name)))


def add(staff: User, thread_id: int, body: str, ask_id: int | None = None) -> StaffNote:
    """Add a note to the thread (staff who may see it; 404 for anyone else), asking a
    colleague if `ask_id`. A note by someone who was asked answers their open consults on
    this thread. Audited in the same commit."""
    thread = access.get_thread_for(staff, thread_id)
    if not staff.is_staff:
        raise NotFound()
    body = body.strip()
    if not body:
        raise NoteError("Write the note first.")
    if len(body) > BODY_MAX:
        raise NoteError(f"A note can be at most {BODY_MAX} characters.")
    asked = None
    if ask_id:
        asked = next((u for u in colleagues_to_ask(staff, thread) if u.id == ask_id), None)
        if asked is None:
            raise NoteError("Choose a colleague from the list, or nobody.")
    now = utcnow()
    db.session.execute(update(StaffNote).where(
        StaffNote.thread_id == thread.id, StaffNote.asked_id == staff.id,
        StaffNote.answered_at.is_(None)).values(answered_at=now))
    note = StaffNote(thread_id=thread.id, author_id=staff.id, body=body, created_at=now,
                     asked_id=asked.id if asked else None)
    db.session.add(note)
    db.session.flush()
    audit.add("note_add", staff, thread=thread)
    db.session.commit()
    return note
