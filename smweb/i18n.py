"""The languages smweb speaks, and which one a page is in.

Words are marked where they are written: `_("...")` (or `{% trans %}`) in templates,
`gettext`/`lazy_gettext` from `flask_babel` in Python. Catalogues live in
`smweb/translations/<language>/LC_MESSAGES/messages.po` (README: adding a language);
`make run` and `make test` compile them.

A page's language, first that applies: the signed-in person's choice (kept with the account),
a choice made before signing in (a cookie, moved into the account at sign-in), the browser's
Accept-Language, English.
"""

from flask import Flask, current_app, request
from flask_babel import Babel, get_locale, gettext
from flask_login import current_user

from .config import PROJECT_ROOT

# Each language by its own name (a choice is offered in the language it names).
LANGUAGES = {"en": "English", "es": "Español"}
DEFAULT = "en"
COOKIE = "smweb_language"
TRANSLATIONS = PROJECT_ROOT / "smweb" / "translations"

babel = Babel()


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    babel.init_app(app, default_locale=DEFAULT, locale_selector=select_language)
    app.jinja_env.policies["ext.i18n.trimmed"] = True  # {% trans %} text on one line
    app.jinja_env.globals["page_language"] = page_language
    app.jinja_env.globals["languages"] = LANGUAGES
    app.jinja_env.globals["site_text"] = site_text
    # A word stored in English and shown in the page's language (a message's category): its
    # English is marked where it is defined, with N_ (smweb/config.py), to be extracted.
    app.jinja_env.filters["translated"] = gettext


def site_text(name: str) -> str:
    """One of the site's own configured words (`SERVICE_NAME`, `CRISIS_LINE`, ...) in the
    page's language: the site's own Spanish where it gave one (SMWEB_CRISIS_LINE_ES), else
    the translation of the default, else the words as configured."""
    value = current_app.config[name]
    if (language := page_language()) != DEFAULT:
        own = current_app.config.get(f"SITE_TEXTS_{language.upper()}", {}).get(name)
        return own or gettext(value)
    return value


def known(code: str | None) -> str | None:
    """`code` if smweb speaks it, else None."""
    return code if code in LANGUAGES else None


def select_language() -> str:
    if current_user and current_user.is_authenticated and known(current_user.language):
        return current_user.language
    return known(request.cookies.get(COOKIE)) or \
        request.accept_languages.best_match(LANGUAGES, default=DEFAULT)


def page_language() -> str:
    """The language of the page being answered (`<html lang>`)."""
    return get_locale().language
