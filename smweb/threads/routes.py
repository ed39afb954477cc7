"""Writing and reading messages, for patients and staff alike: the new-message forms, drafts,
the thread page with its reply form, printing, and attachment downloads."""

from flask import abort, flash, g, render_template, request, send_file, url_for
from flask_babel import gettext, lazy_gettext
from flask_login import current_user

from ..auth.guards import (
    keeps_unsent_message,
    messaging_user_required,
    patient_messaging_required,
    staff_required,
)
from ..forms import EmptyForm
from ..parsing import as_id
from ..services import (
    access,
    attachments,
    audit,
    blocking,
    callbacks,
    drafts,
    education,
    messaging,
    preferences,
    quick_texts,
    reading,
    references,
    requests,
    triage,
)
from ..services.drafts import DraftFields
from ..templating import redirect_to, render_page
from . import bp
from .forms import (
    AppointmentForm,
    CallBackForm,
    ComposeForm,
    RenewalForm,
    ReplyForm,
    StaffNewMessageForm,
    StaffReplyForm,
)
from .message_form import MessagePage, kept_while_signed_out, submit

SENT_NOTICE = lazy_gettext(
    "Your message was sent. Your care team should reply within 3 business days. "
    "If it is urgent, call your care team."
)


def _saved_in_drafts() -> dict:
    """A patient's kept draft is found in Drafts: the notice after Save, the autosave line."""
    return {"saved_notice": gettext("Your draft was saved in Drafts. It has not been sent."),
            "autosaved": lambda at: gettext("Saved in Drafts at %(time)s.", time=at)}


def _signature_block() -> str:
    """The user's signature, below an empty first line, if they add it by default; they can
    change it before sending."""
    signature = preferences.default_signature(current_user)
    return "\n\n" + signature if signature else ""


def _draft_to_edit(draft_id: int | None):
    """The new-message draft a GET of the compose page opens (404 if not the user's); a
    reply's draft opens in its thread instead."""
    draft = access.get_draft_for(current_user, draft_id) if draft_id else None
    if draft is not None and draft.is_reply:
        abort(redirect_to(_thread_url(draft.thread)))
    return draft


def _thread_url(thread):
    return url_for("threads.thread", thread_id=thread.id)


REQUESTS = {"renewal": (lazy_gettext("Renew a medication"), RenewalForm),
            "appointment": (lazy_gettext("Ask about an appointment"), AppointmentForm)}


@bp.route("/compose/renewal", methods=["GET", "POST"], defaults={"kind": "renewal"})
@bp.route("/compose/appointment", methods=["GET", "POST"], defaults={"kind": "appointment"})
@keeps_unsent_message
@patient_messaging_required
def compose_request(kind: str):
    """A request that routes: a medication renewal or an appointment question, from a few
    fields, sent to the chosen care team as a message laid out for it."""
    title, form_class = REQUESTS[kind]
    teams = preferences.compose_teams(current_user)
    form = form_class(teams.groups)
    status = 200
    if g.get("keeping_unsent"):  # the session ran out of time: keep it as a draft, never send
        category, subject, body = requests.as_message(form.request())
        outcome = messaging.submit(
            current_user, messaging.SAVE, DraftFields(group_id=form.group_id,
                                                      category=category, subject=subject,
                                                      body=body),
            form_key=form.form_key.data)
        return kept_while_signed_out(
            outcome, lambda d: url_for("threads.compose", draft_id=d.id), _thread_url)
    if form.validate_on_submit():
        action = request.form.get("action", messaging.SEND)
        if action not in (messaging.SEND, messaging.SEND_ANYWAY):
            abort(400)
        category, subject, body = requests.as_message(form.request())
        outcome = messaging.submit(
            current_user, action, DraftFields(group_id=form.group_id, category=category,
                                              subject=subject, body=body),
            form_key=form.form_key.data)
        if outcome.result == messaging.SENT:
            flash(gettext("%(notice)s Reference number: %(reference)s.", notice=SENT_NOTICE,
                          reference=references.of(outcome.message.id)), "success")
            return redirect_to(_thread_url(outcome.thread))
        form.urgent = outcome.urgent  # words of an emergency: the warning, Send anyway
        if outcome.refusal:
            form.form_errors.append(outcome.refusal)
            status = 422
    elif form.is_submitted():
        status = 422
    return render_page("threads/request.html", status=status, form=form, title=title,
                       kind=kind, missing=teams)


@bp.get("/compose/find-your-team")
@patient_messaging_required
def find_your_team():
    """Why a care team may be missing from Compose, and what to do about it."""
    return render_template("threads/find_your_team.html",
                           missing=preferences.compose_teams(current_user))


