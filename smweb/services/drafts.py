"""Drafts: what the user typed and attached, kept until sent or deleted.

Every request of one message form — an autosave, a file chosen, Save draft, Send — writes to
the same draft, found by the form's random key even before the draft's id has reached the
page. Files are checked and stored while the draft says an upload is under way, so a send
that arrives meanwhile is told to wait instead of going without them."""

from dataclasses import dataclass, field
from datetime import timedelta

from flask_babel import gettext, lazy_gettext, ngettext
from sqlalchemy import bindparam, case, inspect, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import FileStorage

from ..clock import utcnow
from ..database import read_rows
from ..extensions import db
from ..models import CATEGORIES, Draft, Thread, User
from ..models.messaging import BODY_MAX, SUBJECT_MAX
from . import access, attachments, education
from .refusals import DraftGone, FilesStillUploading, NotAllowed

# An upload still marked under way after this long was cut off (a worker restarted): it no
# longer holds back a send.
GONE = lazy_gettext("This draft was sent or deleted in another window a moment ago, so it "
                    "was not changed. What you wrote is still here: save it again or send it.")
UPLOAD_STALE = timedelta(minutes=2)


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
    quick_text_id: int | None = None  # staff: the quick text an Insert press adds to the body


@dataclass(frozen=True)
class Kept:
    """A draft after it was saved: the files refused (each with its reason), and what
    happened to the files, in a sentence ("Attached a.pdf.")."""

    draft: Draft
    refused: list
    notice: str = ""


def check_recipient(author: User, fields: DraftFields) -> None:
    """Whom a message form writes to must be someone this author may write to."""
    if fields.thread is not None:
        if not access.can_see_thread(author, fields.thread):
            raise NotAllowed(gettext("You can't write in this conversation."))
        return
    if fields.group_id is None:
        return
    if author.is_patient and not access.is_associated(author.id, fields.group_id):
        raise NotAllowed(gettext("You can only write to the care teams you are associated "
                                 "with."))
    if author.is_staff:
        if not access.is_member(author.id, fields.group_id):
            raise NotAllowed("You can only write for the care teams you belong to.")
        if fields.patient_id and not access.is_associated(fields.patient_id, fields.group_id):
            raise NotAllowed("That patient is not associated with this care team.")


def for_form(author: User, form_key: str | None) -> Draft | None:
    """The draft an earlier request of this same form made, if any."""
    if not form_key:
        return None
    return db.session.scalar(select(Draft).where(
        Draft.author_id == author.id, Draft.form_key == form_key))


def keep(author: User, draft: Draft | None, fields: DraftFields,
         form_key: str | None = None) -> Kept:
    """Save what the user typed and attached in a draft (made now if there is none). Any
    field may still be empty; what is there must be valid."""
    check_recipient(author, fields)
    if fields.category and fields.category not in CATEGORIES:
        raise NotAllowed(gettext("Choose a category from the list."))
    if len(fields.subject) > SUBJECT_MAX or len(fields.body) > BODY_MAX:
        raise NotAllowed(gettext("The subject or message is too long to save."))
    uploading = bool(fields.files)
    draft = _save_text(author, draft, fields, form_key, uploading)
    if not uploading and fields.remove_attachment_id is None:
        return Kept(draft, [])
    return _change_files(author, draft, fields, uploading)


def _save_text(author: User, draft: Draft | None, fields: DraftFields, form_key: str | None,
               uploading: bool) -> Draft:
    """Write the text (and, when files follow, the mark that they are on their way) and
    commit, so every other request of the form finds the draft from now on."""
    if draft is None:
        draft = for_form(author, form_key)
    made = draft is None
    if made:
        draft = Draft(author_id=author.id, form_key=form_key or None)
        db.session.add(draft)
    _fill(author, draft, fields, uploading, made)
    try:
        db.session.commit()
    except StaleDataError:
        # Deleted (or sent) in another window a moment ago: said, and the form keeps the text.
        db.session.rollback()
        raise DraftGone(str(GONE)) from None
    except IntegrityError:
        # Two requests of one form made its draft at the same moment: use the other one's.
        db.session.rollback()
        draft = for_form(author, form_key) if made else None
        if draft is None:
            raise
        _fill(author, draft, fields, uploading, False)
        db.session.commit()
    return draft


def _fill(author: User, draft: Draft, fields: DraftFields, uploading: bool, made: bool) -> None:
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
    if uploading:
        # One more upload under way — or the first again, when the marks left are older than
        # UPLOAD_STALE: those uploads died with their server and will never count down.
        now = utcnow()
        draft.uploads_pending = 1 if made else case(
            (Draft.upload_started_at < now - UPLOAD_STALE, 1), else_=Draft.uploads_pending + 1)
        draft.upload_started_at = now


