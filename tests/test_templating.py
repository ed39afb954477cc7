"""What every page is built from: links under the site's mount point, list rows read by
column name, message text that keeps its shape, and the htmx rules."""

from sqlalchemy import select

from smweb.database import read_rows
from smweb.models import User
from tests.support import BOOSTED, htmx_fragment


def test_links_are_under_the_sites_mount_point(login, client):
    """A site served under a path (a proxy's /clinic) links every page and row there."""
    login("veteran1")
    page = client.get("/mailbox/inbox", environ_overrides={"SCRIPT_NAME": "/clinic"})
    text = page.get_data(as_text=True)
    assert 'href="/clinic/threads/' in text and 'href="/clinic/compose"' in text
    assert 'href="/threads/' not in text and 'action="/sign-out"' not in text


def test_rows_are_tuples_read_by_column_name(ctx):
    rows = read_rows(select(User.id, User.username).where(User.username == "veteran1"), {})
    assert len(rows) == 1
    (user_id, username), = rows
    assert (rows[0].id, rows[0].username) == (user_id, "veteran1")


def test_message_text_keeps_its_lines_and_paragraphs_in_the_html(app):
    """A text browser (no CSS) must see the lines a person typed: <p> and <br>, escaped."""
    render = app.jinja_env.filters["paragraphs"]
    text = "Line one\r\nline two\n\n\n  Second <b>para</b> & more\n"
    assert str(render(text)) == (
        "<p>Line one<br>line two</p><p>  Second &lt;b&gt;para&lt;/b&gt; &amp; more</p>")
    assert str(render("")) == ""


def test_what_only_javascript_shows_is_hidden_in_the_html(login, client):
    """A text browser ignores CSS (and w3m the `hidden` attribute too): the upload progress
    line and the form's default button carry `hidden`; the idle warning is not in the page."""
    login("veteran1")
    page = client.get("/compose").get_data(as_text=True)
    # The idle warning is not in the page at all (a text browser ignores `hidden`): the
    # session status answer brings it when it is needed.
    assert 'id="session-timeout-slot"' in page and "data-status-url" in page
    assert "Are you still there?" not in page
    warning = client.get("/session?poll=1&dialog=1&next=/compose",
                         headers={"HX-Request": "true"})
    assert warning.status_code == 200
    text = warning.get_data(as_text=True)
    assert "Are you still there?" in text and 'name="next" value="/compose"' in text
    assert "<html" not in text and 'role="alertdialog"' in text
    elsewhere = client.get("/session?poll=1&dialog=1&next=//evil.example/",
                           headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'name="next" value=""' in elsewhere
    assert '<button type="submit" name="action" value="save" hidden>Save draft</button>' in page
    assert ">Uploading…" not in page and 'data-uploading="Uploading…"' in page
    assert 'class="visually-hidden" tabindex="-1" aria-hidden="true">Save draft' not in page


def test_htmx_gets_the_fragment_it_names_and_a_boosted_navigation_the_whole_page(login, client):
    """The rules of templating.py's docstring, as a browser meets them."""
    login("veteran1")
    fragment = client.get("/mailbox/inbox", headers=htmx_fragment("message-list"))
    text = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and text.lstrip().startswith('<section id="message-list"')
    boosted = client.get("/mailbox/inbox", headers={**BOOSTED, "HX-Target": "message-list"})
    assert "<html" in boosted.get_data(as_text=True)
    other = client.get("/mailbox/inbox", headers=htmx_fragment("somewhere-else"))
    assert "<html" in other.get_data(as_text=True)
    missing = client.get("/threads/99999999", headers=htmx_fragment("reply-form"))
    assert missing.status_code == 404 and missing.headers["HX-Retarget"] == "#page-notice"
    assert "<html" not in missing.get_data(as_text=True)
    whole = client.get("/threads/99999999", headers=BOOSTED)
    assert whole.status_code == 404 and "HX-Retarget" not in whole.headers
    assert "<html" in whole.get_data(as_text=True)
