"""Who may open which pages. Objects are checked by the gate in services/access.py."""

from functools import wraps

from flask import abort, g, redirect, render_template, request, session, url_for
from flask_babel import gettext
from flask_login import current_user, login_required
from werkzeug.exceptions import HTTPException

from ..extensions import login_manager
from ..services import blocking, caregivers, origin
from ..services.refusals import Forbidden, NotAllowed, Refusal
from ..templating import redirect_to

# Pages that exist only to write: a read-only caregiver is told why, not shown a form.
WRITING_PAGES = {"threads.compose", "threads.compose_request", "mailbox.manage_folders"}


def blocked_page():
    """The seed's notice for a patient restricted from all of messaging (403)."""
    return render_template("auth/blocked.html", notice=blocking.notice("all")), 403


def patient_messaging_required(view):
    """A signed-in patient with a premium account who has opted in to messaging."""

    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if current_user.is_caregiver:
            return _as_caregiver(view, *args, **kwargs)
        if not current_user.is_patient:
            abort(404)
        if not current_user.is_premium:
            return redirect(url_for("auth.premium_required"))
        if blocking.is_blocked_from_all(current_user):
            return blocked_page()
        if current_user.opted_in_at is None:
            return redirect(url_for("auth.terms"))
        return view(*args, **kwargs)

    return wrapped


def _as_caregiver(view, *args, **kwargs):
    """A caregiver's request for the patient they act for: past the caregiver's gate (asked
    on every request, so an ended access ends now), the view serves the patient's messages
    as it would the patient — through the same gate for every thread, draft and file — with
    the caregiver named as the one acting (audit trail, "Sent by ... for ..."). A read-only
    caregiver's every post is refused before the view runs: nothing they send changes a
    thing."""
    caregiver = current_user._get_current_object()
    try:
        acting = caregivers.acting_for(caregiver, session.get("acting_for"))
    except caregivers.NotChosen:
        return redirect_to(url_for("auth.acting_for", next=request.full_path
                                   if request.method == "GET" else None))
    session["acting_for"] = acting.patient.id  # kept: an access ended later says so
    if request.method == "POST" and request.form.get("acting_for", str(acting.patient.id)) \
            != str(acting.patient.id):
        raise NotAllowed(gettext(
            "Nothing was sent: this form was for another patient, and you switched to "
            "%(name)s in another window. Go back, switch to that patient again (Whose "
            "messages), then send it.", name=acting.patient.display_name))
    if not acting.may_write and (request.method != "GET"
                                 or request.endpoint in WRITING_PAGES):
        raise Forbidden(gettext(
            "Your access to %(name)s's messages is read only: you can read them, but not "
            "write, move or delete. %(name)s can change that on their Caregivers page.",
            name=acting.patient.display_name))
    g.acting = acting
    g._login_user = acting.patient  # flask-login's current user, for this view only
    try:
        with origin.caregiver_acting(caregiver.id):
            return view(*args, **kwargs)
    finally:
        g._login_user = caregiver


def own_patient_account_required(view):
    """A patient's own account, never a caregiver acting for it: who may act for the
    patient is the patient's to say."""

    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.is_patient:
            abort(404)
        return view(*args, **kwargs)

    return wrapped


def caregiver_required(view):
    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.is_caregiver:
            abort(404)
        return view(*args, **kwargs)

    return wrapped


def staff_required(view):
    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.is_staff:
            abort(404)
        return view(*args, **kwargs)

    return wrapped


def messaging_user_required(view):
    """Staff, or a patient who may use messaging: for pages both sides share (a thread)."""

    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if current_user.is_staff:
            return view(*args, **kwargs)
        return patient_messaging_required(view)(*args, **kwargs)

    return wrapped


def keeps_unsent_message(view):
    """For a message form's post (outside the gate that follows): when it comes from a
    session that just ran out of time, the view runs once more as that user, only to keep
    what the form carries as their draft (message_form.submit sees g.keeping_unsent, never
    sends, and answers with the sign-in page). Whatever else the view would answer is thrown
    away for the sign-in page too: nothing is shown to a signed-out browser."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        user = g.get("timed_out_user")
        if current_user.is_authenticated or user is None or request.method != "POST":
            return view(*args, **kwargs)
        g._login_user, g.keeping_unsent = user, True  # flask-login's current user, for now
        try:
            response = view(*args, **kwargs)
        except (HTTPException, Refusal):
            response = None
        finally:
            g._login_user = login_manager.anonymous_user()
        return response if g.pop("unsent_kept", False) else login_manager.unauthorized()

    return wrapped


def admin_required(view):
    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.is_admin:
            abort(404)
        return view(*args, **kwargs)

    return wrapped
