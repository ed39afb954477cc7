"""Every page at 320x640, 360x740 and 1280x800, in Chromium: nothing wider than the screen
(the page never scrolls sideways), and the lists' rows say who, what, when, unread, how many
messages and files with every one of those readable on the screen. A screenshot of each page
at each size is kept in test-artifacts/screens/ for a person to look at."""

import re
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import expect

from smweb.extensions import db
from smweb.models import Thread, User
from tests.browser.support import LIVE, heading, sign_in

pytestmark = pytest.mark.browser

SIZES = [pytest.param((320, 640), id="320"), pytest.param((360, 740), id="360"),
         pytest.param((1280, 800), id="1280")]
SCREENS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screens"
PATIENT_PAGES = ["/mailbox/inbox", "/mailbox/sent", "/mailbox/drafts", "/mailbox/deleted",
                 "/compose", "/folders", "/search?q=refill", "/preferences", "/account",
                 "/help", "{thread}"]
STAFF_PAGES = ["/triage/", "/triage/compose", "/triage/away", "/search?q=refill", "{thread}"]
# ... and the coordinator's and the admin's pages (below).


def _refill_thread() -> str:
    with LIVE["app"].app_context():
        thread_id = db.session.scalar(db.select(Thread.id).where(
            Thread.subject == "Refill for blood pressure pills"))
        db.session.remove()
    return f"/threads/{thread_id}"


def _identity_page(username: str) -> str:
    """The Verify identity page of a patient's account."""
    with LIVE["app"].app_context():
        user_id = db.session.scalar(db.select(User.id).where(User.username == username))
        db.session.remove()
    return f"/triage/identity/{user_id}"


def _fits(page, width: int, name: str) -> None:
    page.wait_for_load_state("load")
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"{width}-{name}.png"), full_page=True)
    wide = page.evaluate("""w => [...document.querySelectorAll('body *')].filter(e => {
        const r = e.getBoundingClientRect();
        return r.width > 0 && (r.right > w + 1 || r.left < -1) &&
               getComputedStyle(e).position !== 'absolute' &&
               !e.closest('.visually-hidden, [hidden], .messages--stack thead');
    }).map(e => e.tagName + (e.id ? '#' + e.id : '') + '.' + e.className).slice(0, 8)""",
                         width)
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width and not wide, (name, scroll, wide)


@pytest.mark.parametrize("size", SIZES)
def test_every_page_fits_and_lists_say_it_all(open_tab, a11y, size):
    width = size[0]
    thread = _refill_thread()
    patient = open_tab(js=True, size=size)
    page = patient.page
    sign_in(patient, "veteran1", "Inbox")
    if width < 400:  # the header leaves most of the first screen to the page
        header = page.evaluate("document.querySelector('.site-header').offsetHeight")
        assert header <= 0.3 * size[1], header
    for path in PATIENT_PAGES:
        page.goto(path.format(thread=thread))
        _fits(page, width, "patient" + re.sub(r"\W+", "-", path.format(thread="thread")))
        if width == 360:  # axe-core, WCAG 2.2 A/AA, on each page as a phone shows it
            a11y.check(patient, f"{path} at {width} px")

    # The Inbox's rows: who wrote, the subject, the date, unread and the sizes, in words,
    # every one of them on the screen.
    page.goto("/mailbox/inbox")
    row = page.locator("table.messages tbody tr").filter(has_text="Refill for blood pressure")
    cells = {label: row.locator(f'td[data-label="{label}"]')
             for label in ("From", "Subject", "Date")}
    expect(cells["Subject"]).to_contain_text(re.compile(r"\d+ messages?"))
    for cell in cells.values():
        box = cell.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= width + 1, box
    if width < 400:  # stacked: the cell says what it is
        label = cells["Date"].evaluate("e => getComputedStyle(e, '::before').content")
        assert label == '"Date: "', label

    staff = open_tab(js=True, size=size)
    sign_in(staff, "nurse1", "Your care teams' messages")
    for path in STAFF_PAGES:
        staff.page.goto(path.format(thread=thread))
        _fits(staff.page, width, "staff" + re.sub(r"\W+", "-", path.format(thread="thread")))
        if width == 360:
            a11y.check(staff, f"staff {path} at {width} px")
    for who, home, paths in (
            ("coordinator1", "Your care teams' messages",
             ["/triage/escalations", "/triage/audit", "/triage/patients",
              "/triage/identity?q=rivera", _identity_page("veteran1")]),
            ("admin1", "Administration", ["/admin/", "/admin/health", "/admin/users/new"])):
        other = open_tab(js=True, size=size)
        sign_in(other, who, home)
        for path in paths:
            other.page.goto(path)
            _fits(other.page, width, who + re.sub(r"\W+", "-", path))
        other.assert_clean()
    staff.page.goto("/triage/")
    expect(heading(staff.page)).to_have_text("Your care teams' messages")
    row = staff.page.locator("table.messages tbody tr").first
    for label in ("Patient", "Subject", "Due by", "Assigned to"):
        box = row.locator(f'td[data-label="{label}"]').bounding_box()
        assert box and box["x"] + box["width"] <= width + 1, (label, box)
    expect(row.locator('td[data-label="Subject"]')).to_contain_text(re.compile(r"messages?"))
    patient.assert_clean()
    staff.assert_clean()
    a11y.assert_clean()


def test_a_long_unbroken_subject_still_fits_a_phone(open_tab):
    patient = open_tab(js=False, size=(320, 640))
    page = patient.page
    sign_in(patient, "veteran1", "Inbox")
    page.goto("/compose")
    page.get_by_label("To (care team)").select_option(label="Primary Care Team Blue")
    page.get_by_label("Category").select_option("General")
    subject = "X" * 40 + uuid.uuid4().hex[:8]
    page.get_by_label("Subject", exact=True).fill(subject)
    page.get_by_label("Message", exact=True).fill("W" * 300)
    page.get_by_role("button", name="Send", exact=True).click()
    expect(heading(page)).to_have_text(subject)
    _fits(page, 320, "patient-long-words-thread")
    page.goto("/mailbox/sent")
    _fits(page, 320, "patient-long-words-sent")
    patient.assert_clean()

