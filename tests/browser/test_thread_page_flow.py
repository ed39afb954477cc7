"""The thread page, as each side uses it: a patient files the conversation from it (to their
own folder, to Deleted and back), with and without JavaScript; a clinician on a 1280x800
screen sees the patient's latest message and the reply box first, the staff panel beside
them (below them on a phone)."""

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import (
    JS_MODES,
    PHONE,
    assert_fits,
    heading,
    nav_link,
    row_of,
    serve_demo,
    sign_in,
    start_message,
)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    """A demo site of this module's own: moving the demo's threads changes the folders."""
    with serve_demo(tmp_path_factory.mktemp("thread-page")) as url:
        yield url


def move_to(page: Page, destination: str) -> None:
    page.get_by_label("Move this conversation to").select_option(label=destination)
    page.get_by_role("button", name="Move", exact=True).click()
    expect(page.get_by_role("status").filter(
        has_text=f"The conversation was moved to {destination}.")).to_be_visible()


def folder_shown(page: Page) -> str:
    return page.locator(".thread-meta div").filter(has_text="Folder").locator("dd").inner_text()


@pytest.mark.parametrize("js", JS_MODES)
def test_patient_moves_the_conversation_from_its_page(open_tab, a11y, js):
    folder = f"Benefits {'js' if js else 'nojs'}"
    patient = open_tab(js=js, size=PHONE)
    page = patient.page
    sign_in(patient, "veteran1", "Inbox")
    nav_link(page, "My folders").click()
    page.get_by_label("Folder name", exact=True).fill(folder)
    page.get_by_role("button", name="Create folder").click()
    expect(page.get_by_role("status").filter(has_text=folder)).to_be_visible()

    nav_link(page, "Inbox").click()
    first = page.get_by_role("row").nth(1)
    subject = re.sub(r"^unread\s*", "", first.get_by_role("link").inner_text(), flags=re.I)
    first.get_by_role("link").click()
    expect(heading(page)).to_have_text(subject)
    thread_url = page.url
    assert folder_shown(page) == "Inbox"
    if js:
        a11y.check(patient, "thread page with its move form (patient, phone)")

    move_to(page, "Deleted")  # and back: nothing is lost by a wrong choice
    assert page.url == thread_url and folder_shown(page) == "Deleted"
    move_to(page, "Inbox")
    assert folder_shown(page) == "Inbox"
    move_to(page, folder)
    assert folder_shown(page) == folder
    nav_link(page, folder).click()
    expect(row_of(page, subject)).to_have_count(1)
    nav_link(page, "Inbox").click()
    expect(row_of(page, subject)).to_have_count(0)
    patient.assert_clean()
    a11y.assert_clean()


def test_clinician_sees_the_latest_message_and_the_reply_box_first(open_tab, a11y):
    subject = f"Dizzy {uuid.uuid4().hex[:8]}"
    body = ("I have been dizzy every morning this week.\n"
            "It lasts about ten minutes after I stand up.\n"
            "I started the new blood pressure pills on Monday.\n"
            "Should I keep taking them?")
    patient = open_tab()
    sign_in(patient, "veteran1", "Inbox")
    start_message(patient.page, subject, body)
    patient.page.get_by_role("button", name="Send", exact=True).click()
    expect(heading(patient.page)).to_have_text(subject)
    thread_url = patient.page.url

    for size in ((1280, 800), PHONE):
        nurse = open_tab(size=size)
        page = nurse.page
        sign_in(nurse, "nurse1", "Your care teams' messages")
        page.goto(thread_url)
        expect(heading(page)).to_have_text(subject)
        latest = page.locator("li.message--patient").last
        reply = page.get_by_label("Your reply")
        panel = page.get_by_role("complementary")
        expect(latest).to_contain_text("Should I keep taking them?")
        latest_box, reply_box, panel_box = (
            latest.bounding_box(), reply.bounding_box(), panel.bounding_box())
        if size == PHONE:  # one column: the messages, the reply, then the panel
            assert panel_box["y"] > reply_box["y"] + reply_box["height"]
            assert_fits(page)
            continue
        # nothing scrolled: the patient's whole latest message and the top of the reply box
        assert latest_box["y"] + latest_box["height"] <= size[1], latest_box
        assert reply_box["y"] < size[1], reply_box
        assert panel_box["x"] >= latest_box["x"] + latest_box["width"]  # beside, not above
        expect(panel.get_by_text("Status")).to_be_visible()
        expect(panel.get_by_label("Assign to")).to_have_value("0")  # "Choose a person"
        # saving to the record destroys nothing: not in the red of a dangerous action
        save = page.get_by_role("button", name="Save this message to the medical record")
        assert save.first.evaluate("b => getComputedStyle(b).color") != "rgb(181, 9, 9)"
        a11y.check(nurse, "staff thread page at 1280x800")
        nurse.assert_clean()
    patient.assert_clean()
    a11y.assert_clean()


def contrast(first: str, second: str) -> float:
    """WCAG contrast ratio of two CSS rgb() colours."""
    def luminance(css: str) -> float:
        channels = [int(v) / 255 for v in re.findall(r"\d+", css)[:3]]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    high, low = sorted((luminance(first), luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("js", JS_MODES)
def test_focus_is_visible_and_errors_take_it(open_tab, js):
    """The focus ring is 3:1 against the page and the header; a form's error summary takes
    the focus, with JavaScript off too."""
    patient = open_tab(js=js)
    page = patient.page
    sign_in(patient, "veteran1", "Inbox")
    for where, link in (("header", page.get_by_role("banner").get_by_role("link").first),
                        ("page", page.get_by_role("main").get_by_role("link").first)):
        link.focus()
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Tab")  # focused from the keyboard: :focus-visible
        ring, background = link.evaluate("""l => {
            let e = l.parentElement, bg = 'rgba(0, 0, 0, 0)';  // the ring is drawn outside
            while (e && (bg === 'rgba(0, 0, 0, 0)' || bg === 'transparent')) {
                bg = getComputedStyle(e).backgroundColor; e = e.parentElement; }
            return [getComputedStyle(l).outlineColor, bg === 'rgba(0, 0, 0, 0)' ?
                    'rgb(255, 255, 255)' : bg]; }""")
        assert contrast(ring, background) >= 3, (where, ring, background)
    nav_link(page, "Compose").click()
    page.get_by_role("button", name="Send", exact=True).click()  # nothing filled in
    summary = page.get_by_role("alert").filter(has_text="There is a problem")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    patient.assert_clean(allow=lambda p: "status of 422" in p)