@bp.route("/compose", methods=["GET", "POST"])
@bp.route("/drafts/<id:draft_id>", methods=["GET", "POST"])
@keeps_unsent_message
@patient_messaging_required
def compose(draft_id: int | None = None):
    """Write a new message to a care team: attach files, save it as a draft, or send it."""
    draft_id = draft_id or as_id(request.form.get("draft_id"))  # an autosave's draft
    teams = preferences.compose_teams(current_user)
    data = None
    if request.method == "GET":
        draft = _draft_to_edit(draft_id)
        data = _compose_data(draft) if draft else {"body": _signature_block()} | (
            # "Start a new message" from a thread closed to replies: same team and subject.
            {"recipient": request.args.get("group", ""),
             "category": request.args.get("category", ""),
             "subject": request.args.get("subject", "")[:50]} if request.args else {})
    form = ComposeForm(teams.groups, data=data)
    page = MessagePage(
        form=form, form_id="compose-form", sent_notice=SENT_NOTICE, **_saved_in_drafts(),
        draft_url=lambda d: url_for("threads.compose", draft_id=d.id), sent_url=_thread_url,
        render=lambda draft, status=200, notice="": _compose_page(
            form, draft, status, notice, "threads.compose",
            new_blocked=bool(teams.restricted), block_notice=blocking.notice("new"),
            missing=teams),
    )
    if request.method == "GET":
        return page.render(draft)
    return submit(page, DraftFields(
        group_id=form.group_id, category=form.category.data or None,
        subject=form.subject.data or "", body=form.body.data or ""), draft_id)


@bp.route("/triage/compose", methods=["GET", "POST"])
@bp.route("/triage/drafts/<id:draft_id>", methods=["GET", "POST"])
@keeps_unsent_message
@staff_required
def staff_compose(draft_id: int | None = None):
    """Start a new thread to a patient of one of the staff member's groups."""
    draft_id = draft_id or as_id(request.form.get("draft_id"))  # an autosave's draft
    data = None
    if request.method == "GET":
        draft = _draft_to_edit(draft_id)
        data = _compose_data(draft) if draft else {"body": _signature_block()}
    form = StaffNewMessageForm(access.patients_staff_may_write(current_user), data=data)
    form.education.choices = [(item.id, item.title) for item in education.catalogue()]
    page = MessagePage(
        form=form, form_id="compose-form",
        sent_notice=gettext("Your message was sent to the patient."),
        saved_notice=gettext("Your draft was saved in your unsent drafts. It has not been sent."),
        autosaved=lambda at: gettext("Saved in your unsent drafts at %(time)s.", time=at),
        draft_url=lambda d: url_for("threads.staff_compose", draft_id=d.id),
        sent_url=_thread_url,
        render=lambda draft, status=200, notice="": _compose_page(
            form, draft, status, notice, "threads.staff_compose",
            staff_drafts=drafts.staff_drafts(current_user),
            shelf=quick_texts.shelf_of(current_user)),
    )
    if request.method == "GET":
        return page.render(draft)
    group_id, patient_id = form.group_and_patient
    return submit(page, DraftFields(
        group_id=group_id, patient_id=patient_id, category=form.category.data or None,
        subject=form.subject.data or "", body=form.body.data or "",
        education_ids=form.education.data or []), draft_id)


def _compose_data(draft) -> dict:
    """A new-message form filled in from its draft."""
    recipient = str(draft.group_id or "")
    if current_user.is_staff:
        recipient = f"{draft.group_id}:{draft.patient_id}" if draft.patient_id else ""
    return {"recipient": recipient, "category": draft.category or "", "subject": draft.subject,
            "body": draft.body, "education": [item.id for item in draft.education_items]}


def _compose_page(form, draft, status: int, files_notice: str, endpoint: str, **context):
    action = url_for(endpoint, draft_id=draft.id) if draft else url_for(endpoint)
    context.setdefault("staff_drafts", [])
    return render_page(
        "threads/compose.html", fragment="message_form", target="compose-form",
        status=status, form=form,
        draft=draft, form_action=action, form_id="compose-form", files_notice=files_notice,
        limits=attachments.limits(),
        page_title=(gettext("Edit draft") if draft else gettext("Start a new message"))
        if current_user.is_patient else gettext("Write to a patient"), **context)


@bp.post("/drafts/<id:draft_id>/delete")
@messaging_user_required
def delete_draft(draft_id: int):
    """Throw away a draft and the files attached to it."""
    draft = access.get_draft_for(current_user, draft_id)
    if EmptyForm().validate_on_submit():
        drafts.delete_draft(draft)
        flash(gettext("The draft was deleted."), "success")
    if current_user.is_staff:
        return redirect_to(url_for("threads.staff_compose"))
    return redirect_to(url_for("mailbox.folder", folder="drafts"))


@bp.get("/threads/<id:thread_id>")
@messaging_user_required
def thread(thread_id: int):
    """A conversation: every message in order, and the reply form."""
    opened = reading.open_thread(current_user, thread_id)
    draft = opened.draft
    data = {"body": draft.body, "education": [i.id for i in draft.education_items]} \
        if draft else {"body": _signature_block()}
    return _reply_page(opened.thread, _reply_form(data), opened.messages).render(draft)


