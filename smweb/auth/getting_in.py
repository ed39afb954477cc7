"""Getting in and back in: signing up (and the link that confirms the email address),
"Forgot your password?" and the link that lets the person choose a new one."""

from flask import flash, g, request, session, url_for
from flask_babel import gettext, lazy_gettext
from flask_login import current_user, login_required, logout_user

from ..clock import utcnow
from ..extensions import db
from ..forms import EmptyForm
from ..models import Preferences
from ..services import accounts, email_links, password_reset, sessions, sign_up
from ..templating import redirect_to, render_page
from . import bp
from .forms import ConfirmAgainForm, ForgotPasswordForm, NewPasswordForm, SignUpForm
from .routes import _finish_sign_in, home_for

ANSWER = lazy_gettext("If an account matches, we sent a link to its email address. The link "
                      "works once, for 30 minutes.")


@bp.route("/forgot-password", methods=["GET", "POST"])
def forgot_password():
    """Ask for a link to choose a new password, by username or email address; the answer is
    the same whether or not an account matches."""
    if current_user.is_authenticated:
        return redirect_to(home_for(current_user))
    form = ForgotPasswordForm()
    status = 200
    if form.validate_on_submit():
        try:
            password_reset.ask(form.who.data, request.remote_addr)
        except password_reset.Paused as refusal:
            form.form_errors.append(str(refusal))
            status = 429
        else:
            return redirect_to(url_for("auth.forgot_password", sent=1))
    elif form.is_submitted():
        status = 422
    return render_page("auth/forgot_password.html", form=form, status=status,
                       sent=request.args.get("sent") == "1" and status == 200, answer=ANSWER)


@bp.route("/sign-up", methods=["GET", "POST"])
def sign_up_page():
    """A patient makes their own (basic) account, is signed in, and is asked to open the
    link sent to the email address given."""
    if current_user.is_authenticated:
        return redirect_to(home_for(current_user))
    form = SignUpForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = sign_up.sign_up(form.display_name.data, form.username.data,
                                   form.email.data, form.password.data, request.remote_addr,
                                   caregiver=form.kind.data == "caregiver")
        except sign_up.SignUpError as refusal:
            getattr(form, refusal.field).errors.append(str(refusal))
            status = refusal.status
        except sign_up.Paused as refusal:
            form.form_errors.append(str(refusal))
            status = 429
        else:
            _finish_sign_in(user, False, None)
            flash(gettext("Your account is made. One more step: confirm your email address."),
                  "success")
            return redirect_to(url_for("auth.confirm_email_sent"), full_reload=True)
    elif form.is_submitted():
        status = 422
    return render_page("auth/sign_up.html", form=form, status=status)


@bp.route("/confirm-email", methods=["GET", "POST"])
@login_required
def confirm_email_sent():
    """Until the address is confirmed, the account stays on this page (security.py): it
    says where the link went, and sends it again — to a corrected address if need be."""
    if not current_user.needs_email_confirmation:
        return redirect_to(home_for(current_user))
    prefs = db.session.get(Preferences, current_user.id)
    form = ConfirmAgainForm(data={"email": prefs.email if prefs else ""})
    status = 200
    if form.validate_on_submit():
        try:
            sign_up.send_again(current_user, form.email.data)
        except sign_up.Paused as refusal:
            form.form_errors.append(str(refusal))
            status = 429
        else:
            flash(gettext("We sent a new link to %(address)s. Links sent before no longer "
                          "work.", address=form.email.data.strip()), "success")
            return redirect_to(url_for("auth.confirm_email_sent"))
    elif form.is_submitted():
        status = 422
    return render_page("auth/confirm_email_sent.html", form=form, status=status,
                       sent_to=prefs.email if prefs else "")


@bp.route("/confirm-email/<token>", methods=["GET", "POST"])
def confirm_email(token: str):
    """The link in the email: a button confirms (a mail scanner opening the link confirms
    nothing and uses nothing up). Then the account goes on, or the person signs in."""
    try:
        user = sign_up.check_link(token)
    except email_links.LinkRefused as refusal:
        return link_refused(refusal, email_links.VERIFY)
    form = EmptyForm()
    if form.validate_on_submit():
        try:
            user = sign_up.confirm(token)
        except email_links.LinkRefused as refusal:
            return link_refused(refusal, email_links.VERIFY)
        if current_user.is_authenticated and current_user.id == user.id:
            flash(gettext("Your email address is confirmed."), "success")
            return redirect_to(home_for(user))
        return redirect_to(url_for("auth.sign_in", confirmed=1))
    return render_page("auth/confirm_email.html", form=form, token=token,
                       username=user.username, status=422 if form.is_submitted() else 200)


def link_refused(refusal: email_links.LinkRefused, purpose: email_links.Purpose):
    """A link that does not work (any more): why, and how to get a new one (404 or 410)."""
    return render_page("auth/link_refused.html", status=refusal.status, why=refusal.why,
                       reset=purpose is email_links.RESET)


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """Choose a new password, from the link in the email. Then the account's other sessions
    end and the person is signed in (staff and admins after their second factor)."""
    try:
        user = password_reset.check(token)
    except email_links.LinkRefused as refusal:
        return link_refused(refusal, email_links.RESET)
    form = NewPasswordForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = password_reset.reset(token, form.new.data)
        except email_links.LinkRefused as refusal:
            return link_refused(refusal, email_links.RESET)
        except accounts.PasswordError as refusal:
            form.new.errors.append(str(refusal))
            status = refusal.status
        else:
            return _signed_in_after_reset(user)
    elif form.is_submitted():
        status = 422
    return render_page("auth/reset_password.html", form=form, status=status, token=token,
                       username=user.username)


def _signed_in_after_reset(user):
    """Sign in with the new password: whoever was signed in in this browser is signed out;
    a second factor is still asked for, as at any sign-in."""
    if current_user.is_authenticated:
        sessions.sign_out(current_user, g.get("user_session"), "signed_out")
        logout_user()
    if user.totp_secret or user.needs_second_factor:
        session.clear()
        session["pending_sign_in"] = {"user": user.id, "at": utcnow().isoformat(),
                                      "shared": False, "next": None}
        flash(gettext("Your new password is set. To finish signing in, complete two-step "
                      "verification."), "success")
        step = "auth.sign_in_code" if user.totp_secret else "auth.sign_in_setup"
        return redirect_to(url_for(step), full_reload=True)
    target = _finish_sign_in(user, False, None)
    flash(gettext("Your new password is set, and you are signed in. You were signed out "
                  "everywhere else."), "success")
    return redirect_to(target, full_reload=True)
