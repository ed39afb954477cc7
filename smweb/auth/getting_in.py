"""Getting back in: "Forgot your password?" and the link that lets the person choose a new
one."""

from flask import flash, g, request, session, url_for
from flask_login import current_user, logout_user

from ..clock import utcnow
from ..services import accounts, email_links, password_reset, sessions
from ..templating import redirect_to, render_page
from . import bp
from .forms import ForgotPasswordForm, NewPasswordForm
from .routes import _finish_sign_in, home_for

ANSWER = ("If an account matches, we sent a link to its email address. The link works once, "
          "for 30 minutes.")


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
        flash("Your new password is set. To finish signing in, complete two-step "
              "verification.", "success")
        step = "auth.sign_in_code" if user.totp_secret else "auth.sign_in_setup"
        return redirect_to(url_for(step), full_reload=True)
    target = _finish_sign_in(user, False, None)
    flash("Your new password is set, and you are signed in. You were signed out everywhere "
          "else.", "success")
    return redirect_to(target, full_reload=True)
