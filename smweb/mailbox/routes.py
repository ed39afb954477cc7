"""The patient's mailbox: folders, compose, drafts; and the thread page both sides share."""

import io

from flask import abort, current_app, flash, request, send_file, url_for
from flask_login import current_user

from ..auth.forms import EmptyForm
from ..auth.guards import messaging_user_required, patient_messaging_required
from ..models import CATEGORIES
from ..services import (
    access,
    attachments,
    audit,
    blocking,
    drafts,
    education,
    folders,
    mailbox,
    messaging,
    preferences,
    triage,
)
from ..services import search as search_service
from ..services.drafts import DraftFields
from ..services.paging import Page
from ..templating import (
    cursor_arg,
    list_version,
    page_number,
    redirect_to,
    render_page,
    unchanged_poll,
)
from ..triage.forms import StaffReplyForm
from ..triage.panel import staff_panel
from . import bp, editing
from .forms import ComposeForm, FolderForm, ReplyForm

SENT_NOTICE = (
    "Your message was sent. Your care team should reply within 3 business days. "
    "If it is urgent, call your care team."
)


@bp.get("/mailbox/<folder>")
@patient_messaging_required
def folder(folder: str):
    """A folder of the patient's mailbox: Inbox, Sent, Drafts or Deleted."""
    if folder not in mailbox.FOLDERS:
        abort(404)
    page, sort = _folder_page(folder)
    version = list_version(page.items, *mailbox.SHOWN[folder])
    if unchanged_poll("message-list", version):
        return "", 204
    return render_page(
        "mailbox/folder.html", fragment="message_list", folder=folder, page=page,
        folder_title=mailbox.FOLDERS[folder], version=version, sort=sort, sorts=mailbox.SORTS,
    )


def _folder_page(folder: str, custom=None) -> tuple[Page, str]:
    """The page of a folder the URL asks for, and its sort."""
    sort = request.args.get("sort", "newest")
    if sort not in mailbox.SORTS:
        sort = "newest"
    page = mailbox.folder_page(
        current_user, folder, page_number(), current_app.config["PAGE_SIZE"], sort,
        custom=custom, after=cursor_arg("after"), before=cursor_arg("before"))
    return page, sort


@bp.route("/compose", methods=["GET", "POST"])
@bp.route("/drafts/<id:draft_id>", methods=["GET", "POST"])
@patient_messaging_required
def compose(draft_id: int | None = None):
    """Write a new message to a care team: attach files, save it as a draft, or send it."""
    # An autosave may have made the draft after this page loaded: the form then names it.
    draft_id = draft_id or request.form.get("draft_id", type=int)
    if (done := editing.already_sent()) is not None:
        return done  # sending the draft used it up: it is no longer there to look up
    draft = access.get_draft_for(current_user, draft_id) if draft_id else None
    if draft is not None and draft.is_reply:
        return redirect_to(url_for("mailbox.thread", thread_id=draft.thread_id))
    groups = preferences.compose_groups(current_user)
    data = None
    if draft is None and request.method == "GET":
        data = {"body": _signature_block()}
    if draft is None and request.method == "GET" and request.args:
        # "Start a new message" from a thread closed to replies: same team and subject.
        data |= {"recipient": request.args.get("group", ""),
                 "category": request.args.get("category", ""),
                 "subject": request.args.get("subject", "")[:50]}
    if draft is not None and request.method == "GET":
        data = {"recipient": str(draft.group_id or ""), "category": draft.category or "",
                "subject": draft.subject, "body": draft.body}
    form = ComposeForm(groups, data=data)

    def render(form, draft, status=200):
        return render_page(
            "mailbox/compose.html", fragment="compose_form", status=status, form=form,
            draft=draft, groups=groups, delete_form=EmptyForm(), limits=attachments.limits(),
            new_blocked=bool(blocking.blocked_group_ids(current_user, "new")),
            block_notice=blocking.notice("new"),
        )

    if not form.is_submitted():
        return render(form, draft)
    if request.form.get("recipient", type=int) in blocking.blocked_group_ids(current_user, "new"):
        # A crafted request to a team the patient is restricted from: refused, with the notice.
        form.form_errors.append(blocking.notice("new"))
        return render(form, draft, 403)

    def send(draft):
        new = messaging.NewMessage(
            form.group_id, form.category.data, form.subject.data, form.body.data
        )
        thread = messaging.send_new_message(current_user, new, draft=draft,
                                            form_key=form.form_key.data)
        flash(SENT_NOTICE, "success")
        return url_for("mailbox.thread", thread_id=thread.id)

    return editing.handle(editing.MessageForm(
        form=form, draft=draft, send=send, render=render, fragment_id="compose-form",
        fields=lambda: DraftFields(
            group_id=form.group_id, category=form.category.data or None,
            subject=form.subject.data or "", body=form.body.data or "",
        ),
        draft_url=lambda d: url_for("mailbox.compose", draft_id=d.id),
    ))


