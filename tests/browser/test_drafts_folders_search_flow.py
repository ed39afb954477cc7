"""Three of the patient's tools in Chromium: a draft that saves itself while typing, folders
made, filled and renamed (JavaScript on and off), and search's date errors going once the
dates are put right."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.support import (
    compose_as,
    heading,
    nav_link,
    row_of,
    sign_in,
    wait_for_htmx,
)

pytestmark = pytest.mark.browser


def test_drafts_save_themselves_while_typing(open_tab, a11y):
    patient, page = compose_as(open_tab)
    page.get_by_label("Subject", exact=True).fill("Autosaved question")
    page.get_by_label("Message", exact=True).press_sequentially("About my new medicine", delay=5)
    status = page.locator("#compose-form-autosave")
    expect(status).to_contain_text("Saved in Drafts at", timeout=10_000)
    expect(page).to_have_url(re.compile(r"/drafts/\d+$"))
    with page.expect_response(lambda r: r.request.method == "POST" and "/compose" in r.url,
                              timeout=10_000) as saved:
        page.get_by_label("Message", exact=True).press_sequentially(" and its side effects.")
    assert saved.value.status == 200
    expect(status).to_contain_text("Saved in Drafts at")
    a11y.check(patient, "compose after autosave")
    nav_link(page, "Drafts").click()
    expect(row_of(page, "Autosaved question")).to_have_count(1)  # one draft, not two
    row_of(page, "Autosaved question").get_by_role("link").click()
    expect(heading(page)).to_have_text("Edit draft")
    expect(page.get_by_label("Message", exact=True)).to_have_value(
        "About my new medicine and its side effects.")
    patient.assert_clean()
    a11y.assert_clean()


@pytest.mark.parametrize("js", [pytest.param(True, id="js"), pytest.param(False, id="nojs")])
def test_folder_create_move_rename(open_tab, a11y, js):
    import uuid

    name = f"Folder {'js' if js else 'nojs'} {uuid.uuid4().hex[:6]}"
    patient = open_tab(js=js)
    page = patient.page
    sign_in(patient, "veteran2", "Inbox")
    nav_link(page, "My folders").click()
    expect(heading(page)).to_have_text("My folders")
    page.get_by_label("Folder name").fill(name)
    page.get_by_role("button", name="Create folder").click()
    expect(page.get_by_text(f"The folder {name} was created.")).to_be_visible()
    if js:
        a11y.check(patient, "my folders")
    # someone on the team writes, so the thread reaches the Inbox
    nurse = open_tab(js=js)
    sign_in(nurse, "nurse1", "Your care teams' messages")
    nurse.page.get_by_role("link", name="Write to a patient").first.click()
    nurse.page.get_by_label("To (patient, care team)").select_option(label="Jordan Smith")
    nurse.page.get_by_label("Category").select_option("General")
    subject = f"Parking {uuid.uuid4().hex[:6]}"
    nurse.page.get_by_label("Subject", exact=True).fill(subject)
    nurse.page.get_by_label("Message", exact=True).fill("Use lot B on Tuesdays.")
    nurse.page.get_by_role("button", name="Send", exact=True).click()
    expect(nurse.page.get_by_text("Your message was sent to the patient.")).to_be_visible()

    nav_link(page, "Inbox").click()
    row = row_of(page, subject)
    row.get_by_role("checkbox").check()
    page.get_by_label("Move selected to").select_option(label=name)
    page.get_by_role("button", name="Move", exact=True).click()
    expect(page.get_by_text("The conversation was moved to")).to_be_visible()
    expect(row_of(page, subject)).to_have_count(0)
    if js:
        a11y.check(patient, "inbox with move controls")
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name=re.compile(f"^{name}")).click()
    expect(heading(page)).to_have_text(name)
    expect(row_of(page, subject)).to_have_count(1)

    nav_link(page, "My folders").click()
    page.get_by_label(f"New name for {name}").fill(name + " renamed")
    page.get_by_role("listitem").filter(has=page.get_by_role("heading", name=name)).get_by_role(
        "button", name="Rename").click()
    expect(page.get_by_text(f"The folder is now called {name} renamed.")).to_be_visible()

    # search for a word of the team's message and find the thread
    nav_link(page, "Search").click()
    expect(heading(page)).to_have_text("Search messages")
    wait_for_htmx(patient)  # the page was swapped in: let htmx finish wiring it first
    page.get_by_label("Words in the subject or message").fill("lot B tuesdays")
    if js:  # live results as the patient types
        expect(page.locator("#search-results")).to_contain_text(subject)
    else:
        page.get_by_role("button", name="Search").click()
    results = page.locator("#search-results")
    expect(results).to_contain_text(subject)
    expect(results.locator("mark").first).to_have_text(re.compile("lot", re.I))
    if js:
        a11y.check(patient, "search results")
    results.get_by_role("link", name=subject).click()
    expect(heading(page)).to_have_text(subject)
    patient.assert_clean()
    nurse.assert_clean()
    a11y.assert_clean()


def test_search_date_errors_go_when_the_dates_are_put_right(open_tab, a11y):
    """An htmx search swaps only its results; the errors beside the date fields, and the
    "Error:" of the title, must not outlive the dates that caused them."""
    patient = open_tab(js=True)
    page = patient.page
    sign_in(patient, "veteran1", "Inbox")
    nav_link(page, "Search").click()
    wait_for_htmx(patient)
    page.get_by_label("When").select_option(label="Choose dates")
    start_error = page.locator("#start-error")
    expect(start_error).to_contain_text("date")
    expect(page).to_have_title(re.compile(r"^Error: Search"))
    a11y.check(patient, "search with date errors")
    page.get_by_label("From").fill("2026-03-01")
    expect(start_error).to_have_count(0)
    expect(page.locator("#end-error")).to_contain_text("date")
    expect(page).to_have_title(re.compile(r"^Error: Search"))
    page.get_by_label("To").fill("2026-03-31")
    expect(page.locator("#end-error")).to_have_count(0)
    expect(page.locator("#search-results")).not_to_contain_text("There is a problem")
    expect(page).to_have_title(re.compile(r"^Search"))
    expect(page.get_by_label("To")).to_be_focused()  # the swap kept the person's place
    patient.assert_clean(allow=lambda p: "status of 422" in p)
    a11y.assert_clean()
