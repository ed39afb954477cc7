"""English and Español: which language a page is in (the account's choice, a choice made
before signing in, the browser's Accept-Language), choosing it at the foot of any page and in
Preferences, dates written for the language, and the Spanish catalogue complete: every word
marked in the code translated, and no patient-facing template with words left unmarked."""

import re
import sys
from datetime import datetime
from html.parser import HTMLParser

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

from smweb import i18n
from smweb.clock import format_local
from smweb.config import PROJECT_ROOT
from smweb.extensions import db
from smweb.services import access
from tests.support import csrf_token, new_thread, post_form, sign_in, user

SPANISH = {"Accept-Language": "es-US,es;q=0.9,en;q=0.5"}
CATALOGUE = PROJECT_ROOT / "smweb" / "translations" / "es" / "LC_MESSAGES" / "messages.po"


def lang_of(page: str) -> str:
    return re.search(r'<html lang="([^"]+)"', page).group(1)


def language_of(app, username: str) -> str | None:
    """The account's choice, read as the database has it. (Requests are made outside an app
    context of the test's own: one shared with them would share `g`, and its CSRF token.)"""
    with app.app_context():
        return user(username).language


def set_language(app, username: str, language: str) -> None:
    with app.app_context():
        user(username).language = language
        db.session.commit()


def choose(client, language: str, back: str = "/sign-in", page: str | None = None):
    """The language button at the foot of `page` (by default the page it returns to)."""
    return client.post("/language", data={"language": language, "next": back,
                                          "csrf_token": csrf_token(client, page or back)})


# --- which language a page is in ---------------------------------------------------------------

def test_english_without_a_choice_or_a_spanish_browser(client):
    page = client.get("/sign-in").get_data(as_text=True)
    assert lang_of(page) == "en"
    assert "Sign in" in page
    # the other language is offered in its own words, marked as Spanish for a screen reader
    assert re.search(r'<button[^>]*value="es"[^>]*lang="es"[^>]*>Español</button>', page)


def test_the_browsers_language_decides_before_any_choice(client):
    page = client.get("/sign-in", headers=SPANISH).get_data(as_text=True)
    assert lang_of(page) == "es"
    assert "Iniciar sesión" in page
    assert re.search(r'<button[^>]*value="en"[^>]*lang="en"[^>]*>English</button>', page)


def test_a_choice_on_the_sign_in_page_is_kept_with_the_account(app, client):
    response = choose(client, "es")
    assert response.status_code == 303 and response.location == "/sign-in"
    assert "smweb_language=es" in response.headers["Set-Cookie"]
    assert lang_of(client.get("/sign-in").get_data(as_text=True)) == "es"

    response = sign_in(client, "veteran1")
    assert response.status_code == 303
    # moved into the account: the cookie is gone, so the next person here starts afresh
    assert "smweb_language=;" in response.headers["Set-Cookie"]
    assert language_of(app, "veteran1") == "es"
    inbox = client.get("/mailbox/inbox").get_data(as_text=True)
    assert lang_of(inbox) == "es"
    assert "Bandeja de entrada" in inbox


def test_the_accounts_choice_beats_the_browser(app, client):
    set_language(app, "veteran1", "en")
    sign_in(client, "veteran1")
    page = client.get("/mailbox/inbox", headers=SPANISH).get_data(as_text=True)
    assert lang_of(page) == "en"
    assert "Inbox" in page


def test_choosing_at_the_foot_of_a_signed_in_page_keeps_it_and_returns_there(app, client):
    sign_in(client, "veteran1")
    response = choose(client, "es", back="/mailbox/sent")
    assert response.status_code == 303 and response.location == "/mailbox/sent"
    assert language_of(app, "veteran1") == "es"
    # with htmx (a boosted form) the whole page is loaded again, so <html lang> changes too
    response = client.post("/language", headers={"HX-Request": "true", "HX-Boosted": "true"},
                           data={"language": "en", "next": "/mailbox/inbox",
                                 "csrf_token": csrf_token(client, "/mailbox/inbox")})
    assert response.status_code == 200 and response.headers["HX-Redirect"] == "/mailbox/inbox"


