"""Sending, replying, reading and deleting: the rules of the message loop."""

from dataclasses import dataclass, field, replace
from datetime import timedelta

from flask import current_app
from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from .. import tasks
from ..clock import utcnow
from ..extensions import db
from ..models import CATEGORIES, Draft, EducationItem, Message, Thread, TriageGroup, User
from ..models.messaging import BODY_MAX, SUBJECT_MAX
from . import (
    access,
    attachments,
    audit,
    blocking,
    drafts,
    education,
    notifications,
    origin,
    quick_texts,
    triage,
    urgent,
)
from .drafts import DraftFields
from .refusals import DraftGone, FilesStillUploading, NotAllowed, NotFound


@dataclass(frozen=True)
class NewMessage:
    group_id: int
    category: str
    subject: str
    body: str


def _check_fields(category: str, subject: str, body: str) -> None:
    # The forms say this to the user first; the service holds the line for every caller.
    if category not in CATEGORIES:
        raise NotAllowed(gettext("Choose a category from the list."))
    if not subject.strip() or len(subject) > SUBJECT_MAX:
        raise NotAllowed(gettext("The subject is required and may be at most %(num)d "
                                 "characters.", num=SUBJECT_MAX))
    if not body.strip() or len(body) > BODY_MAX:
        raise NotAllowed(gettext("The message is required and may be at most %(num)d "
                                 "characters.", num=BODY_MAX))


def sent_with_key(author: User, form_key: str | None) -> Message | None:
    """The message this author already sent from the form with this key, if any."""
    if not form_key:
        return None
    return db.session.scalar(select(Message).where(
        Message.author_id == author.id, Message.form_key == form_key))


def _add_message(thread: Thread, author: User, body: str, form_key: str | None,
                 possibly_urgent: bool = False) -> Message:
    now = utcnow()
    from_patient = author.id == thread.patient_id
    if possibly_urgent and from_patient:  # sent past the emergency warning: tops the team's queue
        thread.urgent_at = thread.urgent_at or now  # the first stays: oldest first
    message = Message(
        thread=thread, author_id=author.id, from_patient=from_patient, subject=thread.subject,
        body=body, sent_at=now, form_key=form_key or None,
        sent_by_id=origin.current().caregiver_id if from_patient else None,
    )
    db.session.add(message)
    thread.last_message_at = now
    if from_patient:
        thread.last_patient_message_at = now
        thread.unread_for_team = True
        triage.patient_wrote(thread, message, now)
    else:
        thread.last_team_message_at = now
        thread.last_team_author_id = author.id
        thread.unread_for_patient = True
        triage.team_wrote(thread, author.id, now)
    # A new message brings a deleted thread back where the patient will see it.
    thread.patient_deleted_at = None
    return message


def send_new_message(patient: User, new: NewMessage, draft: Draft | None = None,
                     form_key: str | None = None, possibly_urgent: bool = False) -> Message:
    """The patient writes to one of their care teams: a new thread in the team's queue.
    Returns the message sent (its thread is `message.thread`)."""
    if not patient.is_patient or not patient.can_use_messaging:
        raise NotAllowed(gettext("Your account can't send secure messages."))
    if not access.is_associated(patient.id, new.group_id):
        raise NotAllowed(gettext("You can only write to the care teams you are associated "
                                 "with."))
    if blocking.is_blocked_from_all(patient):
        raise NotAllowed(blocking.notice("all"))
    if new.group_id in blocking.blocked_group_ids(patient, "new"):
        raise NotAllowed(blocking.notice("new"))
    _check_fields(new.category, new.subject, new.body)
    thread = Thread(
        patient_id=patient.id,
        group=db.session.get(TriageGroup, new.group_id),
        category=new.category,
        subject=new.subject.strip(),
    )
    db.session.add(thread)
    message = _add_message(thread, patient, new.body, form_key, possibly_urgent)
    _send_draft_with(message, draft)
    _commit_sent(message)
    return message


