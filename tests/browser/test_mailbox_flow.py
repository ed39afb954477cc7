"""The rest of the patient's mailbox in Chromium."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_message_loop import heading, nav_link, row_of, sign_in

pytestmark = pytest.mark.browser


def test_drafts_save_themselves_while_typing(open_tab, a11y):
    patient = open_tab(js=True)
    page = patient.page
    sign_in(patient, "veteran1", "Inbox")
    nav_link(page, "Compose").click()
    page.get_by_label("Subject", exact=True).fill("Autosaved question")
    page.get_by_label("Message", exact=True).press_sequentially("About my new medicine", delay=5)
    status = page.locator("#compose-form-autosave")
    expect(status).to_contain_text("Draft saved at", timeout=10_000)
    expect(page).to_have_url(re.compile(r"/drafts/\d+$"))
    with page.expect_response(lambda r: r.request.method == "POST" and "/compose" in r.url,
                              timeout=10_000) as saved:
        page.get_by_label("Message", exact=True).press_sequentially(" and its side effects.")
    assert saved.value.status == 200
    expect(status).to_contain_text("Draft saved at")
    a11y.check(patient, "compose after autosave")
    nav_link(page, "Drafts").click()
    expect(row_of(page, "Autosaved question")).to_have_count(1)  # one draft, not two
    row_of(page, "Autosaved question").get_by_role("link").click()
    expect(heading(page)).to_have_text("Edit draft")
    expect(page.get_by_label("Message", exact=True)).to_have_value(
        "About my new medicine and its side effects.")
    patient.assert_clean()
    a11y.assert_clean()
