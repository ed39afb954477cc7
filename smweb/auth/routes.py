"""Sign in, sign out, and the patient's way into messaging (premium account, terms)."""

from urllib.parse import urlsplit

from flask import flash, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from ..services import access, accounts, audit, blocking
from ..services import preferences as preferences_service
from ..templating import redirect_to, render_page
from . import bp
from .forms import EmptyForm, OptInForm, PreferencesForm, SignInForm
from .guards import blocked_page


def home_for(user) -> str:
    if user.is_admin:
        return url_for("admin.index")
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
            audit.record("sign_in", user)
            return redirect_to(
                _safe_next(request.args.get("next")) or home_for(user), full_reload=True
            )
        audit.record("sign_in_failed", accounts.find_user(form.username.data))
        form.password.errors.append("Wrong username or password.")
        status = 401
    elif form.is_submitted():
        status = 422
    return render_page("auth/sign_in.html", form=form, status=status)


@bp.post("/sign-out")
def sign_out():
    """Sign out: the session cookie is emptied, nothing of it is kept."""
    if current_user.is_authenticated:
        audit.record("sign_out", current_user)
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
    if blocking.is_blocked_from_all(current_user):
        return blocked_page()  # no opting in again until access is restored
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
    """Signature, email notices and (patients) the contact list; opting out of messaging."""
    if current_user.is_patient and not current_user.can_use_messaging:
        return redirect_to(url_for("auth.terms"))
    prefs = preferences_service.preferences_of(current_user)
    own_groups = access.groups_patient_may_write(current_user) if current_user.is_patient \
        else []
    hidden = preferences_service.hidden_group_ids(current_user)
    form = PreferencesForm(data=None if request.method == "POST" else {
        "signature_name": prefs.signature_name, "signature_title": prefs.signature_title,
        "signature_by_default": prefs.signature_by_default, "notify": prefs.notify,
        "email": prefs.email, "contacts": [g.id for g in own_groups if g.id not in hidden],
    })
    form.notify.choices = list(preferences_service.NOTIFY_CHOICES.items())
    form.contacts.choices = [(g.id, g.name) for g in own_groups]
    status = 200
    if form.validate_on_submit():
        try:
            preferences_service.save(
                current_user, signature_name=form.signature_name.data or "",
                signature_title=form.signature_title.data or "",
                signature_by_default=form.signature_by_default.data,
                notify=form.notify.data, email=form.email.data or "",
                shown_group_ids=form.contacts.data if current_user.is_patient else None,
            )
        except preferences_service.PreferencesError as refusal:
            form.form_errors.append(str(refusal))
            status = 422
        else:
            flash("Your preferences were saved.", "success")
            return redirect_to(url_for("auth.preferences"))
    elif form.is_submitted():
        status = 422
    return render_page("auth/preferences.html", status=status, form=form,
                       opt_out_form=EmptyForm())


@bp.post("/preferences/opt-out")
@login_required
def opt_out():
    """Leave secure messaging; messages are kept and the patient may opt in again."""
    if not current_user.is_patient:
        return redirect_to(home_for(current_user))
    if EmptyForm().validate_on_submit() and current_user.opted_in_at is not None:
        accounts.opt_out(current_user)
        flash("You have opted out of secure messaging. Your messages are kept.", "info")
        return redirect_to(url_for("auth.terms"))
    return redirect_to(url_for("auth.preferences"))


@bp.get("/help")
def help_page():
    """Help: the help desk, and answers to common questions. Signed in or not."""
    return render_template("auth/help.html")