def _commit_sent(message: Message) -> None:
    """The message, its audit row and its email notices (the outbox) commit together, in
    one transaction; the worker is told after the commit, so it never looks before they are
    there. The send never waits on mail."""
    notices = notifications.queue_for(message)  # flushes: the message has its id
    audit.add("message_send", message.author, thread=message.thread, message_id=message.id)
    db.session.commit()
    if notices:  # nobody asked for an email: no task for the worker
        tasks.deliver_soon()


def _send_draft_with(message: Message, draft: Draft | None) -> None:
    """The draft's attachments go with the message; the draft itself is done."""
    if draft is not None:
        drafts.take_for_sending(draft)
        attachments.move_to_message(draft, message)
        db.session.delete(draft)


EDUCATION_PREFIX = "Education: "


def start_thread_to_patient(
    staff: User, patient_id: int, new: NewMessage, draft: Draft | None = None,
    education: list[EducationItem] = (), form_key: str | None = None,
) -> Message:
    """A staff member writes first to a patient of one of their groups. A message with items
    from the education library is filed under Education, its subject marked so. Returns the
    message sent."""
    if not staff.is_staff or not access.is_member(staff.id, new.group_id):
        raise NotAllowed("You can only write for the care teams you belong to.")
    if not access.is_associated(patient_id, new.group_id):
        raise NotAllowed("That patient is not associated with this care team.")
    _check_fields(new.category, new.subject, new.body)
    category, subject = new.category, new.subject.strip()
    if education:
        category = "Education"
        if not subject.startswith("Education:") and \
                len(EDUCATION_PREFIX + subject) <= SUBJECT_MAX:
            subject = EDUCATION_PREFIX + subject
    thread = Thread(
        patient_id=patient_id, group=db.session.get(TriageGroup, new.group_id),
        category=category, subject=subject,
    )
    db.session.add(thread)
    message = _add_message(thread, staff, new.body, form_key)
    message.education_items = list(education)
    _send_draft_with(message, draft)
    _commit_sent(message)
    return message


def reply_window_closed(thread: Thread, user: User) -> bool:
    """A patient can't reply once the thread's last message is older than the reply window
    (45 days unless configured); they write a new message instead. Staff always can."""
    if not user.is_patient:
        return False
    window = timedelta(days=current_app.config["REPLY_WINDOW_DAYS"])
    return thread.last_message_at < utcnow() - window


def reply(author: User, thread: Thread, body: str, draft: Draft | None = None,
          education: list[EducationItem] = (), form_key: str | None = None,
          possibly_urgent: bool = False) -> Message:
    """Add a message to a thread: the patient's goes to the same team, the team's to the
    patient. The thread keeps its category and subject."""
    if not access.can_see_thread(author, thread):
        raise NotAllowed(gettext("You can't reply to this conversation."))
    if author.is_staff and not access.works_thread(author, thread):
        raise NotAllowed("You were asked for advice: answer with a note. Only the care team "
                         "writes to the patient.")
    if author.is_patient and not author.can_use_messaging:
        raise NotAllowed(gettext("Your account can't send secure messages."))
    if author.is_patient and blocking.is_blocked_from_all(author):
        raise NotAllowed(blocking.notice("all"))
    if author.is_patient and thread.group_id in blocking.blocked_group_ids(author, "reply"):
        raise NotAllowed(blocking.notice("reply"))
    if reply_window_closed(thread, author):
        raise NotAllowed(gettext("This conversation is too old to reply to. Start a new "
                                 "message."))
    if not body.strip() or len(body) > BODY_MAX:
        raise NotAllowed(gettext("The message is required and may be at most %(num)d "
                                 "characters.", num=BODY_MAX))
    message = _add_message(thread, author, body, form_key, possibly_urgent)
    if education and author.is_staff:
        message.education_items = list(education)
    _send_draft_with(message, draft)
    _commit_sent(message)
    return message