@bp.post("/drafts/<id:draft_id>/delete")
@messaging_user_required
def delete_draft(draft_id: int):
    """Throw away a draft and the files attached to it."""
    draft = access.get_draft_for(current_user, draft_id)
    if EmptyForm().validate_on_submit():
        drafts.delete_draft(draft)
        flash("The draft was deleted.", "success")
    if current_user.is_staff:
        return redirect_to(url_for("triage.compose"))
    return redirect_to(url_for("mailbox.folder", folder="drafts"))


@bp.get("/threads/<id:thread_id>")
@messaging_user_required
def thread(thread_id: int):
    """A conversation: every message in order, and the reply form at the bottom."""
    thread = access.get_thread_for(current_user, thread_id)
    messaging.mark_opened(current_user, thread)
    audit.record("thread_view", current_user, thread=thread)
    draft = drafts.reply_draft_for(current_user, thread)
    data = {"body": _signature_block()}
    if draft:
        data = {"body": draft.body, "education": [i.id for i in draft.education_items]}
    return _thread_page(thread, _reply_form(data), draft)


def _signature_block() -> str:
    """The user's signature, below an empty first line, if they add it by default; they can
    change it before sending."""
    prefs = preferences.preferences_of(current_user)
    if prefs.signature_by_default and prefs.signature:
        return "\n\n" + prefs.signature
    return ""


def _reply_form(data=None):
    """Staff can add items from the education library to a reply; patients can't."""
    if not current_user.is_staff:
        return ReplyForm(data=data)
    form = StaffReplyForm(data=data)
    form.education.choices = [(item.id, item.title) for item in education.catalogue()]
    return form


def _thread_page(thread, form, draft, status: int = 200):
    panel = staff_panel(thread) if current_user.is_staff else {}
    return render_page(
        "mailbox/thread.html", fragment="reply_form", status=status, thread=thread,
        form=form, draft=draft, move_form=EmptyForm(), limits=attachments.limits(),
        overdue=triage.is_overdue(thread), **panel,
        reply_closed=messaging.reply_window_closed(thread, current_user),
        reply_blocked=current_user.is_patient and thread.group_id in
        blocking.blocked_group_ids(current_user, "reply"),
        block_notice=blocking.notice("reply"),
    )


@bp.post("/threads/<id:thread_id>/reply")
@messaging_user_required
def reply(thread_id: int):
    """Reply in the thread (to the same care team, or to the patient), with attachments."""
    thread = access.get_thread_for(current_user, thread_id)
    if (done := editing.already_sent()) is not None:
        return done
    form = _reply_form()

    def send(draft):
        items = education.items_by_ids(getattr(form, "education", None) and form.education.data)
        messaging.reply(current_user, thread, form.body.data, draft=draft, education=items,
                        form_key=form.form_key.data)
        flash(SENT_NOTICE if current_user.is_patient else "Your reply was sent.", "success")
        return url_for("mailbox.thread", thread_id=thread.id, _anchor="latest")

    return editing.handle(editing.MessageForm(
        form=form, draft=drafts.reply_draft_for(current_user, thread), send=send,
        render=lambda form, draft, status=200: _thread_page(thread, form, draft, status),
        fragment_id="reply-form",
        fields=lambda: DraftFields(
            thread=thread, body=form.body.data or "",
            education_ids=form.education.data if hasattr(form, "education") else None,
        ),
        draft_url=lambda d: url_for("mailbox.thread", thread_id=thread.id),
    ))


@bp.get("/threads/<id:thread_id>/print")
@messaging_user_required
def print_thread(thread_id: int):
    """The thread as a page for printing: messages, dates, senders, attachment names."""
    thread = access.get_thread_for(current_user, thread_id)
    audit.record("thread_print", current_user, thread=thread)
    return render_page("mailbox/print.html", thread=thread)


@bp.post("/threads/<id:thread_id>/delete")
@patient_messaging_required
def delete_thread(thread_id: int):
    """Move the thread to Deleted. Nothing is destroyed; it can be moved back."""
    thread = access.get_thread_for(current_user, thread_id)
    if EmptyForm().validate_on_submit():
        folders.move(current_user, [thread], folders.DELETED)
        flash("The conversation was moved to Deleted.", "success")
    return redirect_to(url_for("mailbox.folder", folder="inbox"))


@bp.post("/threads/<id:thread_id>/restore")
@patient_messaging_required
def restore_thread(thread_id: int):
    """Move the thread back from Deleted."""
    thread = access.get_thread_for(current_user, thread_id)
    if EmptyForm().validate_on_submit():
        folders.move(current_user, [thread], folders.INBOX)
        flash("The conversation was moved back to your Inbox.", "success")
    return redirect_to(url_for("mailbox.thread", thread_id=thread.id))


