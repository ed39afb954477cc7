"""The patient's mailbox: folders, compose, drafts; and the thread page both sides share."""

from flask import abort, current_app, flash, request, url_for
from flask_login import current_user

from ..auth.forms import EmptyForm
from ..auth.guards import messaging_user_required, patient_messaging_required
from ..services import access, drafts, mailbox, messaging
from ..templating import redirect_to, render_page
from . import bp
from .forms import ComposeForm, ReplyForm

SENT_NOTICE = (
    "Your message was sent. Your care team should reply within 3 business days. "
    "If it is urgent, call your care team."
)


def page_number() -> int:
    return min(max(request.args.get("page", 1, type=int) or 1, 1), 100_000)


@bp.get("/mailbox/<folder>")
@patient_messaging_required
def folder(folder: str):
    """A folder of the patient's mailbox: Inbox, Sent, Drafts or Deleted."""
    if folder not in mailbox.FOLDERS:
        abort(404)
    page = mailbox.folder_page(
        current_user, folder, page_number(), current_app.config["PAGE_SIZE"]
    )
    return render_page(
        "mailbox/folder.html", fragment="message_list", folder=folder, page=page,
        folder_title=mailbox.FOLDERS[folder],
    )


@bp.route("/compose", methods=["GET", "POST"])
@bp.route("/drafts/<int:draft_id>", methods=["GET", "POST"])
@patient_messaging_required
def compose(draft_id: int | None = None):
    """Write a new message to a care team; save it as a draft, or send it."""
    draft = access.get_draft_for(current_user, draft_id) if draft_id else None
    groups = access.groups_patient_may_write(current_user)
    if draft is not None and request.method == "GET":
        form = ComposeForm(groups, data={
            "recipient": str(draft.group_id or ""), "category": draft.category or "",
            "subject": draft.subject, "body": draft.body,
        })
    else:
        form = ComposeForm(groups)
    status = 200
    if form.is_submitted():
        status = 422
        if request.form.get("action") == "save":
            if form.validate_draft():
                try:
                    draft = drafts.save_draft(
                        current_user, draft, form.group_id, form.category.data or None,
                        form.subject.data or "", form.body.data or "",
                    )
                except messaging.NotAllowed as refusal:
                    form.form_errors.append(str(refusal))
                    status = 403
                else:
                    flash("Your draft was saved.", "success")
                    return redirect_to(url_for("mailbox.compose", draft_id=draft.id))
        elif form.validate():
            new = messaging.NewMessage(
                form.group_id, form.category.data, form.subject.data, form.body.data
            )
            try:
                thread = messaging.send_new_message(current_user, new, draft=draft)
            except messaging.NotAllowed as refusal:
                form.form_errors.append(str(refusal))
                status = 403
            else:
                flash(SENT_NOTICE, "success")
                return redirect_to(url_for("mailbox.thread", thread_id=thread.id))
    return render_page(
        "mailbox/compose.html", fragment="compose_form", status=status, form=form,
        draft=draft, groups=groups, delete_form=EmptyForm(),
    )


@bp.post("/drafts/<int:draft_id>/delete")
@patient_messaging_required
def delete_draft(draft_id: int):
    """Throw away a draft."""
    draft = access.get_draft_for(current_user, draft_id)
    if EmptyForm().validate_on_submit():
        drafts.delete_draft(draft)
        flash("The draft was deleted.", "success")
    return redirect_to(url_for("mailbox.folder", folder="drafts"))


@bp.get("/threads/<int:thread_id>")
@messaging_user_required
def thread(thread_id: int):
    """A conversation: every message in order, and the reply form at the bottom."""
    thread = access.get_thread_for(current_user, thread_id)
    messaging.mark_opened(current_user, thread)
    return _thread_page(thread, ReplyForm())


def _thread_page(thread, form, status: int = 200):
    return render_page(
        "mailbox/thread.html", fragment="reply_form", status=status, thread=thread,
        form=form, move_form=EmptyForm(),
    )


@bp.post("/threads/<int:thread_id>/reply")
@messaging_user_required
def reply(thread_id: int):
    """Send a reply in the thread: to the same care team, or to the patient."""
    thread = access.get_thread_for(current_user, thread_id)
    form = ReplyForm()
    if form.validate_on_submit():
        try:
            messaging.reply(current_user, thread, form.body.data)
        except messaging.NotAllowed as refusal:
            form.form_errors.append(str(refusal))
            return _thread_page(thread, form, 403)
        flash(SENT_NOTICE if current_user.is_patient else "Your reply was sent.", "success")
        return redirect_to(url_for("mailbox.thread", thread_id=thread.id))
    return _thread_page(thread, form, 422)


@bp.post("/threads/<int:thread_id>/delete")
@patient_messaging_required
def delete_thread(thread_id: int):
    """Move the thread to Deleted. Nothing is destroyed; it can be moved back."""
    thread = access.get_thread_for(current_user, thread_id)
    if EmptyForm().validate_on_submit():
        messaging.move_to_deleted(current_user, thread)
        flash("The conversation was moved to Deleted.", "success")
    return redirect_to(url_for("mailbox.folder", folder="inbox"))


@bp.post("/threads/<int:thread_id>/restore")
@patient_messaging_required
def restore_thread(thread_id: int):
    """Move the thread back from Deleted."""
    thread = access.get_thread_for(current_user, thread_id)
    if EmptyForm().validate_on_submit():
        messaging.restore(current_user, thread)
        flash("The conversation was moved back to your Inbox.", "success")
    return redirect_to(url_for("mailbox.thread", thread_id=thread.id))
