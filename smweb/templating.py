"""Jinja set-up and the two ways a view answers: a page (or its fragment), or a redirect.

How smweb answers htmx, once:

- **What was asked for.** `htmx_target()` is the id of the element htmx asked for alone
  (its HX-Target), or None when a whole page is wanted: no htmx, or a boosted navigation.
  Every choice of a fragment reads it: a view's block (`render_page`), an error's notice
  (security.py), the message form's files box (threads/message_form.py).
- **A page and its fragment come from one template.** The fragment is a named block; the
  view names it and the element it fills, `render_page(..., fragment="queue_list",
  target="queue-list")`, and the block is rendered alone (jinja2_fragments) when htmx asked
  for that element.
- **Errors** asked for as a fragment are a notice put in `#page-notice` (HX-Retarget), leaving
  the form and what was typed in it alone; for a whole page, the error page.
- **After a POST**, `redirect_to` answers a browser 303 and htmx HX-Location (htmx loads the
  page into <body> and pushes its URL, as a boosted link would); sign-in and sign-out ask
  for a whole new document (HX-Redirect). A signed-out htmx request gets 401 + HX-Redirect
  to the sign-in page (security.py).
- **A form that now belongs to a draft** says the draft's address with HX-Replace-Url, so a
  reload finds the draft, not an empty form.
- **A list that refreshes itself** is marked `data-refreshing-list` (smweb.js finds it by
  that, never by id) and polls with `poll=1` and its version: an unchanged list answers 204
  (`unchanged_poll`), and a poll is never counted as the person's activity.
"""

import hashlib
import re

from flask import (
    Flask,
    current_app,
    redirect,
    render_template,
    request,
)
from flask_babel import format_decimal, gettext, lazy_gettext
from htmx_flask import make_response
from jinja2 import StrictUndefined
from jinja2_fragments.flask import render_block
from markupsafe import Markup

from .clock import format_local, is_iso_date, utcnow
from .i18n import page_language
from .services import references


def init_app(app: Flask) -> None:
    if app.testing:
        app.jinja_env.undefined = StrictUndefined
    app.jinja_env.filters["local_time"] = _local_time
    app.jinja_env.filters["filesize"] = _filesize
    app.jinja_env.filters["paragraphs"] = _paragraphs
    app.jinja_env.filters["file_kind"] = _file_kind
    app.jinja_env.filters["reference"] = references.of  # a message id's reference number
    app.jinja_env.tests["iso_date"] = is_iso_date
    app.jinja_env.globals["fragment_request"] = fragment_request
    app.jinja_env.globals["autosave_attrs"] = autosave_attrs
    app.context_processor(_common_context)


def _common_context() -> dict:
    from .models import ThreadStatus
    from .services.education import is_library_url

    return {"now": utcnow(), "status_labels": ThreadStatus.LABELS,
            "is_library_url": is_library_url, "my_folders": _my_folders,
            "may_restrict": _may_restrict, "session_remaining": _session_remaining,
            "may_write": _may_write, "may_verify_identity": _may_verify_identity}


def _may_verify_identity() -> bool:
    """Whether the signed-in staff member checks patients' identity at a desk (the nav's
    "Verify identity")."""
    from flask_login import current_user

    from .services.identity import may_verify

    return current_user.is_authenticated and current_user.is_staff and \
        may_verify(current_user)


def _may_write() -> bool:
    """Whether the page may offer to write, move or delete: always, except to a caregiver
    the patient let read only (whose posts the gate refuses anyway: auth/guards.py)."""
    from flask import g

    acting = g.get("acting")
    return acting is None or acting.may_write


def _session_remaining() -> int | None:
    """Seconds before the signed-in session times out (the page's warning counts down)."""
    from flask import g

    from .services.sessions import remaining

    row = g.get("user_session")
    return remaining(row) if row is not None else None


def _may_restrict() -> bool:
    from flask_login import current_user

    from .services.blocking import may_restrict

    return current_user.is_authenticated and current_user.is_staff and \
        may_restrict(current_user)


def _my_folders():
    """The signed-in patient's folders with counts, for the navigation and move menus
    (called from templates only when needed, once per page)."""
    from flask import g
    from flask_login import current_user

    from .services.folders import folders_of

    if "my_folders" not in g:
        g.my_folders = folders_of(current_user) if current_user.is_authenticated and \
            current_user.is_patient else []
    return g.my_folders


def _local_time(moment, tz_name: str | None = None, width: str = "medium") -> str:
    """`moment|local_time(tz)`: in the page's language; `width="full"` with the weekday."""
    return format_local(moment, tz_name or current_app.config["DISPLAY_TIMEZONE"],
                        page_language(), width)


_BLANK_LINES = re.compile(r"\n[ \t]*\n+")


