"""The one flow behind every message form (a patient's new message, a staff member's, a
reply): read which button was pressed, hand the form to messaging.submit(), and turn its
outcome into what the browser expects — with JavaScript off (each button posts the whole
form; a redirect or the page again) and on (htmx: HX-Location, or the form, its files or
its autosave line swapped in place)."""

from collections.abc import Callable
from dataclasses import dataclass

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user
from htmx_flask import make_response

from ..clock import format_time
from ..i18n import page_language
from ..models import Draft, Thread
from ..parsing import as_id
from ..services import attachments, messaging, references
from ..services.drafts import DraftFields
from ..services.messaging import (
    AUTOSAVE,
    BUSY,
    INCOMPLETE,
    INSERT,
    KEPT,
    REFUSED,
    SAVE,
    SEND,
    SEND_ANYWAY,
    SENT,
    URGENT,
)
from ..templating import fragment_request, redirect_to

STATUS = {KEPT: 200, INCOMPLETE: 422, REFUSED: 403, BUSY: 409, URGENT: 200}


@dataclass
class MessagePage:
    """How one page shows its message form: where the form posts, where a kept draft and a
    sent message are found, and how the page is rendered around the form."""

    form: object  # a SendsOnce form (threads/forms.py)
    form_id: str  # the form element's id: "compose-form" or "reply-form"
    draft_url: Callable[[Draft], str]
    sent_url: Callable[[Thread], str]
    sent_notice: str
    # Where a kept draft is found again, in the user's words: the notice after Save ("Your
    # draft was saved in Drafts. ...") and the autosave line, given the time ("Saved in Drafts
    # at 1:05 PM EST.").
    saved_notice: str
    autosaved: Callable[[str], str]
    render: Callable[..., tuple]  # (draft, status, files_notice) -> the page or its form


def read_action() -> tuple[str, int | None]:
    """Which button was pressed. A form without one (an old browser's Enter) sends; a value
    we don't know is refused (400) rather than guessed at."""
    action = request.form.get("action", SEND)
    if action.startswith("remove:"):
        if (number := as_id(action.removeprefix("remove:"))) is None:
            abort(400)
        return messaging.REMOVE, number
    if action not in messaging.ACTIONS or action == messaging.REMOVE:
        abort(400)
    return action, None


def submit(page: MessagePage, fields: DraftFields, draft_id: int | None = None):
    """Do what the pressed button asks, through messaging.submit, and answer."""
    form = page.form
    action, fields.remove_attachment_id = read_action()
    fields.files = [f for f in request.files.getlist("attachments") if f and f.filename]
    fields.quick_text_id = as_id(request.form.get("quick_text"))
    if g.get("keeping_unsent"):  # the session ran out of time: keep it, never send it
        action, fields.remove_attachment_id = SAVE, None
    savable = form.validate_draft()
    complete = savable and action in (SEND, SEND_ANYWAY) and form.validate()
    outcome = messaging.submit(current_user, action, fields, form_key=form.form_key.data,
                               draft_id=draft_id, savable=savable, complete=complete)
    if g.get("keeping_unsent"):
        return kept_while_signed_out(outcome, page.draft_url, page.sent_url)
    return answer(page, outcome)


def kept_while_signed_out(outcome: messaging.Outcome, draft_url: Callable[[Draft], str],
                          sent_url: Callable[[Thread], str]):
    """The form came from a session that had timed out: what it carried is now the user's
    draft (or was sent before, by an earlier press). The browser goes to the sign-in page,
    which says so, and from there back to the draft. Nothing else is shown."""
    if outcome.result not in (KEPT, SENT):
        return None  # not kept (nothing to keep, or refused): auth.guards says signed out
    g.unsent_kept = True
    args = {"ended": g.get("session_ended"), "unsent": "kept" if outcome.result == KEPT else None,
            "next": draft_url(outcome.draft) if outcome.result == KEPT
            else sent_url(outcome.thread)}
    target = url_for("auth.sign_in", **args)
    if request.htmx:
        return make_response("", 401, redirect=target)
    return redirect(target)


def answer(page: MessagePage, outcome: messaging.Outcome):
    """The outcome as a redirect, the page, the form, its files or its autosave line."""
    if outcome.action == AUTOSAVE:
        return _autosave_answer(page, outcome)
    if outcome.result == SENT:
        # Pressed twice: the same notice again, which the page shows once. (Leaving it out
        # would lose it when the first press's page was already opened and then replaced.)
        flash(gettext("%(notice)s Reference number: %(reference)s.", notice=page.sent_notice,
                      reference=references.of(outcome.message.id)), "success")
        return redirect_to(page.sent_url(outcome.thread))
    form, draft = page.form, outcome.draft
    if outcome.file_errors:
        form.attachments.errors = outcome.file_errors
    files_only = fragment_request(f"{page.form_id}-files")
    if outcome.refusal:
        if files_only:
            form.attachments.errors = [outcome.refusal]
        form.form_errors.append(outcome.refusal)
    form.urgent = outcome.urgent  # the warning, when Send stopped at words of an emergency
    if outcome.result == KEPT and outcome.action == SAVE:
        flash(page.saved_notice, "success")
        return redirect_to(page.draft_url(draft))
    if outcome.result == KEPT and outcome.action == INSERT:
        form.body.data = draft.body  # the text as kept, with the quick text at its end
        if not request.htmx:
            flash(gettext("The quick text was added at the end of your message. It has not "
                          "been sent yet."), "success")
            return redirect_to(page.draft_url(draft))
    if outcome.result == KEPT and not request.htmx:
        flash(gettext("Your attachments were updated. Your message has not been sent yet."),
              "info")
        return redirect_to(page.draft_url(draft))
    status = STATUS[outcome.result]
    if files_only:
        body = render_template("threads/_attachments_field.html", form=form, draft=draft,
                               form_id=page.form_id, form_action=request.path,
                               limits=attachments.limits(), files_notice=outcome.notice)
    else:
        body, status = page.render(draft, status, outcome.notice)
    response = make_response(body, status)
    if draft is not None and request.htmx:
        # The form now belongs to a draft: a reload must find it, not an empty form.
        response.headers["HX-Replace-Url"] = page.draft_url(draft)
    return response


def _autosave_answer(page: MessagePage, outcome: messaging.Outcome):
    """Keeping the text as the user types answers with one status line — where the text is,
    or why it is not kept — and leaves the form, and the user's cursor, alone."""
    draft = outcome.draft
    if outcome.result == SENT:
        text = gettext("This message was sent.")
    elif outcome.result == KEPT:
        at = format_time(draft.updated_at, current_app.config["DISPLAY_TIMEZONE"],
                         page_language())
        text = page.autosaved(at)
    elif outcome.refusal:
        text = gettext("Not saved: %(reason)s", reason=outcome.refusal)
    else:
        errors = " ".join(str(e) for errors in page.form.errors.values() for e in errors)
        text = gettext("Not saved: %(reason)s", reason=errors) if errors \
            else gettext("Not saved: check what you entered.")
    response = make_response(
        render_template("threads/_autosave_status.html", status_text=text,
                        draft=draft if outcome.result == KEPT else None),
        200 if outcome.result in (SENT, KEPT) else STATUS[outcome.result])
    if outcome.result == KEPT:
        response.headers["HX-Replace-Url"] = page.draft_url(draft)
    return response
