"""smweb as real server processes for tests that need them (two processes sharing a database,
a server killed mid-write), and a small browser-like HTTP client with its own cookies."""

import http.cookiejar
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HIDDEN = re.compile(r'name="([^"]+)" type="hidden" value="([^"]*)"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def site_env(folder: Path) -> dict:
    """The environment of a development site in `folder` (SQLite file, cheap hashes)."""
    env = {**os.environ, "SMWEB_ENV": "development", "SMWEB_INSTANCE_PATH": str(folder),
           "DATABASE_URL": f"sqlite:///{folder / 'smweb.db'}", "SMWEB_SECRET_KEY": "k" * 32,
           "SMWEB_ARGON2_MEMORY_KIB": "1024", "SMWEB_ARGON2_TIME_COST": "1",
           "SMWEB_ATTACHMENTS_DIR": str(folder / "attachments")}
    env.pop("SMWEB_TEST_DATABASE_URL", None)
    return env


def prepare_site(env: dict) -> None:
    """Migrate and seed the demo, with the same commands `make run` uses."""
    flask = [sys.executable, "-m", "flask", "--app", "app"]
    for command in (["db", "upgrade"], ["smweb", "seed-demo"]):
        subprocess.run([*flask, *command], cwd=ROOT, env=env, check=True,  # noqa: S603
                       capture_output=True)


def wait_until_up(base: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(base + "/help", timeout=2).read()  # noqa: S310
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@contextmanager
def process(command: list[str], env: dict, name: str, ready=None):
    """A process of the site's (a server, the worker), stopped (or found dead) at the end.
    Its output goes to NAME.log in the site's folder, printed when the test fails (pytest
    shows what a test printed). `ready()`, if given, is waited for before the test goes on."""
    log_path = Path(env["SMWEB_INSTANCE_PATH"]) / f"{name}.log"
    with open(log_path, "ab") as log:
        started = subprocess.Popen(  # noqa: S603
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)
    try:
        if ready is not None:
            ready()
        yield started
    finally:
        if started.poll() is None:
            started.terminate()
            started.wait(timeout=20)
        print(log_path.read_text(errors="replace")[-5000:])


def server(command: list[str], env: dict, base: str):
    """A web server process, once it answers at `base`."""
    return process(command, env, f"server-{base.rsplit(':', 1)[1]}",
                   ready=lambda: wait_until_up(base))


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """urllib with its own cookie jar; answers are (status, location, body)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect())

    def request(self, path: str, data: bytes | None = None, headers: dict | None = None,
                timeout: float = 30):
        request = urllib.request.Request(  # noqa: S310 - always http://127.0.0.1
            self.base + path, data=data, headers=headers or {})
        try:
            with self.opener.open(request, timeout=timeout) as answer:
                return answer.status, answer.headers.get("Location"), answer.read().decode()
        except urllib.error.HTTPError as answer:
            return answer.code, answer.headers.get("Location"), answer.read().decode()

    def download(self, path: str, timeout: float = 30) -> tuple[int, bytes]:
        """A file's bytes as they came (status, body)."""
        request = urllib.request.Request(self.base + path)  # noqa: S310 - http://127.0.0.1
        try:
            with self.opener.open(request, timeout=timeout) as answer:
                return answer.status, answer.read()
        except urllib.error.HTTPError as answer:
            return answer.code, answer.read()

    def hidden_fields(self, path: str) -> dict:
        """The hidden fields of the page's forms: the CSRF token, a message form's key."""
        return dict(HIDDEN.findall(self.request(path)[2]))

    def post(self, path: str, fields: dict, form_page: str | None = None):
        fields = {**self.hidden_fields(form_page or path), **fields}
        return self.request(path, urllib.parse.urlencode(fields).encode())

    def post_multipart(self, path: str, fields: dict, files: list[tuple[str, str, bytes]],
                       form_page: str | None = None, hidden: dict | None = None):
        """A form with files, as a browser encodes it: files are (field, filename, bytes).
        `hidden`: the form's hidden fields as a page gave them before (a resend of the same
        form), else read from the form's page now."""
        if hidden is None:
            hidden = self.hidden_fields(form_page or path)
        fields = {**hidden, **fields}
        boundary = secrets.token_hex(12)
        parts = []
        for name, value in fields.items():
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"'
                         f"\r\n\r\n{value}\r\n".encode())
        for name, filename, data in files:
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                         f'filename="{filename}"\r\nContent-Type: application/octet-stream'
                         f"\r\n\r\n".encode() + data + b"\r\n")
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        return self.request(path, body, {
            "Content-Type": f"multipart/form-data; boundary={boundary}"})

    def sign_in(self, username: str, password: str) -> int:
        return self.post("/sign-in", {"username": username, "password": password})[0]