def _paragraphs(text: str) -> Markup:
    """A message's text as HTML that keeps its shape without CSS (a text browser, a reader
    mode): a paragraph per blank-line-separated block, a <br> per line break; escaped."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip("\n")
    blocks = [block for block in _BLANK_LINES.split(text) if block.strip()]
    return Markup("").join(
        Markup("<p>{}</p>").format(Markup("<br>").join(block.split("\n")))
        for block in blocks)


def _filesize(size: int) -> str:
    """'512 bytes', '12 KB', '3.4 MB' — how a size reads next to a file name."""
    if size < 1024:
        return gettext("%(size)s bytes", size=size)
    if size < 1024 * 1024:
        return gettext("%(size)s KB", size=round(size / 1024))
    # one decimal, written as the page's language writes it (3.4, 3,4): Babel
    return gettext("%(size)s MB", size=format_decimal(size / (1024 * 1024), format="0.0"))


FILE_KINDS = {
    "application/pdf": "PDF", "image/png": lazy_gettext("PNG image"),
    "image/jpeg": lazy_gettext("JPEG image"), "image/gif": lazy_gettext("GIF image"),
    "text/plain": lazy_gettext("text"), "application/rtf": lazy_gettext("RTF document"),
    "application/msword": lazy_gettext("Word document"),
    "application/vnd.ms-excel": lazy_gettext("Excel spreadsheet"),
    "image/bmp": lazy_gettext("BMP image"), "image/tiff": lazy_gettext("TIFF image"),
    "video/mp4": lazy_gettext("MP4 video"), "video/x-m4v": lazy_gettext("M4V video"),
    "video/quicktime": lazy_gettext("QuickTime video"),
    "application/vnd.ms-powerpoint": lazy_gettext("PowerPoint presentation"),
    "application/vnd.oasis.opendocument.text": lazy_gettext("OpenDocument text"),
}


def _file_kind(content_type: str) -> str:
    """What a file is, in words (in the page's language), from its content type."""
    if content_type in FILE_KINDS:
        return str(FILE_KINDS[content_type])
    if "wordprocessingml" in content_type:
        return str(FILE_KINDS["application/msword"])
    if "spreadsheetml" in content_type:
        return str(FILE_KINDS["application/vnd.ms-excel"])
    if "presentationml" in content_type:
        return str(FILE_KINDS["application/vnd.ms-powerpoint"])
    return content_type


def page_number() -> int:
    """The ?page= of a paged list: 1 when missing or not a number."""
    return min(max(request.args.get("page", 1, type=int) or 1, 1), 100_000)


def cursor_arg(name: str) -> str | None:
    """The place a keyset-paged list starts from (?after= or ?before=, as the list's own
    links wrote it; the list's service reads it, and ignores what it can't)."""
    return request.args.get(name) or None


def autosave_attrs(action: str, fragment_id: str) -> dict:
    """htmx attributes for a text field that saves its form's draft while the user types:
    a few seconds after they pause, the whole form is posted as action=autosave and only the
    status line `#<fragment_id>-autosave` changes. Nothing happens without JavaScript."""
    return {
        "data-hx-post": action,
        "data-hx-trigger": "input changed delay:3s, change",  # change: leaving the field saves too
        "data-hx-target": f"#{fragment_id}-autosave",
        "data-hx-swap": "innerHTML",
        "data-hx-include": "closest form",
        "data-hx-vals": '{"action": "autosave"}',
        # One request at a time per form: a Send pressed while an autosave is on its way
        # waits for it (the form queues all its own requests) and carries the draft id it
        # returned; an autosave that comes while the form is busy is simply dropped.
        "data-hx-sync": "closest form:drop",
    }


def htmx_target() -> str | None:
    """The id of the element htmx asked for alone ("" if it has none), or None when a
    whole page is wanted (no htmx, or a boosted navigation)."""
    if not request.htmx or request.htmx.boosted:
        return None
    return request.htmx.target or ""


def fragment_request(target_id: str) -> bool:
    """True when htmx asked for just the element `target_id` (a poll, a refresh button or a
    form posting to itself)."""
    return htmx_target() == target_id


def render_page(template: str, status: int = 200, *, fragment: str | None = None,
                target: str | None = None, **context):
    """Render the page, or only its block `fragment` when htmx asked for the element
    `target` (which that block fills)."""
    assert (fragment is None) == (target is None), "a fragment names the element it fills"
    if fragment and fragment_request(target):
        return render_block(template, fragment, **context), status
    return render_template(template, **context), status


def list_version(items, *attributes: str) -> str:
    """A short fingerprint of a list as shown: a poll that brings the same one back gets
    204 No Content, so nothing is swapped and a screen reader's place is kept."""
    digest = hashlib.sha256()
    for item in items:
        digest.update(repr((item.id, *(getattr(item, a) for a in attributes))).encode())
    return digest.hexdigest()[:16]


def unchanged_poll(target_id: str, version: str) -> bool:
    return fragment_request(target_id) and request.args.get("v") == version


def redirect_to(url: str, full_reload: bool = False):
    """POST/redirect/GET: 303 for a browser; for htmx, HX-Location, which loads the page
    into <body> and pushes its URL, as a boosted link would. `full_reload` (sign-in and
    sign-out) makes htmx load a whole new document, so nothing of the last page survives."""
    if request.htmx:
        if full_reload:
            return make_response("", 200, redirect=url)
        return make_response("", 200, location=url)
    return redirect(url, 303)
