"""Who may open which pages. Objects are checked by the gate in services/access.py."""

from functools import wraps

from flask import abort, redirect, render_template, url_for
from flask_login import current_user, login_required

from ..services import blocking


def blocked_page():
    """The seed's notice for a patient restricted from all of messaging (403)."""
    return render_template("auth/blocked.html", notice=blocking.notice("all")), 403


def patient_messaging_required(view):
    """A signed-in patient with a premium account who has opted in to messaging."""

    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
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


def admin_required(view):
    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.is_admin:
            abort(404)
        return view(*args, **kwargs)

    return wrapped
