"""Attachments in a real Chromium, JavaScript on and off: a patient attaches a PDF and a PNG
to a new message; the nurse downloads both and gets the very same bytes."""

import re
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests import samples
from tests.browser.support import (
    CARE_TEAM,
    JS_MODES,
    compose_as,
    expected_422,
    heading,
    row_of,
    sign_in,
    wait_for_htmx,
)

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("js", JS_MODES)
def test_patient_attaches_files_and_nurse_downloads_them(open_tab, a11y, tmp_path, js):
    pdf, png = samples.pdf(f"results {uuid.uuid4().hex}"), samples.png(3, 2)
    (tmp_path / "lab-results.pdf").write_bytes(pdf)
    (tmp_path / "rash photo.png").write_bytes(png)
    (tmp_path / "fake.pdf").write_bytes(b"<html><script>alert(1)</script></html>")
    subject = f"Files {'js' if js else 'nojs'} {uuid.uuid4().hex[:8]}"

    patient, page = compose_as(open_tab, js=js)
    page.get_by_label("To (care team)").select_option(label=CARE_TEAM)
    page.get_by_label("Category").select_option("Test results")
    page.get_by_label("Subject", exact=True).fill(subject)
    page.get_by_label("Message", exact=True).fill("My results and a photo.")

    files = page.get_by_label("Choose files to attach")
    # A disguised file first: refused by name and reason, the typed text kept.
    files.set_input_files([tmp_path / "fake.pdf"])
    if not js:
        page.get_by_role("button", name="Attach files").click()
    expect(page.get_by_text("fake.pdf: the file's content is not a real .pdf file.").first
           ).to_be_visible()
    expect(page.get_by_label("Message", exact=True)).to_have_value("My results and a photo.")
    wait_for_htmx(patient)

    # The real files: with JavaScript they upload as soon as they are chosen.
    files = page.get_by_label("Choose files to attach")
    files.set_input_files([tmp_path / "lab-results.pdf", tmp_path / "rash photo.png"])
    if js:
        attached = page.get_by_role("list", name="Attached files")
        expect(attached).to_contain_text("lab-results.pdf")
        expect(attached).to_contain_text("rash photo.png")
        expect(page).to_have_url(re.compile(r"/drafts/\d+$"))
        a11y.check(patient, "compose with attachments")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(heading(page)).to_have_text(subject)
    expect(page.get_by_role("link", name="lab-results.pdf")).to_be_visible()
    expect(page.get_by_role("link", name="rash photo.png")).to_be_visible()

    nurse = open_tab(js=js)
    sign_in(nurse, "nurse1", "Your care teams' messages")
    row_of(nurse.page, subject).get_by_role("link").click()
    expect(heading(nurse.page)).to_have_text(subject)
    for name, content in (("lab-results.pdf", pdf), ("rash photo.png", png)):
        with nurse.page.expect_download() as info:
            nurse.page.get_by_role("link", name=name).click()
        download = info.value
        assert download.suggested_filename == name
        assert Path(download.path()).read_bytes() == content
    if js:
        a11y.check(nurse, "thread with attachments (staff)")

    patient.assert_clean(allow=expected_422)
    nurse.assert_clean()
    a11y.assert_clean()


@pytest.mark.parametrize("js", JS_MODES)
def test_enter_in_the_subject_saves_and_keeps_the_files(open_tab, tmp_path, js):
    (tmp_path / "a.txt").write_bytes(b"first file")
    (tmp_path / "b.txt").write_bytes(b"second file")
    patient, page = compose_as(open_tab, js=js)
    page.get_by_label("Subject", exact=True).fill("Two files")
    page.get_by_label("Choose files to attach").set_input_files(
        [tmp_path / "a.txt", tmp_path / "b.txt"])
    if not js:
        page.get_by_role("button", name="Attach files").click()
    attached = page.get_by_role("list", name="Attached files")
    expect(attached).to_contain_text("a.txt")
    wait_for_htmx(patient)
    if js:  # htmx has settled the new form: the focus moved to its status line
        expect(page.get_by_role("status").filter(has_text="Attached a.txt, b.txt.")).to_be_focused()
    page.get_by_label("Subject", exact=True).press("Enter")
    saved = page.get_by_role("status").filter(has_text="Your draft was saved in Drafts.")
    expect(saved).to_be_visible()
    attached = page.get_by_role("list", name="Attached files")
    expect(attached).to_contain_text("a.txt")
    expect(attached).to_contain_text("b.txt")
    expect(page.get_by_label("Subject", exact=True)).to_have_value("Two files")
    patient.assert_clean()
