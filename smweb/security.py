"""Response headers, sign-in redirects and error pages: the same for every blueprint."""

from flask import Flask, Response, g, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from htmx_flask import make_response
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from .extensions import db, login_manager
from .models import User
from .services import origin, sessions
from .services.refusals import Refusal
from .templating import htmx_target, redirect_to

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)

CACHEABLE_ENDPOINTS = frozenset({"static", "assets.htmx"})
# Pages a user whose password was reset may still open before choosing a new one.
PASSWORD_CHANGE_ALLOWS = frozenset({"auth.change_password", "auth.sign_out", "auth.help_page",
                                    "auth.signed_out", "auth.extend_session",
                                    "auth.session_status"})
# Pages an account made on the sign-up page may open before its email address is confirmed.
EMAIL_CONFIRMATION_ALLOWS = PASSWORD_CHANGE_ALLOWS - {"auth.change_password"} | {
    "auth.confirm_email_sent", "auth.confirm_email"}


def init_app(app: Flask) -> None:
    if hops := app.config["TRUST_PROXY_HOPS"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    login_manager.login_view = "auth.sign_in"
    login_manager.session_protection = "strong"
    # The cookie names a server-side session (its token), never the user id itself.
    login_manager.id_attribute = "get_session_token"
    login_manager.unauthorized_handler(_unauthorized)
    login_manager.user_loader(_load_user)

    app.before_request(_name_origin)
    app.teardown_request(lambda _error: origin.forget())
    app.before_request(_refuse_nul_characters)
    app.before_request(_note_activity)
    app.after_request(_security_headers)
    app.after_request(_session_remaining)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Refusal, _refusal)


def _name_origin():
    """Where this request came from, for the audit rows its action writes (after ProxyFix
    has read the proxy's headers, when the site trusts them)."""
    origin.serve_from(request.remote_addr, request.user_agent.string)


def _load_user(token: str) -> User | None:
    """The user of the live server-side session this cookie names. A session that was ended
    (signed out, everywhere, by an admin, a disabled account) or ran out of time is refused:
    a copied cookie is worth nothing after that."""
    checked = sessions.check(token)
    g.session_ended = checked.ended
    g.timed_out_user = checked.timed_out
    if checked.session is None:
        return None
    g.user_session = checked.session
    return checked.session.user


def _is_poll() -> bool:
    """A list refreshing itself (hx-trigger="every ..."): not the person doing something."""
    return bool(request.htmx) and request.args.get("poll") == "1"


def _note_activity():
    """Keeps the session alive while the person works (at most one write a minute), and
    holds a person whose password was reset to choosing a new one, and one who signed up
    to confirming the email address."""
    if request.endpoint in CACHEABLE_ENDPOINTS or not current_user.is_authenticated:
        return None
    row = g.get("user_session")
    if row is not None and not _is_poll():
        sessions.touch(row)
    if current_user.must_change_password and request.endpoint not in PASSWORD_CHANGE_ALLOWS:
        return redirect_to(url_for("auth.change_password"), full_reload=True)
    if (current_user.needs_email_confirmation
            and request.endpoint not in EMAIL_CONFIRMATION_ALLOWS):
        return redirect_to(url_for("auth.confirm_email_sent"), full_reload=True)
    return None


def _session_remaining(response: Response) -> Response:
    """Seconds left before the idle (or absolute) timeout: the page's warning counts down
    from this, and every htmx answer sets it again."""
    row = g.get("user_session")
    if row is not None and row.ended_at is None:
        response.headers["Smweb-Session-Remaining"] = str(sessions.remaining(row))
    return response


def _unauthorized():
    """Signed out (or the session ended): htmx gets 401 + HX-Redirect, a browser a redirect
    to the sign-in page, which says why when the session ran out of time."""
    args = {"next": request.full_path.rstrip("?")}
    if ended := g.get("session_ended"):
        args["ended"] = ended
        if request.method not in {"GET", "HEAD"}:
            args["unsent"] = "1"
    target = url_for("auth.sign_in", **args)
    if request.htmx:
        return make_response("", 401, redirect=target)
    return redirect(target)


def _refuse_nul_characters():
    """No person types a NUL character, and PostgreSQL can't store one in text: refuse the
    request plainly (400) rather than fail deep inside (500)."""
    values = [v for _key, vs in request.args.lists() for v in vs]
    if request.method not in {"GET", "HEAD"}:
        values += [v for _key, vs in request.form.lists() for v in vs]
    if any("\x00" in value for value in values):
        return _render_error(400, gettext("Something in the form was not right"),
                             gettext("It contained a character that can't be used. Please "
                                     "type it again and send it."))
    return None


def _security_headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    response.vary.add("HX-Request")
    if request.endpoint not in CACHEABLE_ENDPOINTS:
        # Nothing of a page may be kept by the browser or a shared proxy: on a shared
        # workstation the next person must not find the last one's messages in the cache.
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
    if request.is_secure:
        response.headers["Strict-Transport-Security"] = "max-age=31536000"
    return response


def _csrf_error(error: CSRFError):
    return _render_error(
        400,
        gettext("This form has expired"),
        gettext("For your security, the form was not accepted. Go back, reload the page and "
                "try again."),
    )


# The error pages' words, in the page's language (lazy: read when the page is made).
MESSAGES = {
    400: (lazy_gettext("Something in the request was not right"),
          lazy_gettext("Please go back and try again.")),
    403: (lazy_gettext("You can't do that"),
          lazy_gettext("Your account does not have access to this action.")),
    404: (lazy_gettext("Page not found"),
          lazy_gettext("There is no page here, or it is not one you can open.")),
    405: (lazy_gettext("Not allowed"), lazy_gettext("That action can't be done this way.")),
    413: (lazy_gettext("Too large"),
          lazy_gettext("What you sent is larger than this site accepts. Attachments may be at "
                       "most 10 MB in all (25 MB where large attachments are on). Nothing was "
                       "sent.")),
    # werkzeug's own words for it, which the page showed before it had any of its own
    429: (lazy_gettext("Too Many Requests"),
          lazy_gettext("This user has exceeded an allotted request count. Try again later.")),
    500: (lazy_gettext("Something went wrong on our side"),
          lazy_gettext("The problem has been recorded. Please try again later; if it is "
                       "urgent, call your care team.")),
}


def _http_error(error: HTTPException):
    if (error.code or 500) >= 500:
        # Whatever failed may have left the request's transaction broken (on PostgreSQL,
        # every later statement is refused until a rollback): the error page, which reads
        # the signed-in user, starts afresh.
        db.session.rollback()
    title, text = MESSAGES.get(error.code or 500, (error.name, error.description))
    return _render_error(error.code or 500, title, text)


def _refusal(refusal: Refusal):
    """A service's no that no view caught: a 404 reads as any missing page (never saying the
    thing exists); a 403 or 422 says the service's reason."""
    if refusal.status == 404:
        return _render_error(404, *MESSAGES[404])
    return _render_error(refusal.status, MESSAGES[403][0], str(refusal))


def _render_error(status: int, title: str, text: str):
    """A full error page; or, when htmx asked for a fragment of a page (a form posting to
    itself, a poll), a notice put in the page's notice area, leaving the form and what was
    typed in it alone."""
    title, text = str(title), str(text)  # MESSAGES' lazy words, in the page's language
    if htmx_target() is not None:
        body = render_template("errors/_notice.html", status=status, title=title, text=text)
        return make_response(body, status, retarget="#page-notice", reswap="innerHTML")
    return render_template("errors/error.html", status=status, title=title, text=text), status
