"""The languages smweb speaks, and which one a page is in.

Words are marked where they are written: `_("...")` (or `{% trans %}`) in templates,
`gettext`/`lazy_gettext` from `flask_babel` in Python. Catalogues live in
`smweb/translations/<language>/LC_MESSAGES/messages.po` (README: adding a language);
`make run` and `make test` compile them.

A page's language, first that applies: the signed-in person's choice (kept with the account),
a choice made before signing in (a cookie, moved into the account at sign-in), the browser's
Accept-Language, English.
"""

from functools import lru_cache

from flask import Flask, current_app, g, has_request_context, request
from flask_babel import Babel, force_locale, get_locale, get_translations, gettext, refresh
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
    # Flask-Babel keeps the language on `g`, which an app context pushed around several
    # requests (a CLI command, a test) shares: each request chooses afresh.
    app.before_request(_new_request)
    app.jinja_env.policies["ext.i18n.trimmed"] = True  # {% trans %} text on one line
    # Templates' _() and {% trans %} read the catalogue of the request's language found once
    # (Flask-Babel's own callables look it up again for every word, ~50 on the Inbox: 33 µs
    # a word under the profiler, 13 µs so).
    app.jinja_env.install_gettext_callables(
        gettext=lambda text: _catalogue().ugettext(text),
        ngettext=lambda one, many, n: _catalogue().ungettext(one, many, n),
        pgettext=lambda where, text: _catalogue().upgettext(where, text),
        npgettext=lambda where, one, many, n: _catalogue().unpgettext(where, one, many, n),
        newstyle=True)
    app.jinja_env.globals["page_language"] = page_language
    app.jinja_env.globals["languages"] = LANGUAGES
    app.jinja_env.globals["site_text"] = site_text
    app.jinja_env.globals["page_words"] = page_words
    # A word stored in English and shown in the page's language (a message's category): its
    # English is marked where it is defined, with N_ (smweb/config.py), to be extracted.
    app.jinja_env.filters["translated"] = lambda text: _catalogue().ugettext(text)


def _new_request() -> None:
    refresh()
    g.pop("catalogues", None)


def _catalogue():
    """The catalogue of the page's language, found once per request (and per language:
    an email written in its reader's language, under force_locale, has its own)."""
    locale = get_locale()
    found = g.setdefault("catalogues", {})
    if (catalogue := found.get(locale)) is None:
        catalogue = found[locale] = get_translations()
    return catalogue


def site_text(name: str) -> str:
    """One of the site's own configured words (`SERVICE_NAME`, `CRISIS_LINE`, ...) in the
    page's language: the site's own Spanish where it gave one (SMWEB_CRISIS_LINE_ES), else
    the translation of the default, else the words as configured."""
    value = current_app.config[name]
    if (language := page_language()) != DEFAULT:
        own = current_app.config.get(f"SITE_TEXTS_{language.upper()}", {}).get(name)
        return own or gettext(value)
    return value


def page_words() -> dict[str, str]:
    """The words static/js/smweb.js shows, in the page's language (base.html writes them into
    its #page-words block; %(name)s stands for a value the script fills in)."""
    return _page_words(page_language())


@lru_cache(maxsize=len(LANGUAGES))
def _page_words(language: str) -> dict[str, str]:
    """The same words for every page in `language` (the one being answered): made once."""
    return {
        "too_many_files": gettext("You chose %(count)s files; at most %(max)s can be attached."),
        "file_too_large": gettext("%(name)s: the file is larger than %(mb)s MB."),
        "files_too_large": gettext("All attachments together may be at most %(mb)s MB."),
        "file_refused": gettext(
            "Your message has not been sent: a file was not accepted (see Attachments). "
            "Remove it or choose another, then press Send again."),
        "still_uploading": gettext(
            "Your files are still uploading. Your message will be sent as soon as they are "
            "done: please wait."),
        "error_prefix": gettext("Error:") + " ",  # as base.html's <title> writes it
        "one_new_message": gettext("1 new message"),
        "new_messages": gettext("%(num)s new messages"),
        "one_second": gettext("1 second"),
        "seconds": gettext("%(num)s seconds"),
    }


def in_every_language(*texts: str) -> set[str]:
    """Each of `texts` as every language smweb speaks writes it, casefolded (the names of the
    mailbox's own folders, which no folder of a patient's may take in any language)."""
    found = set()
    for code in LANGUAGES:
        with force_locale(code):
            found |= {gettext(text).casefold() for text in texts}
    return found


def known(code: str | None) -> str | None:
    """`code` if smweb speaks it, else None."""
    return code if code in LANGUAGES else None


def select_language() -> str:
    if not has_request_context():  # the worker: an email says force_locale(its reader's)
        return DEFAULT
    if current_user and current_user.is_authenticated and known(current_user.language):
        return current_user.language
    return known(request.cookies.get(COOKIE)) or \
        request.accept_languages.best_match(LANGUAGES, default=DEFAULT)


def page_language() -> str:
    """The language of the page being answered (`<html lang>`)."""
    return get_locale().language