# What a message form's buttons do: Send, Save draft, Attach files (or choosing files, with
# JavaScript), Remove a file, and the autosave while the user types.
SEND, SAVE, ATTACH, REMOVE, AUTOSAVE = "send", "save", "attach", "remove", "autosave"
INSERT = "insert"  # staff: a quick text added to the message (services/quick_texts.py)
# A patient's Send of a message with words of an emergency stops at a warning (URGENT);
# "Send my message anyway" sends it, flagged possible urgent (services/urgent.py).
SEND_ANYWAY = "send_anyway"
ACTIONS = (SEND, SAVE, ATTACH, REMOVE, AUTOSAVE, INSERT, SEND_ANYWAY)
# How a press ended: the message went; the draft was kept; something the user must fix
# first (a field, a file); refused by the rules; files of the same draft still uploading.
SENT, KEPT, INCOMPLETE, REFUSED, BUSY = "sent", "kept", "incomplete", "refused", "busy"
URGENT = "urgent"  # not sent: words of an emergency; kept in its draft


@dataclass
class Outcome:
    """What became of one press of a message form's button, for the view to show."""

    result: str  # SENT, KEPT, INCOMPLETE, REFUSED or BUSY
    action: str
    draft: Draft | None = None  # where the text and files are kept, when not sent
    thread: Thread | None = None  # where the message went, when sent
    message: Message | None = None  # the message sent
    again: bool = False  # sent by an earlier post of this same form (a double click)
    refusal: str = ""  # why nothing happened, for the whole form
    file_errors: list[str] = field(default_factory=list)  # each refused file, with why
    notice: str = ""  # what happened to the files ("Attached lab.pdf.")
    urgent: "Urgent | None" = None  # the warning a URGENT outcome shows


@dataclass(frozen=True)
class Urgent:
    """Why a patient's Send stopped: the words found, and whom to call instead."""

    words: list[str]
    team_name: str
    team_phone: str


def submit(author: User, action: str, fields: DraftFields, *, form_key: str | None,
           draft_id: int | None = None, savable: bool = True,
           complete: bool = True) -> Outcome:
    """One press of a message form's button — a new message or a reply, from a patient or
    staff: it is sent exactly once, or kept as a draft, or the outcome says why not.

    `savable` says the form's fields may be kept (nothing too long, no unknown choice);
    `complete` that they may be sent (every required field filled in). Whatever the user
    typed or attached is never lost: a send that can't go yet keeps it in the draft."""
    if (sent := sent_with_key(author, form_key)) is not None:
        return Outcome(SENT, action, thread=sent.thread, message=sent, again=True)
    anyway = action == SEND_ANYWAY
    if anyway:
        action = SEND
    draft = _draft_of_form(author, fields, form_key, draft_id)
    try:
        _may_write(author, fields)
    except NotAllowed as refusal:
        return Outcome(REFUSED, action, draft, refusal=str(refusal))
    not_inserted = ""  # why a quick text could not go in (what was typed is kept all the same)
    if action == INSERT:
        try:
            fields = replace(fields, body=quick_texts.inserted(
                author, fields.quick_text_id, fields.body, thread=fields.thread,
                group_id=fields.group_id, patient_id=fields.patient_id))
        except quick_texts.QuickTextError as refusal:
            not_inserted = str(refusal)
    if not savable:
        return Outcome(INCOMPLETE, action, draft)
    if action == SEND and draft is not None and drafts.uploading(draft):
        draft = drafts.keep(author, draft, replace(fields, files=[]), form_key).draft
        return Outcome(BUSY, action, draft, refusal=str(FilesStillUploading()))
    kept = None
    # A plain send of text needs no draft (if it can't go, the form shows the text again);
    # anything else keeps one: chosen files, an explicit save, a form that has a draft.
    if fields.files or draft is not None or action != SEND:
        try:
            kept = drafts.keep(author, draft, fields, form_key)
        except DraftGone as gone:
            if (sent := sent_with_key(author, form_key)) is not None:
                return Outcome(SENT, action, thread=sent.thread, message=sent, again=True)
            return Outcome(REFUSED, action, refusal=str(gone))
        except NotAllowed as refusal:
            return Outcome(REFUSED, action, draft, refusal=str(refusal))
        draft = kept.draft
        if kept.refused:
            return Outcome(INCOMPLETE, action, draft, notice=kept.notice,
                           file_errors=[str(r) for r in kept.refused])
    notice = kept.notice if kept else ""
    if not_inserted:
        return Outcome(INCOMPLETE, action, draft, refusal=not_inserted, notice=notice)
    if action != SEND:
        return Outcome(KEPT, action, draft, notice=notice)
    if not complete:
        return Outcome(INCOMPLETE, action, draft, notice=notice)
    found = urgent.words_in(f"{fields.subject or ''}\n{fields.body}") \
        if author.is_patient else []
    if found and not anyway:
        if draft is None:  # what was typed is kept: Back, or a reload, finds it
            draft = drafts.keep(author, None, fields, form_key).draft
        return Outcome(URGENT, action, draft, notice=notice,
                       urgent=_urgent_warning(found, fields))
    try:
        message = _send(author, fields, draft, form_key, possibly_urgent=bool(found))
    except FilesStillUploading as busy:
        db.session.rollback()
        return Outcome(BUSY, action, draft, refusal=str(busy))
    except NotAllowed as refusal:
        db.session.rollback()
        return Outcome(REFUSED, action, draft, refusal=str(refusal))
    except (IntegrityError, StaleDataError):
        # The same form, posted twice at once, was sent by the other request first.
        db.session.rollback()
        if (sent := sent_with_key(author, form_key)) is not None:
            return Outcome(SENT, action, thread=sent.thread, message=sent, again=True)
        raise
    return Outcome(SENT, action, thread=message.thread, message=message)


