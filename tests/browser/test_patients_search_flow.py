"""The coordinator finds a patient by part of a name, in Chromium: JavaScript on (the list
comes as a fragment, the URL says what was searched) and off (a plain GET form), and on a
320 px phone, where the list's rows stack and nothing is wider than the screen."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.support import (
    PHONE,
    assert_fits,
    assert_no_full_load,
    heading,
    nav_link,
    set_marker,
    sign_in,
    wait_for_htmx,
)

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(("js", "size"), [
    pytest.param(True, None, id="js"),
    pytest.param(False, None, id="nojs"),
    pytest.param(True, PHONE, id="js-320"),
])
def test_the_coordinator_finds_a_patient_by_part_of_a_name(open_tab, a11y, js, size):
    tab = open_tab(js=js, size=size)
    page = tab.page
    sign_in(tab, "coordinator1", "Your care teams' messages")
    nav_link(page, "Patients").click()
    expect(heading(page)).to_have_text("Patients of your facility")
    patients = page.locator("#patient-list")
    expect(patients.get_by_role("link", name="Jordan Smith")).to_be_visible()
    wait_for_htmx(tab)  # the page was swapped in: let htmx finish wiring its form first
    set_marker(tab)

    page.get_by_label("Name or username").fill("rIVe")
    if js:  # the list follows the typing; Search asks again for the same
        expect(patients.get_by_role("link", name="Jordan Smith")).to_have_count(0)
    page.get_by_role("button", name="Search").click()
    wait_for_htmx(tab)
    expect(page).to_have_url(re.compile(r"/triage/patients\?q=rIVe$"))
    expect(patients.get_by_role("link", name="Alex Rivera")).to_be_visible()
    expect(patients.get_by_role("link", name="Jordan Smith")).to_have_count(0)
    expect(page.get_by_label("Name or username")).to_have_value("rIVe")
    assert_no_full_load(tab, "Search")
    if size:
        assert_fits(page)
        username = patients.locator('td[data-label="Username"]').first
        label = username.evaluate("e => getComputedStyle(e, '::before').content")
        assert label == '"Username: "', label  # stacked: the cell says what it is
    if js:
        a11y.check(tab, f"patients searched ({'phone' if size else 'wide'})")

    patients.get_by_role("link", name="Alex Rivera").click()
    expect(heading(page)).to_have_text("Alex Rivera")
    expect(page.get_by_role("heading", name="Restrictions")).to_be_visible()
    if size:
        assert_fits(page)
    tab.assert_clean()
    a11y.assert_clean()
