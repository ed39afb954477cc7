"""Drafts: what the user typed and attached, kept until sent or deleted."""

from dataclasses import dataclass, field

from flask import g
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from ..extensions import db
from ..models import CATEGORIES, Draft, Thread, User
from ..models.messaging import BODY_MAX, SUBJECT_MAX
from . import access, attachments, education
from .messaging import NotAllowed


@dataclass
class DraftFields:
    """What a message form holds. A new message names a group (and, from staff, a patient);
    a reply names its thread."""

    group_id: int | None = None
    patient_id: int | None = None
    thread: Thread | None = None
    category: str | None = None
    subject: str = ""
    body: str = ""
    files: list[FileStorage] = field(default_factory=list)
    remove_attachment_id: int | None = None
    education_ids: list[int] | None = None  # staff only: items from the library


def _check_recipient(author: User, fields: DraftFields) -> None:
    if fields.thread is not None:
        if not access.can_see_thread(author, fields.thread):
            raise NotAllowed("You can't write in this conversation.")
        return
    if fields.group_id is None:
        return
    if author.is_patient and not access.is_associated(author.id, fields.group_id):
        raise NotAllowed("You can only write to the care teams you are associated with.")
    if author.is_staff:
        if not access.is_member(author.id, fields.group_id):
            raise NotAllowed("You can only write for the care teams you belong to.")
        if fields.patient_id and not access.is_associated(fields.patient_id, fields.group_id):
            raise NotAllowed("That patient is not associated with this care team.")


def keep(author: User, draft: Draft | None, fields: DraftFields) -> tuple[Draft, list]:
    """Save what the user typed and attached in a draft (made now if there is none). Any
    field may still be empty; what is there must be valid. Returns the draft and the files
    refused, each with its reason."""
    _check_recipient(author, fields)
    if fields.category and fields.category not in CATEGORIES:
        raise NotAllowed("Choose a category from the list.")
    if len(fields.subject) > SUBJECT_MAX or len(fields.body) > BODY_MAX:
        raise NotAllowed("The subject or message is too long to save.")
    # Files first, before any row changes: their checks, scan and fsync hold no write lock.
    existing = list(draft.attachments) if draft is not None else []
    removing = fields.remove_attachment_id
    stored, refused = attachments.store_files(
        author, [a for a in existing if a.id != removing], fields.files)
    if draft is None:
        draft = Draft(author_id=author.id)
        db.session.add(draft)
    if fields.thread is not None:
        draft.thread_id = fields.thread.id
        draft.group_id = fields.thread.group_id
        draft.patient_id = fields.thread.patient_id
        draft.category = fields.thread.category
        draft.subject = fields.thread.subject
    else:
        draft.group_id = fields.group_id
        draft.patient_id = fields.patient_id
        draft.category = fields.category or None
        draft.subject = fields.subject
    draft.body = fields.body
    if fields.education_ids is not None and author.is_staff:
        draft.education_items = education.items_by_ids(fields.education_ids)
    done = []
    if removing is not None:
        removed = attachments.remove_from_draft(draft, removing)
        if removed is None:
            refused.append(attachments.Refusal("", "That file is no longer attached."))
        else:
            done.append(f"Removed {removed}.")
    attachments.attach(author, draft, stored)
    if stored:
        done.append("Attached " + ", ".join(f.filename for f in stored) + ".")
    db.session.commit()
    g.attachments_notice = " ".join(done)
    return draft, refused


def reply_draft_for(author: User, thread: Thread) -> Draft | None:
    """The reply this user started in this thread and has not sent, if any."""
    return db.session.scalar(
        select(Draft)
        .where(Draft.author_id == author.id, Draft.thread_id == thread.id)
        .order_by(Draft.id.desc())
    )


def staff_drafts(author: User) -> list[Draft]:
    """A staff member's unsent new messages to patients."""
    return list(db.session.scalars(
        select(Draft)
        .where(Draft.author_id == author.id, Draft.thread_id.is_(None))
        .order_by(Draft.updated_at.desc())
    ))


def delete_draft(draft: Draft) -> None:
    """Throw away a draft that was never sent, and the files attached to it."""
    attachments.discard_draft_files(draft)
    db.session.delete(draft)
    db.session.commit()