@bp.get("/attachments/<id:attachment_id>")
@messaging_user_required
def download(attachment_id: int):
    """Download an attachment of a thread the user is on (or of their own draft)."""
    attachment = attachments.get_attachment_for(current_user, attachment_id)
    try:
        data = attachments.read_verified(attachment)
    except attachments.IntegrityFailure:
        abort(500)
    audit.record("attachment_download", current_user, attachment_id=attachment.id,
                 thread=attachment.message.thread if attachment.message else None)
    return send_file(
        io.BytesIO(data), mimetype=attachment.content_type, as_attachment=True,
        download_name=attachment.filename, max_age=0, etag=False, last_modified=None,
    )


@bp.get("/mailbox/folders/<id:folder_id>")
@patient_messaging_required
def custom_folder(folder_id: int):
    """One of the patient's own folders."""
    folder = folders.get_folder_for(current_user, folder_id)
    page, sort = _folder_page("custom", folder)
    version = list_version(page.items, *mailbox.SHOWN["custom"])
    if unchanged_poll("message-list", version):
        return "", 204
    return render_page(
        "mailbox/folder.html", fragment="message_list", folder="custom", page=page,
        folder_title=folder.name, version=version, sort=sort, sorts=mailbox.SORTS,
        custom=folder,
    )


@bp.route("/folders", methods=["GET", "POST"])
@patient_messaging_required
def manage_folders():
    """Create, rename and remove the patient's own folders."""
    form = FolderForm()
    status = 200
    if form.validate_on_submit():
        try:
            folders.create(current_user, form.name.data)
        except folders.FolderError as refusal:
            form.name.errors.append(str(refusal))
            status = 422
        else:
            flash(f"The folder {form.name.data.strip()} was created.", "success")
            return redirect_to(url_for("mailbox.manage_folders"))
    elif form.is_submitted():
        status = 422
    return render_page("mailbox/folders.html", status=status, form=form,
                       rows=folders.folders_of(current_user), action_form=EmptyForm())


@bp.post("/folders/<id:folder_id>/rename")
@patient_messaging_required
def rename_folder(folder_id: int):
    """Give a folder a new name."""
    folder = folders.get_folder_for(current_user, folder_id)
    form = FolderForm()
    if form.validate_on_submit():
        try:
            folders.rename(current_user, folder, form.name.data)
        except folders.FolderError as refusal:
            flash(str(refusal), "error")
        else:
            flash(f"The folder is now called {folder.name}.", "success")
    else:
        flash(" ".join(form.name.errors) or "Enter a name for the folder.", "error")
    return redirect_to(url_for("mailbox.manage_folders"))


@bp.post("/folders/<id:folder_id>/delete")
@patient_messaging_required
def remove_folder(folder_id: int):
    """Remove an empty folder."""
    folder = folders.get_folder_for(current_user, folder_id)
    if EmptyForm().validate_on_submit():
        try:
            name = folder.name
            folders.remove(folder)
        except folders.FolderError as refusal:
            flash(str(refusal), "error")
        else:
            flash(f"The folder {name} was removed.", "success")
    return redirect_to(url_for("mailbox.manage_folders"))


@bp.post("/mailbox/move")
@patient_messaging_required
def move_threads():
    """Move one or several threads to the Inbox, a folder, or Deleted."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    ids = [int(i) for i in request.form.getlist("thread_ids") if i.isdigit()]
    back = _safe_back(request.form.get("back"))
    if not ids:
        flash("Select at least one conversation to move.", "error")
        return redirect_to(back)
    threads = [access.get_thread_for(current_user, i) for i in ids]
    try:
        moved = folders.move(current_user, threads, request.form.get("destination", ""))
    except folders.FolderError as refusal:
        flash(str(refusal), "error")
    else:
        flash(f"Moved {moved} conversation(s).", "success")
    return redirect_to(back)


def _safe_back(target: str | None) -> str:
    """Back to the list the patient moved from; only a mailbox path of this site."""
    if target and target.startswith("/mailbox/") and "//" not in target and "\\" not in target:
        return target
    return url_for("mailbox.folder", folder="inbox")


@bp.get("/search")
@messaging_user_required
def search():
    """Search your messages (patients: their own; staff: their care teams')."""
    query, errors = search_service.parse(request.args)
    page = None
    if not errors and not query.is_empty:
        page = search_service.search(current_user, query, page_number(),
                                     current_app.config["PAGE_SIZE"],
                                     after=cursor_arg("after"), before=cursor_arg("before"))
    args = {k: v for k in search_service.FIELDS if (v := request.args.get(k))}
    return render_page(
        "mailbox/search.html", fragment="search_results", status=422 if errors else 200,
        query=query, errors=errors, page=page, args=args, periods=search_service.PERIODS,
        categories=CATEGORIES, snippet=search_service.snippet,
    )