def test_a_language_it_does_not_speak_or_an_outside_address_is_refused(client):
    response = choose(client, "fr")
    assert response.status_code == 422
    assert "Choose English or Español." in response.get_data(as_text=True)
    response = choose(client, "es", back="https://elsewhere.example/", page="/sign-in")
    assert response.status_code == 303 and response.location == "/"


def test_preferences_save_the_language(app, login, client):
    with app.app_context():
        teams = [g.id for g in access.groups_patient_may_write(user("veteran1"))]
    login("veteran1")
    page = client.get("/preferences").get_data(as_text=True)
    assert re.search(r'<input checked[^>]*value="en"', page), "English, until chosen"
    response = post_form(client, "/preferences", {"notify": "none", "language": "es",
                                                  "contacts": teams}, "/preferences")
    assert response.status_code == 303, response.get_data(as_text=True)
    assert language_of(app, "veteran1") == "es"
    assert lang_of(client.get("/preferences").get_data(as_text=True)) == "es"


def test_the_thread_page_dates_and_reply_time_read_in_spanish(app, login, client):
    with app.app_context():
        thread = new_thread()
        thread_id, due_at = thread.id, thread.due_at
    set_language(app, "veteran1", "es")
    login("veteran1")
    page = client.get(f"/threads/{thread_id}").get_data(as_text=True)
    due = format_local(due_at, "America/New_York", "es", "full")
    weekday = due.split(",")[0]
    assert weekday in {"lunes", "martes", "miércoles", "jueves", "viernes"}
    assert due in page
    assert " de " in due and due.endswith(("EST", "EDT"))


def test_dates_come_from_the_languages_own_patterns():
    moment = datetime(2026, 11, 27, 18, 5)
    assert format_local(moment, "America/New_York") == "Nov 27, 2026, 1:05 PM EST"
    assert format_local(moment, "America/New_York", "en", "full") == \
        "Friday, November 27, 2026, 1:05 PM EST"
    assert format_local(moment, "America/New_York", "es") == "27 nov 2026, 1:05 p.m. EST"
    assert format_local(moment, "America/Chicago", "es", "full") == \
        "viernes, 27 de noviembre de 2026, 12:05 p.m. CST"


def test_numbers_are_written_as_the_language_writes_them(app):
    size = app.jinja_env.filters["filesize"]
    with app.test_request_context(headers=SPANISH):
        assert size(3_565_158) == "3,4 MB"
    with app.test_request_context():
        assert size(3_565_158) == "3.4 MB"


def test_the_sites_own_words_follow_the_page(app, client, monkeypatch):
    page = client.get("/help", headers=SPANISH).get_data(as_text=True)
    assert "Línea de Crisis para Veteranos" in page
    monkeypatch.setitem(app.config, "CRISIS_LINE", "County Crisis Line: 555-0142")
    monkeypatch.setitem(app.config, "SITE_TEXTS_ES",
                        {"CRISIS_LINE": "Línea de Crisis del Condado: 555-0142"})
    assert "Línea de Crisis del Condado" in client.get("/help", headers=SPANISH).get_data(
        as_text=True)
    assert "County Crisis Line" in client.get("/help").get_data(as_text=True)


# --- the catalogue -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> dict:
    """Every word marked for translation in the code, as `make messages` extracts them."""
    pot = tmp_path_factory.mktemp("pot") / "messages.pot"
    CommandLineInterface().run(["pybabel", "-q", "extract", "-F", str(PROJECT_ROOT / "babel.cfg"),
                                "-k", "lazy_gettext", "-o", str(pot), str(PROJECT_ROOT)])
    with pot.open("rb") as f:
        return {m.id: m for m in read_po(f) if m.id}


def spanish() -> dict:
    with CATALOGUE.open("rb") as f:
        return {m.id: m for m in read_po(f) if m.id}


