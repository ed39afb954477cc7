"""Drafts: what the patient typed, kept until sent or deleted."""

from ..extensions import db
from ..models import CATEGORIES, Draft, User
from ..models.messaging import BODY_MAX, SUBJECT_MAX
from . import access
from .messaging import NotAllowed


def save_draft(
    author: User,
    draft: Draft | None,
    group_id: int | None,
    category: str | None,
    subject: str,
    body: str,
) -> Draft:
    """Keep a new message as a draft. Any field may still be empty; what is there must fit."""
    if group_id is not None and not access.is_associated(author.id, group_id):
        raise NotAllowed("You can only write to the care teams you are associated with.")
    if category is not None and category not in CATEGORIES:
        raise NotAllowed("Choose a category from the list.")
    if len(subject) > SUBJECT_MAX or len(body) > BODY_MAX:
        raise NotAllowed("The subject or message is too long to save.")
    if draft is None:
        draft = Draft(author_id=author.id)
        db.session.add(draft)
    draft.group_id = group_id
    draft.category = category
    draft.subject = subject
    draft.body = body
    db.session.commit()
    return draft


def delete_draft(draft: Draft) -> None:
    """Throw away a draft that was never sent."""
    db.session.delete(draft)
    db.session.commit()