def _reply_form(data=None):
    """Staff can add items from the education library to a reply; patients can't."""
    if not current_user.is_staff:
        return ReplyForm(data=data)
    form = StaffReplyForm(data=data)
    form.education.choices = [(item.id, item.title) for item in education.catalogue()]
    return form


def _reply_page(thread, form, messages=None, call_back_form=None) -> MessagePage:
    """The thread page around its reply form. `messages`: the thread's, as the GET read them;
    a reply's answer reads them again when it renders (an htmx answer, which shows the form
    alone, reads them too: one to three statements, kept for one way to render)."""
    def render(draft, status=200, files_notice=""):
        return render_page(
            "threads/thread.html", fragment="message_form", target="reply-form",
            status=status, thread=thread,
            messages=messages if messages is not None else reading.messages_of(thread),
            form=form, draft=draft, form_action=url_for("threads.reply", thread_id=thread.id),
            form_id="reply-form", files_notice=files_notice, move_form=EmptyForm(),
            limits=attachments.limits(), overdue=triage.is_overdue(thread),
            reply_closed=messaging.reply_window_closed(thread, current_user),
            reply_blocked=current_user.is_patient and thread.group_id in
            blocking.blocked_group_ids(current_user, "reply"),
            block_notice=blocking.notice("reply"),
            shelf=quick_texts.shelf_of(current_user) if current_user.is_staff else None,
            consult_only=current_user.is_staff and not access.works_thread(current_user, thread),
            call_back=callbacks.open_for(thread),
            call_back_form=call_back_form or CallBackForm(formdata=None),
        )

    return MessagePage(
        form=form, form_id="reply-form", render=render,
        sent_notice=SENT_NOTICE if current_user.is_patient else gettext("Your reply was sent."),
        **(_saved_in_drafts() if current_user.is_patient else {
            "saved_notice": gettext(
                "Your draft was saved as a draft of this reply. It has not been sent."),
            "autosaved": lambda at: gettext("Saved as a draft of this reply at %(time)s.",
                                            time=at)}),
        draft_url=lambda _draft: _thread_url(thread),
        sent_url=lambda t: url_for("threads.thread", thread_id=t.id, _anchor="latest"),
    )


@bp.post("/threads/<id:thread_id>/call-back")
@patient_messaging_required
def ask_for_call_back(thread_id: int):
    """The patient asks the team to phone them, once the reply time has passed."""
    form = CallBackForm()
    thread = access.get_thread_for(current_user, thread_id)
    if form.validate_on_submit():
        try:
            call_back = callbacks.ask(current_user, thread_id, form.phone.data,
                                      form.good_times.data or "")
        except callbacks.CallBackError as refusal:
            form.phone.errors = [str(refusal)]
        else:
            flash(gettext("We asked %(team)s to call you at %(phone)s.",
                          team=thread.group.name, phone=call_back.phone), "success")
            return redirect_to(_thread_url(thread))
    elif form.csrf_token.errors:
        abort(400)
    # The page again, with the reply the patient had started still in its box.
    draft = drafts.reply_draft_for(current_user, thread)
    reply_form = _reply_form({"body": draft.body} if draft else None)
    body, _status = _reply_page(thread, reply_form, call_back_form=form).render(draft)
    return body, 422


@bp.post("/threads/<id:thread_id>/reply")
@keeps_unsent_message
@messaging_user_required
def reply(thread_id: int):
    """Reply in the thread (to the same care team, or to the patient), with attachments."""
    thread = access.get_thread_for(current_user, thread_id)
    form = _reply_form()
    return submit(_reply_page(thread, form), DraftFields(
        thread=thread, body=form.body.data or "",
        education_ids=form.education.data if "education" in form else None))


@bp.get("/threads/<id:thread_id>/print")
@messaging_user_required
def print_thread(thread_id: int):
    """The thread as a page for printing: messages, dates, senders, attachment names."""
    opened = reading.print_thread(current_user, thread_id)
    return render_page("threads/print.html", thread=opened.thread, messages=opened.messages)


@bp.get("/attachments/<id:attachment_id>")
@messaging_user_required
def download(attachment_id: int):
    """Download an attachment of a thread the user is on (or of their own draft)."""
    attachment = attachments.get_attachment_for(current_user, attachment_id)
    try:
        verified = attachments.open_verified(attachment)
    except attachments.IntegrityFailure:
        abort(500)
    audit.record("attachment_download", current_user, attachment_id=attachment.id,
                 thread=attachment.message.thread if attachment.message else None)
    response = send_file(
        verified, mimetype=attachment.content_type, as_attachment=True,
        download_name=attachment.filename, max_age=0, etag=False, last_modified=None,
    )
    response.content_length = attachment.size  # checked: the bytes are the ones stored
    return response
