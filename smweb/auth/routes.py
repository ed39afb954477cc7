"""Sign in, sign out, and the patient's way into messaging (premium account, terms)."""

from urllib.parse import urlsplit

from flask import flash, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from ..services import accounts
from ..templating import redirect_to, render_page
from . import bp
from .forms import EmptyForm, OptInForm, SignInForm


def home_for(user) -> str:
    if user.is_staff:
        return url_for("triage.queue")
    return url_for("mailbox.folder", folder="inbox")


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site: never another host, a scheme, or a protocol-relative URL."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target:
        return None
    return target


@bp.get("/")
def index():
    """The start page: your own mailbox or queue, or the sign-in page."""
    if current_user.is_authenticated:
        return redirect_to(home_for(current_user))
    return redirect_to(url_for("auth.sign_in"))


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    """Sign in with username and password."""
    if current_user.is_authenticated:
        return redirect_to(home_for(current_user))
    form = SignInForm()
    status = 200
    if form.validate_on_submit():
        user = accounts.authenticate(form.username.data, form.password.data)
        if user is not None:
            # A fresh session: nothing from before sign-in (a planted id) carries over.
            session.clear()
            login_user(user)
            return redirect_to(
                _safe_next(request.args.get("next")) or home_for(user), full_reload=True
            )
        form.password.errors.append("Wrong username or password.")
        status = 401
    elif form.is_submitted():
        status = 422
    return render_page("auth/sign_in.html", form=form, status=status)


@bp.post("/sign-out")
def sign_out():
    """Sign out: the session cookie is emptied, nothing of it is kept."""
    logout_user()
    session.clear()
    flash("You are signed out. If this is a shared computer, close the browser.", "info")
    return redirect_to(url_for("auth.sign_in"), full_reload=True)


@bp.get("/premium-required")
@login_required
def premium_required():
    """A basic-account patient learns that messaging needs a verified (premium) account."""
    return render_template("auth/premium_required.html")


@bp.route("/terms", methods=["GET", "POST"])
@login_required
def terms():
    """The terms of use; a premium patient accepts them to opt in to messaging."""
    if not current_user.is_patient:
        return redirect_to(home_for(current_user))
    if not current_user.is_premium:
        return redirect_to(url_for("auth.premium_required"))
    form = OptInForm()
    if form.validate_on_submit():
        accounts.opt_in(current_user)
        flash("Welcome to secure messaging.", "success")
        return redirect_to(home_for(current_user))
    status = 422 if form.is_submitted() else 200
    return render_page("auth/terms.html", form=form, status=status)


@bp.route("/preferences", methods=["GET", "POST"])
@login_required
def preferences():
    """The patient's messaging preferences; for now, opting out."""
    if not current_user.is_patient:
        return redirect_to(home_for(current_user))
    form = EmptyForm()
    if form.validate_on_submit() and current_user.opted_in_at is not None:
        accounts.opt_out(current_user)
        flash("You have opted out of secure messaging. Your messages are kept.", "info")
        return redirect_to(url_for("auth.terms"))
    return render_template("auth/preferences.html", form=form)
