"""Your account: where you are signed in, your password, two-step verification."""

from flask import flash, g, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

from ..forms import EmptyForm
from ..services import accounts, sessions, twofactor
from ..templating import redirect_to, render_page
from . import bp
from .forms import PasswordChangeForm, TurnOffTwoStepForm
from .routes import set_up_two_step, signed_out_response


@bp.get("/account")
@login_required
def account():
    """The signed-in devices (with the last activity of each), password, two-step."""
    return _account_page(TurnOffTwoStepForm(), 200)


def _account_page(off_form, status: int):
    return render_page(
        "auth/account.html", status=status, active=sessions.active_for(current_user),
        this_session=g.get("user_session"), device_name=sessions.device_name,
        codes_left=twofactor.recovery_codes_left(current_user), form=EmptyForm(),
        off_form=off_form)


@bp.post("/account/sign-out-everywhere")
@login_required
def sign_out_everywhere():
    """End every session of this account, on every device, this one included."""
    if not EmptyForm().validate_on_submit():
        return redirect_to(url_for("auth.account"))
    accounts.sign_out_everywhere(current_user)
    return signed_out_response()


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Choose a new password; every other session of the account ends."""
    form = PasswordChangeForm()
    status = 200
    if form.validate_on_submit():
        try:
            accounts.change_password(current_user, form.current.data, form.new.data,
                                     request.remote_addr, keep=g.get("user_session"))
        except accounts.PasswordError as refusal:
            form[refusal.field].errors.append(str(refusal))
            status = refusal.status
        else:
            flash(gettext("Your password was changed. You were signed out on your other devices."),
                  "success")
            return redirect_to(url_for("auth.account"))
    elif form.is_submitted():
        status = 422
    return render_page("auth/change_password.html", form=form, status=status)


@bp.route("/account/two-step", methods=["GET", "POST"])
@login_required
def two_step_setup():
    """Turn on two-step verification (or set up a new phone after an admin's reset)."""
    if current_user.totp_secret:
        return redirect_to(url_for("auth.account"))
    return set_up_two_step(current_user, url_for("auth.two_step_setup"),
                           lambda: url_for("auth.account"))


@bp.post("/account/recovery-codes")
@login_required
def new_recovery_codes():
    """Ten new recovery codes; the old ones stop working."""
    if not (current_user.totp_secret and EmptyForm().validate_on_submit()):
        return redirect_to(url_for("auth.account"))
    codes = twofactor.new_recovery_codes(current_user)
    return render_template("auth/recovery_codes.html", codes=codes,
                           continue_url=url_for("auth.account"))


@bp.post("/account/two-step/off")
@login_required
def two_step_off():
    """A patient turns two-step verification off (staff can't: it is required of them)."""
    if current_user.needs_second_factor or not current_user.totp_secret:
        return redirect_to(url_for("auth.account"))
    form = TurnOffTwoStepForm()
    status = 422
    if form.validate_on_submit():
        try:
            accounts.turn_off_two_step(current_user, form.password.data, request.remote_addr)
        except accounts.PasswordError as refusal:
            form.password.errors.append(str(refusal))
            status = refusal.status
        else:
            flash(gettext("Two-step verification is off."), "info")
            return redirect_to(url_for("auth.account"))
    return _account_page(form, status)

