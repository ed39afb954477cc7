"""A minimal browser for the bench: cookies, forms, and signing in.

Two transports answer the same `request()`: `HttpBrowser` talks to a running server over
http.client (keep-alive when the server allows it), and `TestClientBrowser` drives the app
in-process through Flask's test client (for SQL counts and page sizes). Each account signs in
once per run, over HTTP (`sign_in`); its cookies are then reused by every client and by the
test client, because a staff member's one-time code can't be used twice.
"""

import http.client
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from threading import Lock
from urllib.parse import urlencode, urlsplit

# Sent by every bench client, over HTTP and in-process alike: Flask-Login's "strong" session
# protection ties a session to the address and User-Agent it signed in with.
USER_AGENT = "smweb-bench/1"


class SignInFailed(RuntimeError):
    """An account could not sign in; the text says at which step."""


@dataclass
class Answer:
    status: int
    headers: dict[str, str]  # lower-case names; the last value of a repeated header
    body: bytes

    @property
    def location_path(self) -> str:
        return urlsplit(self.headers.get("location", "")).path

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


@dataclass
class CookieJar:
    """Cookies by name (the bench talks to one host), safe to share between threads."""

    values: dict[str, str] = field(default_factory=dict)
    lock: Lock = field(default_factory=Lock, repr=False)

    def header(self) -> str:
        with self.lock:
            return "; ".join(f"{name}={value}" for name, value in self.values.items())

    def update(self, set_cookie_headers: list[str]) -> None:
        with self.lock:
            for header in set_cookie_headers:
                parsed = SimpleCookie()
                parsed.load(header)
                for name, morsel in parsed.items():
                    if morsel.value == "" or morsel["max-age"] in ("0", "-1"):
                        self.values.pop(name, None)
                    else:
                        self.values[name] = morsel.value


class HttpBrowser:
    """One connection to the server under test, with its cookie jar (shareable)."""

    def __init__(self, host: str, port: int, cookies: CookieJar | None = None,
                 timeout: float = 120):
        self.connection = http.client.HTTPConnection(host, port, timeout=timeout)
        self.cookies = cookies if cookies is not None else CookieJar()

    def request(self, method: str, path: str, form: dict | None = None,
                headers: dict | None = None) -> Answer:
        sent = {"Cookie": self.cookies.header(), "User-Agent": USER_AGENT, **(headers or {})}
        body = None
        if form is not None:
            body = urlencode(form, doseq=True)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in (1, 2):
            try:
                self.connection.request(method, path, body=body, headers=sent)
                response = self.connection.getresponse()
                data = response.read()
                break
            except (ConnectionError, http.client.HTTPException):
                self.connection.close()  # the next request opens a fresh connection
                # A kept-alive connection the server has since closed (gthread closes idle
                # ones after 2 s): a GET is safe to ask again, once; a POST is not.
                if method != "GET" or attempt == 2:
                    raise
        self.cookies.update(response.msg.get_all("Set-Cookie") or [])
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, data)

    def close(self) -> None:
        self.connection.close()


class TestClientBrowser:
    """The same interface over Flask's test client, carrying cookies got over HTTP."""

    def __init__(self, app, cookies: CookieJar):
        self.client = app.test_client()
        for name, value in cookies.values.items():
            self.client.set_cookie(name, value)

    def request(self, method: str, path: str, form: dict | None = None,
                headers: dict | None = None) -> Answer:
        # base_url: plain http, as over the wire (the test client would otherwise use
        # PREFERRED_URL_SCHEME, https, and Flask-WTF then demands a Referer on every POST).
        response = self.client.open(path, method=method, data=form, base_url="http://localhost",
                                    headers={"User-Agent": USER_AGENT, **(headers or {})})
        return Answer(response.status_code, {k.lower(): v for k, v in response.headers.items()},
                      response.get_data())


class PageParser(HTMLParser):
    """What the bench reads from a page: hidden form fields, the CSS and scripts it
    references, and the hx-get of each element with an id (the URL its poll asks for)."""

    def __init__(self):
        super().__init__()
        self.hidden: dict[str, str] = {}
        self.assets: list[str] = []
        self.hx_get: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        # htmx reads data-hx-get as hx-get (smweb writes the data- form: valid HTML).
        poll = attributes.get("data-hx-get") or attributes.get("hx-get")
        if attributes.get("id") and poll:
            self.hx_get[attributes["id"]] = poll
        if tag == "input" and attributes.get("type") == "hidden" and attributes.get("name"):
            self.hidden.setdefault(attributes["name"], attributes.get("value") or "")
        elif tag == "link" and attributes.get("rel") == "stylesheet" and attributes.get("href"):
            self.assets.append(attributes["href"])
        elif tag == "script" and attributes.get("src"):
            self.assets.append(attributes["src"])


def parse_page(html: str) -> PageParser:
    parser = PageParser()
    parser.feed(html)
    return parser


def csrf_token(answer: Answer) -> str:
    token = parse_page(answer.text).hidden.get("csrf_token")
    if not token:
        raise SignInFailed(f"no csrf_token on the page (HTTP {answer.status})")
    return token


def sign_in(browser: HttpBrowser, username: str, password: str,
            totp_secret: str | None = None) -> str:
    """Sign `browser` in as `username`, over HTTP, as a person would: the sign-in form, then,
    when the app asks for it (staff), the one-time code from the authenticator app (the bench
    staff's secret, bench/seed.py, unless `totp_secret` is given).
    Then it opens the page the app sends the user to, as a browser follows the redirect: the
    cookie that page sets (the session with its form token) is the one every later request
    carries, as a browser's would. Returns that page's path."""
    token = csrf_token(browser.request("GET", "/sign-in"))
    answer = browser.request("POST", "/sign-in", form={
        "csrf_token": token, "username": username, "password": password})
    if answer.status not in (302, 303):
        raise SignInFailed(f"{username}: password step answered HTTP {answer.status}")
    if answer.location_path.startswith("/sign-in/setup"):
        raise SignInFailed(f"{username}: the app asks this account to set up its second step; "
                           "enrol bench staff in bench/seed.py enrol_staff_in_second_step")
    if answer.location_path.startswith("/sign-in/code"):
        answer = _second_step(browser, username, answer.location_path, totp_secret)
    landing = browser.request("GET", answer.location_path)
    if landing.status != 200:
        raise SignInFailed(f"{username}: the first page after signing in answered HTTP "
                           f"{landing.status}")
    return answer.location_path


def _second_step(browser: HttpBrowser, username: str, code_path: str,
                 totp_secret: str | None) -> Answer:
    """Answer the code page with the current TOTP code. A code is accepted once: if this
    account already used the current one (a run a moment ago), wait for the next."""
    import pyotp

    if totp_secret is None:
        from .seed import staff_totp_secret

        totp_secret = staff_totp_secret()
    for attempt in range(2):
        token = csrf_token(browser.request("GET", code_path))
        answer = browser.request("POST", code_path, form={
            "csrf_token": token, "code": pyotp.TOTP(totp_secret).now()})
        if answer.status in (302, 303) and not answer.location_path.startswith("/sign-in"):
            return answer
        if attempt == 0:  # refused or failed: the code may be spent, so wait for a new one
            time.sleep(30 - time.time() % 30 + 1)  # the next 30-second step
    raise SignInFailed(f"{username}: the code step answered HTTP {answer.status}")
