"""Sign in, sign out, and the patient's way into messaging (premium account, terms)."""

from datetime import datetime, timedelta

from flask import (
    after_this_request,
    current_app,
    flash,
    g,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext, ngettext
from flask_login import current_user, login_required, login_user, logout_user

from .. import i18n
from ..clock import utcnow
from ..extensions import db
from ..forms import EmptyForm
from ..models import User
from ..parsing import local_path
from ..services import access, accounts, blocking, sessions, throttle, twofactor
from ..services import preferences as preferences_service
from ..templating import redirect_to, render_page
from . import bp
from .forms import CodeForm, OptInForm, PreferencesForm, SignInForm
from .guards import blocked_page


def home_for(user) -> str:
    if user.is_admin:
        return url_for("admin.index")
    if user.is_staff:
        return url_for("triage.queue")
    return url_for("mailbox.folder", folder="inbox")


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site: never another host, a scheme, a protocol-relative URL or a
    control character."""
    return local_path(target)


@bp.get("/")
def index():
    """The start page: your own mailbox or queue, or the sign-in page."""
    if current_user.is_authenticated:
        return redirect_to(home_for(current_user))
    return redirect_to(url_for("auth.sign_in"))


PENDING_FOR = timedelta(minutes=5)  # time to type the second factor after the password


def _client_ip() -> str | None:
    return request.remote_addr


def _locked_answer(form, until):
    """429: tries for this name (or from this address) are paused; says until when."""
    minutes = throttle.minutes_left(until)
    form.form_errors.append(ngettext(
        "Too many failed tries. For your security, signing in is paused for about "
        "%(num)d minute. If you forgot your password, call the help desk at %(phone)s.",
        "Too many failed tries. For your security, signing in is paused for about "
        "%(num)d minutes. If you forgot your password, call the help desk at %(phone)s.",
        minutes, phone=current_app.config["HELP_DESK_PHONE"]))
    return 429


def _finish_sign_in(user, shared: bool, next_url: str | None):
    """A new session (new id, new cookie contents) for a fully signed-in user."""
    session.clear()  # nothing from before (a planted id, the pending step) carries over
    chosen = i18n.known(request.cookies.get(i18n.COOKIE))
    sessions.start(user, shared=shared, ip=_client_ip(),
                   user_agent=request.user_agent.string, language=chosen)
    if chosen:  # kept with the account now: the next person at this browser starts afresh
        after_this_request(_forget_language_cookie)
    login_user(user, remember=False)
    if user.must_change_password:
        flash(gettext("Your password was reset. Choose a new password to go on."), "info")
        return url_for("auth.change_password")
    return _safe_next(next_url) or home_for(user)


def _pending_user():
    """The user who gave the right password and still owes the second factor, if recent."""
    pending = session.get("pending_sign_in")
    if not pending:
        return None
    started = datetime.fromisoformat(pending["at"])
    if utcnow() - started > PENDING_FOR:
        session.pop("pending_sign_in", None)
        return None
    user = db.session.get(User, pending["user"])
    return user if user is not None and not user.disabled else None


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    """Sign in with username and password (then, for staff, a code from an app)."""
    if current_user.is_authenticated:
        return redirect_to(home_for(current_user))
    form = SignInForm()
    status = 200
    if form.validate_on_submit():
        username, ip = form.username.data, _client_ip()
        if until := accounts.locked_out(username, ip):
            status = _locked_answer(form, until)
        elif (user := accounts.authenticate(username, form.password.data)) is not None:
            # The failures are forgotten only once the whole sign-in succeeds
            # (sessions.start): a right password must not reset the code step's count.
            next_url = request.args.get("next")
            if user.totp_secret or user.needs_second_factor:
                session.clear()
                session["pending_sign_in"] = {"user": user.id, "at": utcnow().isoformat(),
                                              "shared": form.shared.data, "next": next_url}
                step = "auth.sign_in_code" if user.totp_secret else "auth.sign_in_setup"
                return redirect_to(url_for(step), full_reload=True)
            return redirect_to(_finish_sign_in(user, form.shared.data, next_url),
                               full_reload=True)
        else:
            if until := accounts.sign_in_failed(username, ip):
                status = _locked_answer(form, until)
            else:
                form.password.errors.append(gettext("Wrong username or password."))
                status = 401
    elif form.is_submitted():
        status = 422
    notice = sessions.ended_notice(request.args.get("ended"))
    if notice and request.args.get("unsent") == "kept":
        notice += " " + gettext("Your message has not been sent: what you wrote and attached "
                                "is saved as a draft, and opens again when you sign in. Then "
                                "press Send.")
    elif notice and request.args.get("unsent"):
        notice += " " + gettext("What you did last was not saved or sent. A message you were "
                                "writing saves itself as a draft while you type: look in "
                                "Drafts.")
    if request.args.get("confirmed") == "1":
        notice = gettext("Your email address is confirmed. Sign in to go on.")
    return render_page("auth/sign_in.html", form=form, status=status, notice=notice)


@bp.route("/sign-in/code", methods=["GET", "POST"])
def sign_in_code():
    """The second step: a code from the authenticator app, or a recovery code."""
    user = _pending_user()
    if user is None or not user.totp_secret:
        flash(gettext("Please sign in again: the time to enter the code ran out."), "info")
        return redirect_to(url_for("auth.sign_in"))
    form = CodeForm()
    status = 200
    if form.validate_on_submit():
        pending = session["pending_sign_in"]
        if until := accounts.locked_out(user.username, _client_ip(), "code"):
            status = _locked_answer(form, until)
        elif (how := twofactor.verify(user, form.code.data)) is not None:
            target = _finish_sign_in(user, pending["shared"], pending["next"])
            if how == "recovery":
                left = twofactor.recovery_codes_left(user)
                flash(ngettext("You used a recovery code; %(num)d left. If your phone is "
                               "lost, set up the app again from Your account.",
                               "You used a recovery code; %(num)d left. If your phone is "
                               "lost, set up the app again from Your account.", left), "info")
            return redirect_to(target, full_reload=True)
        else:
            if until := accounts.sign_in_failed(user.username, _client_ip(), "code"):
                status = _locked_answer(form, until)
            else:
                form.code.errors.append(gettext("That code is not right, or was already "
                                                "used. Enter the code your app shows now."))
                status = 401
    elif form.is_submitted():
        status = 422
    return render_page("auth/sign_in_code.html", form=form, status=status)


@bp.route("/sign-in/setup", methods=["GET", "POST"])
def sign_in_setup():
    """First sign-in of a staff account: set up the authenticator app before going on."""
    user = _pending_user()
    if user is None or user.totp_secret:
        return redirect_to(url_for("auth.sign_in"))
    pending = session["pending_sign_in"]
    return set_up_two_step(user, url_for("auth.sign_in_setup"), lambda: _finish_sign_in(
        user, pending["shared"], pending["next"]))


def set_up_two_step(user, action: str, done):
    """The setup page (QR code and key) and its code form. Once a code from the new key is
    right, `done()` runs and says where to go after the recovery codes, shown once."""
    form = CodeForm()
    status = 200
    if form.validate_on_submit():
        if until := throttle.locked_until(user.username, _client_ip(), "code"):
            status = _locked_answer(form, until)
        elif (codes := twofactor.finish_enrolment(
                user, form.code.data, session.get("totp_claim"))) is not None:
            session.pop("totp_claim", None)
            return render_template("auth/recovery_codes.html", codes=codes,
                                   continue_url=done())
        elif until := throttle.record_failure(user.username, _client_ip(), "code"):
            status = _locked_answer(form, until)
        else:
            form.code.errors.append(gettext("That code is not right. Check the app shows "
                                            "this key, and enter the code it shows now."))
            status = 422
    elif form.is_submitted():
        status = 422
    # The key shown belongs to this browser's session alone (twofactor.begin_enrolment).
    secret, session["totp_claim"] = twofactor.begin_enrolment(user, session.get("totp_claim"))
    uri = twofactor.setup_uri(user, secret)
    return render_page("auth/two_step_setup.html", form=form, action=action, status=status,
                       qr=twofactor.qr_code_svg(uri), key=twofactor.spaced(secret))


@bp.post("/sign-out")
def sign_out():
    """Sign out: the server ends the session and the browser is told to forget the site."""
    reason = "idle" if request.form.get("reason") == "idle" else None
    if current_user.is_authenticated:
        sessions.sign_out(current_user, g.get("user_session"), reason or "signed_out")
    return signed_out_response(reason)


def signed_out_response(reason: str | None = None):
    """This browser's session is over: nothing of it is left in the cookie, the browser is
    told to empty the site's cookies, storage and cache (the next person finds nothing), and
    it lands on a page that shows nothing of the person."""
    logout_user()
    session.clear()
    response = redirect_to(url_for("auth.signed_out", reason=reason), full_reload=True)
    response.headers["Clear-Site-Data"] = '"cache", "cookies", "storage"'
    return response


@bp.get("/signed-out")
def signed_out():
    """Where sign-out lands: nothing of the person who was here."""
    if current_user.is_authenticated:
        return redirect_to(home_for(current_user))
    return render_template("auth/signed_out.html", idle=request.args.get("reason") == "idle")


@bp.get("/session")
def session_status():
    """How long the session has left (the Smweb-Session-Remaining header; 0 when it has
    ended): asked by the timeout warning before it shows, as another tab may have kept the
    session alive. Not activity itself: it is asked with ?poll=1. With ?dialog=1 the answer
    carries the "Are you still there?" warning, which no page holds until it is needed."""
    if not current_user.is_authenticated:
        return "", 204, {"Smweb-Session-Remaining": "0"}
    if request.args.get("dialog") == "1":
        return render_template("auth/_session_timeout.html",
                               back_to=_safe_next(request.args.get("next")) or "")
    return "", 204


@bp.post("/session/extend")
@login_required
def extend_session():
    """'Stay signed in' from the timeout warning: counts as activity now."""
    if EmptyForm().validate_on_submit() and (row := g.get("user_session")):
        sessions.touch(row, force=True)
    if request.htmx:
        return "", 204
    return redirect_to(_safe_next(request.form.get("next")) or home_for(current_user))


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
        flash(gettext("Welcome to secure messaging."), "success")
        return redirect_to(home_for(current_user))
    status = 422 if form.is_submitted() else 200
    return render_page("auth/terms.html", form=form, status=status)


def _forget_language_cookie(response):
    response.delete_cookie(i18n.COOKIE)
    return response


@bp.post("/language")
def choose_language():
    """English or Español, from the button at the foot of every page: kept with the account
    when signed in; before, in a cookie for this browser (kept with the account at
    sign-in). The same page comes back, whole (its <html lang> changes too)."""
    language = preferences_service.checked_language(request.form.get("language"))
    back = _safe_next(request.form.get("next")) or url_for("auth.index")
    if current_user.is_authenticated:
        preferences_service.set_language(current_user, language)
        after_this_request(_forget_language_cookie)
        return redirect_to(back, full_reload=True)
    response = redirect_to(back, full_reload=True)
    response.set_cookie(i18n.COOKIE, language, max_age=365 * 24 * 3600, httponly=True,
                        samesite="Lax", secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response


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
        "language": i18n.page_language(),
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
                language=form.language.data or None,
            )
        except preferences_service.PreferencesError as refusal:
            form.form_errors.append(str(refusal))
            status = 422
        else:
            flash(gettext("Your preferences were saved."), "success")
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
        flash(gettext("You have opted out of secure messaging. Your messages are kept."),
              "info")
        return redirect_to(url_for("auth.terms"))
    return redirect_to(url_for("auth.preferences"))


@bp.get("/help")
def help_page():
    """Help: the help desk, and answers to common questions. Signed in or not."""
    return render_template("auth/help.html")
