"""Headers, the htmx script, error pages: what every response promises."""

import pytest

from tests.support import BOOSTED, htmx_fragment


@pytest.mark.parametrize("path", ["/mailbox/inbox", "/compose", "/mailbox/sent", "/mailbox/drafts"])
def test_security_headers_on_pages(login, client, path):
    login("veteran1")
    response = client.get(path)
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"
    assert "HX-Request" in response.headers["Vary"]


def test_pages_have_no_inline_script_and_configure_htmx_safely(login, client):
    login("veteran1")
    html = client.get("/mailbox/inbox").get_data(as_text=True)
    assert "<script>" not in html and "onclick" not in html and "style=" not in html
    assert '"allowEval":false' in html and '"includeIndicatorStyles":false' in html
    assert '"historyCacheSize":0' in html and 'hx-history="false"' in html
    assert 'hx-boost="true"' in html
    assert '"X-CSRFToken": "' in html


def test_htmx_is_served_by_the_app_from_the_package(client):
    html = client.get("/sign-in").get_data(as_text=True)
    src = html.split('<script src="', 1)[1].split('"', 1)[0]
    assert src.startswith("/assets/htmx-") and "//" not in src
    with client.get(src) as script:
        assert script.status_code == 200
        assert script.mimetype == "text/javascript"
        assert b"htmx" in script.data[:2000]
        assert "no-store" not in script.headers.get("Cache-Control", "")


def test_session_cookie_is_httponly_and_samesite(client):
    response = client.get("/sign-in")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_production_cookies_are_secure():
    from smweb.config import ProductionConfig

    assert ProductionConfig.SESSION_COOKIE_SECURE is True
    assert ProductionConfig.ALLOW_DEMO_SEED is False


def test_not_found_is_a_page_or_a_fragment(login, client):
    login("veteran1")
    page = client.get("/threads/123456")
    assert page.status_code == 404 and "<h1>Page not found</h1>" in page.get_data(as_text=True)
    boosted = client.get("/threads/123456", headers=BOOSTED)
    assert "<html" in boosted.get_data(as_text=True)
    fragment = client.get("/threads/123456", headers=htmx_fragment("message-list"))
    assert fragment.status_code == 404
    html = fragment.get_data(as_text=True)
    assert "<html" not in html and 'role="alert"' in html
    # put in the page's notice area, not over the element that asked
    assert fragment.headers["HX-Retarget"] == "#page-notice"
    assert fragment.headers["HX-Reswap"] == "innerHTML"


def test_method_not_allowed_is_a_clear_page(client):
    response = client.get("/sign-out")
    assert response.status_code == 405
    assert "Not allowed" in response.get_data(as_text=True)


def test_oversized_request_gets_a_clear_413(login, client):
    login("veteran1")
    response = client.post("/compose", data={"body": "x" * (12 * 1024 * 1024)})
    assert response.status_code == 413
    assert "Too large" in response.get_data(as_text=True)
    fragment = client.post("/compose", data={"body": "x" * (12 * 1024 * 1024)},
                           headers=htmx_fragment("compose-form"))
    assert fragment.status_code == 413 and fragment.headers["HX-Retarget"] == "#page-notice"


def test_help_page_signed_in_or_out(client, login):
    for _ in range(2):
        page = client.get("/help")
        html = page.get_data(as_text=True)
        assert page.status_code == 200
        assert "555-0199" in html and "TTY" in html and "My HealtheVet Coordinator" in html
        assert "Within 3 business days" in html
        login("veteran1")
