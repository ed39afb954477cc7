"""The right team, in a real Chromium with JavaScript on and off (on a 320 px phone without
it): Compose groups veteran2's care teams (written to lately first, then by facility), and
"Can't find your care team?" folds open in place, with what he typed still there."""

import pytest
from playwright.sync_api import expect

from tests.browser.support import JS_MODES, PHONE, assert_fits, nav_link, sign_in, wait_for_htmx

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("js", JS_MODES)
def test_compose_groups_the_teams_and_explains_a_missing_one(open_tab, a11y, js):
    tab = open_tab(js=js, size=None if js else PHONE)
    page = tab.page
    sign_in(tab, "veteran2", "Inbox")
    nav_link(page, "Compose").click()
    wait_for_htmx(tab)
    recipient = page.get_by_label("To (care team)")
    groups = recipient.locator("optgroup")
    expect(groups.first).to_have_attribute("label", "Written to in the last 6 months")
    expect(groups.first.locator("option")).to_have_text(["Primary Care Team Blue"])
    page.get_by_label("Message", exact=True).fill("Which team handles my hearing aids?")
    page.get_by_text("Can't find your care team?").click()
    expect(page.get_by_text("You have not hidden any of your care teams.")).to_be_visible()
    expect(page.get_by_text("ask the clinic to add you")).to_be_visible()
    expect(page.get_by_label("Message", exact=True)).to_have_value(
        "Which team handles my hearing aids?")
    if js:
        a11y.check(tab, "compose with the missing-team help open")
    else:
        assert_fits(page)
    tab.assert_clean()
    a11y.assert_clean()