def _change_files(author: User, draft: Draft, fields: DraftFields, uploading: bool) -> Kept:
    """Check and store the chosen files (no write lock held: scanning and fsync are slow),
    then attach them — and take off the one to remove — in one short transaction."""
    removing = fields.remove_attachment_id
    try:
        stored, refused, already = attachments.store_files(
            author, [a for a in draft.attachments if a.id != removing], fields.files)
    except BaseException:
        db.session.rollback()
        if uploading:
            _upload_done(draft.id)
            db.session.commit()
        raise
    if uploading and not _upload_done(draft.id):
        db.session.rollback()
        attachments.discard_stored(stored)
        raise DraftGone(gettext("This draft was sent or deleted in another window, so these "
                                "files were not added to it."))
    draft = db.session.get(Draft, draft.id, populate_existing=True)
    done = []
    if removing is not None:
        removed = attachments.remove_from_draft(draft, removing)
        if removed is None:
            refused.append(attachments.Refusal("", gettext("That file is no longer attached.")))
        else:
            done.append(gettext("Removed %(name)s.", name=removed))
    attachments.attach(author, draft, stored)
    if stored:
        done.append(gettext("Attached %(names)s.",
                            names=", ".join(f.filename for f in stored)))
    if already:
        done.append(ngettext("%(names)s was attached already.",
                             "%(names)s were attached already.", len(already),
                             names=", ".join(already)))
    db.session.commit()
    return Kept(draft, refused, " ".join(done))


def _upload_done(draft_id: int) -> bool:
    """One upload of the draft is over (the caller commits); False if the draft is gone."""
    result = db.session.execute(
        update(Draft).where(Draft.id == draft_id)
        .values(uploads_pending=case((Draft.uploads_pending > 0, Draft.uploads_pending - 1),
                                     else_=0))
        .execution_options(synchronize_session=False))
    return result.rowcount == 1


def uploading(draft: Draft) -> bool:
    """Files for this draft are being checked and stored by another request right now."""
    return draft.uploads_pending > 0 and draft.upload_started_at is not None and \
        draft.upload_started_at > utcnow() - UPLOAD_STALE


def take_for_sending(draft: Draft) -> None:
    """Inside a send's transaction: the draft goes with the message only if no upload for it
    is under way (checked under the write lock, so an upload can't slip in between)."""
    taken = db.session.execute(
        update(Draft).where(Draft.id == draft.id, or_(
            Draft.uploads_pending == 0, Draft.upload_started_at < utcnow() - UPLOAD_STALE))
        .values(uploads_pending=0).execution_options(synchronize_session=False))
    if taken.rowcount != 1:
        raise FilesStillUploading()


# Asked on every view of a thread, which seldom has one: its id alone first, built once.
_REPLY_DRAFT = (select(Draft.id).where(Draft.author_id == bindparam("author_id"),
                                       Draft.thread_id == bindparam("thread_id"))
                .order_by(Draft.id.desc()).limit(1))


def reply_draft_for(author: User, thread: Thread) -> Draft | None:
    """The reply this user started in this thread and has not sent, if any."""
    found = read_rows(_REPLY_DRAFT, {"author_id": author.id, "thread_id": thread.id})
    return db.session.get(Draft, found[0].id) if found else None


def staff_drafts(author: User) -> list[Draft]:
    """A staff member's unsent new messages to patients."""
    return list(db.session.scalars(
        select(Draft)
        .where(Draft.author_id == author.id, Draft.thread_id.is_(None))
        .order_by(Draft.updated_at.desc())
    ))


def delete_draft(draft: Draft) -> None:
    """Throw away a draft that was never sent, and the files attached to it. A draft that
    another window deleted (or sent) a moment ago is gone already: nothing more to do."""
    draft_id = inspect(draft).identity[0]  # without loading it: it may be gone already
    for _attempt in range(3):
        draft = db.session.get(Draft, draft_id, populate_existing=True)
        if draft is None:
            return
        attachments.discard_draft_files(draft)
        db.session.delete(draft)
        try:
            db.session.commit()
            return
        except StaleDataError:
            db.session.rollback()
            return
        except IntegrityError:
            # A file was attached to it at that moment: throw that away too, and again.
            db.session.rollback()
    raise RuntimeError(f"draft {draft_id} kept changing while it was deleted")
