"""The care team's side: the queue of their groups' threads, and writing to a patient."""

from flask import current_app, flash, request, url_for
from flask_login import current_user

from ..auth.guards import staff_required
from ..mailbox import editing
from ..mailbox.forms import StaffComposeForm
from ..mailbox.routes import page_number
from ..services import access, attachments, drafts, mailbox, messaging
from ..services.drafts import DraftFields
from ..templating import redirect_to, render_page
from . import bp


@bp.get("/")
@staff_required
def queue():
    """The threads of the staff member's triage groups, newest patient message first."""
    page = mailbox.queue_page(current_user, page_number(), current_app.config["PAGE_SIZE"])
    return render_page("triage/queue.html", fragment="queue_list", page=page)


@bp.route("/compose", methods=["GET", "POST"])
@bp.route("/drafts/<int:draft_id>", methods=["GET", "POST"])
@staff_required
def compose(draft_id: int | None = None):
    """Start a new thread to a patient of one of the staff member's groups."""
    draft = access.get_draft_for(current_user, draft_id) if draft_id else None
    if draft is not None and draft.is_reply:
        return redirect_to(url_for("mailbox.thread", thread_id=draft.thread_id))
    data = None
    if draft is not None and request.method == "GET":
        recipient = f"{draft.group_id}:{draft.patient_id}" if draft.patient_id else ""
        data = {"recipient": recipient, "category": draft.category or "",
                "subject": draft.subject, "body": draft.body}
    form = StaffComposeForm(access.patients_staff_may_write(current_user), data=data)

    def render(form, draft, status=200):
        return render_page(
            "triage/compose.html", fragment="compose_form", status=status, form=form,
            draft=draft, limits=attachments.limits(), drafts=drafts.staff_drafts(current_user),
        )

    if not form.is_submitted():
        return render(form, draft)

    def send(draft):
        group_id, patient_id = form.group_and_patient
        new = messaging.NewMessage(group_id, form.category.data, form.subject.data,
                                   form.body.data)
        thread = messaging.start_thread_to_patient(current_user, patient_id, new, draft=draft)
        flash("Your message was sent to the patient.", "success")
        return url_for("mailbox.thread", thread_id=thread.id)

    def fields():
        group_id, patient_id = form.group_and_patient
        return DraftFields(group_id=group_id, patient_id=patient_id,
                           category=form.category.data or None,
                           subject=form.subject.data or "", body=form.body.data or "")

    return editing.handle(editing.MessageForm(
        form=form, draft=draft, send=send, render=render, fragment_id="compose-form",
        fields=fields, draft_url=lambda d: url_for("triage.compose", draft_id=d.id),
    ))
