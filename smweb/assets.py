"""The htmx script, served by the app itself from the installed `django-js-lib-htmx` package."""

from importlib.metadata import version
from importlib.resources import files

from flask import Blueprint, send_from_directory

bp = Blueprint("assets", __name__)

HTMX_DIR = files("js_lib_htmx") / "static" / "htmx"
HTMX_VERSION = version("django-js-lib-htmx")  # in the URL: a new release busts caches


@bp.get(f"/assets/htmx-{HTMX_VERSION}.min.js")
def htmx():
    """The htmx library: versioned URL, so browsers may keep it for a year."""
    return send_from_directory(
        str(HTMX_DIR), "htmx.min.js", mimetype="text/javascript", max_age=31_536_000
    )
