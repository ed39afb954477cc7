"""Site health as an admin sees it, JavaScript on and off, on a desktop and a 320 px phone:
the red banner when escalation has never run, its link to the health page, the table of
checks; a coordinator sees the banner too, a nurse does not."""

import pytest
from playwright.sync_api import expect

from tests.browser.support import JS_MODES, PHONE, heading, nav_link, sign_in

pytestmark = pytest.mark.browser

SIZES = [pytest.param(None, id="desktop"), pytest.param(PHONE, id="phone")]


def banner(page):
    return page.get_by_role("alert").filter(has_text="Site problem:")


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("js", JS_MODES)
def test_an_admin_follows_the_banner_to_site_health(open_tab, a11y, js, size):
    admin = open_tab(js=js, size=size)
    page = admin.page
    sign_in(admin, "admin1", "Administration")
    # No worker runs beside the test server: escalation has never run, and the banner says so.
    expect(banner(page)).to_contain_text("Escalation has never run")
    banner(page).get_by_role("link", name="See site health").click()
    expect(heading(page)).to_have_text("Site health")
    expect(page.get_by_role("alert").filter(has_text="problems found.")).to_be_visible()
    row = page.get_by_role("row").filter(has_text="Scheduled job escalate")
    expect(row).to_contain_text("Problem")
    expect(row).to_contain_text("has never run: is the worker running?")
    expect(page.get_by_role("row").filter(has_text="Database migrations")).to_contain_text("OK")
    if size:
        assert page.evaluate("document.documentElement.scrollWidth") <= size[0]
    if js:
        a11y.check(admin, f"site health ({'phone' if size else 'desktop'})")
    nav_link(page, "Administration").click()
    page.get_by_role("link", name="Site health").first.click()
    expect(heading(page)).to_have_text("Site health")
    admin.assert_clean()


@pytest.mark.parametrize("js", JS_MODES)
def test_a_coordinator_sees_the_banner_a_nurse_does_not(open_tab, js):
    coordinator = open_tab(js=js)
    sign_in(coordinator, "coordinator1", "Your care teams' messages")
    expect(banner(coordinator.page)).to_contain_text("Escalation has never run")
    # Only admins get the link to the health page.
    expect(banner(coordinator.page).get_by_role("link")).to_have_count(0)
    nurse = open_tab(js=js)
    sign_in(nurse, "nurse1", "Your care teams' messages")
    expect(banner(nurse.page)).to_have_count(0)