def _urgent_warning(found: list[str], fields: DraftFields) -> Urgent:
    team = fields.thread.group if fields.thread is not None \
        else db.session.get(TriageGroup, fields.group_id)
    return Urgent(found, team.name, team.facility.phone)


def _draft_of_form(author: User, fields: DraftFields, form_key: str | None,
                   draft_id: int | None) -> Draft | None:
    """The draft this form writes to: the one its page names (404 if not the author's, or
    not of this kind of form), the one an earlier request of the form made, or the reply
    already started in the thread."""
    if draft_id:
        draft = access.get_draft_for(author, draft_id)
        if draft.thread_id != (fields.thread.id if fields.thread else None):
            raise NotFound()
        return draft
    draft = drafts.for_form(author, form_key)
    if draft is None and fields.thread is not None:
        draft = drafts.reply_draft_for(author, fields.thread)
    return draft


def _may_write(author: User, fields: DraftFields) -> None:
    """The restrictions on writing at all, checked before anything is kept: a patient
    restricted from a team can't even keep a draft to it. (Whom the form may name at all is
    the draft's own check, drafts.check_recipient.)"""
    if not author.is_patient:
        return
    if not author.can_use_messaging:
        raise NotAllowed(gettext("Your account can't send secure messages."))
    if blocking.is_blocked_from_all(author):
        raise NotAllowed(blocking.notice("all"))
    if fields.thread is not None:
        if fields.thread.group_id in blocking.blocked_group_ids(author, "reply"):
            raise NotAllowed(blocking.notice("reply"))
        if reply_window_closed(fields.thread, author):
            raise NotAllowed(gettext("This conversation is too old to reply to. Start a new "
                                     "message."))
    elif fields.group_id in blocking.blocked_group_ids(author, "new"):
        raise NotAllowed(blocking.notice("new"))


def _send(author: User, fields: DraftFields, draft: Draft | None,
          form_key: str | None, possibly_urgent: bool = False) -> Message:
    items = education.items_by_ids(fields.education_ids or []) if author.is_staff else []
    if fields.thread is not None:
        return reply(author, fields.thread, fields.body, draft=draft, education=items,
                     form_key=form_key, possibly_urgent=possibly_urgent)
    new = NewMessage(fields.group_id, fields.category or "", fields.subject, fields.body)
    if author.is_staff:
        return start_thread_to_patient(author, fields.patient_id, new, draft=draft,
                                       education=items, form_key=form_key)
    return send_new_message(author, new, draft=draft, form_key=form_key,
                            possibly_urgent=possibly_urgent)
