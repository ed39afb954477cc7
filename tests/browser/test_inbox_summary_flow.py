"""The Inbox's "Waiting for you", in a real Chromium with JavaScript on and off (on
a 320 px phone without it): veteran1 sees his new replies by team and the reply still
expected from Cardiology, and its link opens that conversation."""

import pytest
from playwright.sync_api import expect

from tests.browser.support import JS_MODES, PHONE, assert_fits, heading, sign_in

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("js", JS_MODES)
def test_the_inbox_says_what_waits(open_tab, a11y, js):
    tab = open_tab(js=js, size=None if js else PHONE)
    page = tab.page
    sign_in(tab, "veteran1", "Inbox")
    waiting = page.get_by_role("region", name="Waiting for you")
    expect(waiting).to_contain_text("new repl")
    expected = waiting.get_by_role("listitem").filter(
        has_text="A reply from Cardiology is expected by")
    expect(expected).to_be_visible()
    if js:
        a11y.check(tab, "inbox with its summary")
    else:
        assert_fits(page)
    expected.get_by_role("link").click()
    expect(heading(page)).to_have_text("Echo results question")
    tab.assert_clean()
    a11y.assert_clean()