def test_every_marked_word_has_its_spanish(extracted):
    catalogue = spanish()
    missing = [m.id for m in extracted.values() if m.id not in catalogue]
    assert not missing, f"not in the Spanish catalogue (make messages; translate): {missing[:9]}"
    untranslated = [m.id for key, m in catalogue.items() if key in extracted and (
        m.fuzzy or not all(m.string if isinstance(m.string, tuple) else (m.string,)))]
    assert not untranslated, f"empty or fuzzy in the Spanish catalogue: {untranslated[:10]}"


PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")
TAG = re.compile(r"</?[a-z]+\b[^>]*>")


def test_each_translation_keeps_its_placeholders_and_markup():
    for message in spanish().values():
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for text in strings:
            if not text:
                continue
            assert set(PLACEHOLDER.findall(text)) <= set(PLACEHOLDER.findall(" ".join(ids))), \
                (message.id, text)
            assert sorted(TAG.findall(text)) == sorted(TAG.findall(ids[0])), (message.id, text)


# --- no patient-facing template with words left unmarked ---------------------------------------

TEMPLATES = PROJECT_ROOT / "templates"
STAFF_ONLY = {"threads/_quick_text_picker.html", "threads/_education_picker.html"}
PATIENT_FACING = sorted(
    str(path.relative_to(TEMPLATES)) for folder in ("", "auth", "errors", "mailbox", "threads")
    for path in (TEMPLATES / folder).glob("*.html")
    if str(path.relative_to(TEMPLATES)) not in STAFF_ONLY | {"_people_list.html"})
# (data-label: a table cell's column name, shown beside it on a phone)
SHOWN_ATTRIBUTES = {"aria-label", "title", "alt", "placeholder", "aria-description",
                    "data-label"}
WORD = re.compile(r"[A-Za-zÁÉÍÓÚáéíóúñÑ]{2,}")
# What reads the same in every language: a unit, a product name, the emergency number's word.
SAME_IN_EVERY_LANGUAGE = {"TTY", "PDF", "MB", "KB", "English", "Español", "CSV"}


class _Words(HTMLParser):
    """The words a person would see in a template's own text (between Jinja's tags)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in SHOWN_ATTRIBUTES and value:
                self.handle_data(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.found += [w for w in WORD.findall(data) if w not in SAME_IN_EVERY_LANGUAGE]


def unmarked_words(app, name: str) -> list[str]:
    """The template's own words outside `_()` and `{% trans %}`: Jinja's lexer gives the
    text between its tags; what is inside a tag or a trans block stands as a placeholder."""
    source = (TEMPLATES / name).read_text()
    text, in_trans, last_block = [], False, None
    for _, kind, value in app.jinja_env.lex(source):
        if kind == "whitespace":
            continue
        if kind == "name" and last_block == "block_begin":
            in_trans = value in ("trans", "pluralize") or (in_trans and value != "endtrans")
        last_block = kind if kind in ("block_begin", "variable_begin") else None
        text.append(value if kind == "data" and not in_trans else "\x00")
    parser = _Words()
    parser.feed("".join(text))
    return parser.found


@pytest.mark.parametrize("name", PATIENT_FACING)
def test_no_words_left_unmarked_in_a_patient_page(app, name):
    words = unmarked_words(app, name)
    assert not words, f"{name}: words not marked for translation: {words[:12]}"


def test_the_check_finds_an_unmarked_word(app, tmp_path, monkeypatch):
    """The check above can fail: a template with a bare word is caught, a marked one not."""
    monkeypatch.setattr(sys.modules[__name__], "TEMPLATES", tmp_path)
    (tmp_path / "a.html").write_text('<p>{{ _("Inbox") }}</p><p title="Read">Sent</p>'
                                     '{% trans n=1 %}Drafts {{ n }}{% endtrans %}')
    assert unmarked_words(app, "a.html") == ["Read", "Sent"]


def test_languages_are_named_in_themselves():
    assert i18n.LANGUAGES == {"en": "English", "es": "Español"}
