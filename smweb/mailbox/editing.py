"""The one flow behind every message form (a patient's new message, a reply, a staff member's
new message): attach or remove files, save a draft, or send — the same with JavaScript off
(each button posts the whole form) and on (htmx posts it and swaps the form in place)."""

from collections.abc import Callable
from dataclasses import dataclass

from flask import abort, flash, render_template, request, url_for
from flask_login import current_user
from htmx_flask import make_response
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from ..extensions import db
from ..models import Draft
from ..services import drafts, messaging
from ..services.drafts import DraftFields
from ..templating import fragment_request, redirect_to

SEND, SAVE, ATTACH, REMOVE, AUTOSAVE = "send", "save", "attach", "remove:", "autosave"


@dataclass
class MessageForm:
    """How one kind of message form plugs into the flow."""

    form: object  # a FlaskForm with body, attachments and validate_draft()
    draft: Draft | None
    fields: Callable[[], DraftFields]  # what the user typed, for a draft
    send: Callable[[Draft | None], str]  # sends; returns where to go next
    draft_url: Callable[[Draft], str]
    render: Callable[..., object]  # (form, draft, status) -> the page or its fragment
    fragment_id: str


def _action() -> tuple[str, int | None]:
    """Which button was pressed. A form without one (an old browser's Enter) sends; a value
    we don't know is refused rather than guessed at."""
    action = request.form.get("action", SEND)
    if action.startswith(REMOVE):
        number = action.removeprefix(REMOVE)
        if not number.isdigit():
            abort(400)
        return REMOVE, int(number)
    if action not in {SEND, SAVE, ATTACH, AUTOSAVE}:
        abort(400)
    return action, None


def already_sent():
    """A message form posted again after it was sent (a double click, a resend after a slow
    answer) sends nothing more: the answer goes where the first one went. None otherwise.
    Every message view asks this first (before looking up a draft, which sending used up);
    `handle` asks again only when two posts raced past it at once."""
    if request.method != "POST" or request.form.get("action", SEND) != SEND:
        return None
    message = messaging.sent_with_key(current_user, request.form.get("form_key"))
    if message is None:
        return None
    flash("Your message was sent.", "success")
    return redirect_to(url_for("mailbox.thread", thread_id=message.thread_id))


def handle(spec: MessageForm):
    """Process a POST of a message form and answer as the browser or htmx expects."""
    form, draft = spec.form, spec.draft
    action, remove_id = _action()
    if action == AUTOSAVE:
        return _autosave(spec)
    files = [f for f in request.files.getlist("attachments") if f and f.filename]
    if not form.validate_draft():
        return spec.render(form, draft, 422)
    refused = []
    # Keep a draft whenever there is something to keep: chosen files, an explicit save or
    # attach, or a draft already open. A plain send with text only needs none.
    if files or draft is not None or action != SEND:
        fields = spec.fields()
        fields.files, fields.remove_attachment_id = files, remove_id
        try:
            draft, refused = drafts.keep(current_user, draft, fields)
        except messaging.NotAllowed as refusal:
            form.form_errors.append(str(refusal))
            return spec.render(form, draft, 403)
        form.attachments.errors = [str(r) for r in refused]
    if refused:
        return _stay_on_draft(spec, form, draft, 422)
    if action == SEND:
        if form.validate():
            try:
                next_url = spec.send(draft)
            except messaging.NotAllowed as refusal:
                form.form_errors.append(str(refusal))
                return spec.render(form, draft, 403)
            except (IntegrityError, StaleDataError):
                # The same form, posted twice at once, was sent by the other request first.
                db.session.rollback()
                if (done := already_sent()) is not None:
                    return done
                raise
            return redirect_to(next_url)
        return _stay_on_draft(spec, form, draft, 422)
    if action == SAVE:
        flash("Your draft was saved.", "success")
        return redirect_to(spec.draft_url(draft))
    # attach / remove: show the form again with its updated list of files
    if fragment_request(spec.fragment_id):
        return _stay_on_draft(spec, form, draft, 200)
    flash("Your attachments were updated. Your message has not been sent yet.", "info")
    return redirect_to(spec.draft_url(draft))


def _stay_on_draft(spec: MessageForm, form, draft: Draft | None, status: int):
    body, status = spec.render(form, draft, status)
    response = make_response(body, status)
    if draft is not None and request.htmx:
        # The form now belongs to a draft: a reload must find it, not an empty form.
        response.headers["HX-Replace-Url"] = spec.draft_url(draft)
    return response


def _autosave(spec: MessageForm):
    """Keep the text as the user types (htmx, a few seconds after they pause): answer with
    a short status line, and leave the form — and the user's cursor — alone."""
    form, draft = spec.form, spec.draft
    if not form.validate_draft():
        errors = " ".join(e for errors in form.errors.values() for e in errors)
        return render_template("mailbox/_autosave_status.html", draft=draft, saved=False,
                               problem=errors)
    try:
        draft, _refused = drafts.keep(current_user, draft, spec.fields())
    except messaging.NotAllowed as refusal:
        return render_template("mailbox/_autosave_status.html", draft=draft, saved=False,
                               problem=str(refusal))
    response = make_response(render_template(
        "mailbox/_autosave_status.html", draft=draft, saved=True, problem=None))
    response.headers["HX-Replace-Url"] = spec.draft_url(draft)
    return response
