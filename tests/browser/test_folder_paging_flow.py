"""A long Inbox, page by page, in Chromium: Older and Newer, with JavaScript and without."""

import re
import uuid

import pytest
from playwright.sync_api import expect

from smweb.clock import utcnow
from smweb.extensions import db
from smweb.models import TriageGroup
from smweb.services import admin, messaging
from smweb.services.accounts import find_user
from smweb.services.demo import DEMO_PASSWORD
from tests.browser.support import LIVE, heading, sign_in

pytestmark = pytest.mark.browser


def patient_with_threads(count: int) -> str:
    """A new patient of Primary Care Team Blue with `count` answered threads."""
    username = f"pager-{uuid.uuid4().hex[:8]}"
    with LIVE["app"].app_context():
        patient = admin.create_user(None, username, "Pat Pager", "patient", "premium",
                                    DEMO_PASSWORD)
        blue = db.session.scalar(db.select(TriageGroup).where(
            TriageGroup.name == "Primary Care Team Blue"))
        patient.care_groups.append(blue)
        patient.opted_in_at = utcnow()
        db.session.commit()
        nurse = find_user("nurse1")
        for n in range(count):
            thread = messaging.send_new_message(patient, messaging.NewMessage(
                blue.id, "General", f"Long inbox {n:02d}", "A question.")).thread
            messaging.reply(nurse, thread, "An answer.")
        db.session.remove()
    return username


def subjects(page) -> list[str]:
    return re.findall(r"Long inbox \d\d", " ".join(
        page.get_by_role("row").all_inner_texts()))


@pytest.mark.parametrize("js", [pytest.param(True, id="js"), pytest.param(False, id="nojs")])
def test_older_and_newer_pages(open_tab, a11y, js):
    tab = open_tab(js=js)
    page = tab.page
    sign_in(tab, patient_with_threads(25), "Inbox")
    first = subjects(page)
    assert first == [f"Long inbox {n:02d}" for n in range(24, 14, -1)]
    pager = page.get_by_role("navigation", name="Pages")
    pager.get_by_role("link", name="Older").click()
    expect(pager.get_by_text("Page 2")).to_be_visible()
    assert subjects(page) == [f"Long inbox {n:02d}" for n in range(14, 4, -1)]
    pager.get_by_role("link", name="Older").click()
    expect(pager.get_by_text("Page 3")).to_be_visible()
    assert subjects(page) == [f"Long inbox {n:02d}" for n in range(4, -1, -1)]
    assert "after=" in page.url
    expect(pager.get_by_role("link", name="Older")).to_have_count(0)
    if js:
        a11y.check(tab, "inbox, page 3")
    pager.get_by_role("link", name="Newer").click()
    expect(pager.get_by_text("Page 2")).to_be_visible()
    assert subjects(page) == [f"Long inbox {n:02d}" for n in range(14, 4, -1)]
    pager.get_by_role("link", name="Newer").click()
    expect(pager.get_by_text("Page 1")).to_be_visible()
    assert subjects(page) == first
    expect(heading(page)).to_have_text("Inbox")
    tab.assert_clean()
    a11y.assert_clean()
