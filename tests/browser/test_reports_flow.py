"""Response-time reports in a real Chromium, JavaScript on and off, on a desktop and a 320 px
phone: coordinator1 opens Reports and sees the share answered within 3 business days, the
median and a chart with its table; a message veteran2 sends adds one to "Messages received"
once nurse1 answers it; a period that runs backwards is refused with its reason and the dates
typed kept; the report downloads as CSV."""

import csv
import io
import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.support import (
    CARE_TEAM,
    JS_MODES,
    PHONE,
    assert_fits,
    compose_as,
    expected_422,
    heading,
    nav_link,
    sign_in,
)

pytestmark = pytest.mark.browser


def figure(page, name: str):
    """The value shown under a figure's name at the top of the report."""
    return page.locator(".report-figures div").filter(
        has=page.get_by_text(name, exact=True)).locator("dd")


@pytest.mark.parametrize("js", JS_MODES)
@pytest.mark.parametrize("size", [None, PHONE], ids=["desktop", "phone"])
def test_the_coordinator_reads_response_times(open_tab, a11y, js, size, tmp_path):
    coordinator = open_tab(js=js, size=size)
    page = coordinator.page
    sign_in(coordinator, "coordinator1", "Your care teams' messages")
    nav_link(page, "Reports").click()
    expect(heading(page)).to_have_text("Response times")
    received = int(figure(page, "Messages received").inner_text())
    expect(page.get_by_text("Answered within 3 business days", exact=True)).to_be_visible()
    expect(figure(page, "Median time to first reply")).to_have_text(re.compile(r"^[\d.]+ h$"))
    chart = page.get_by_role("img", name="Answered within 3 business days, by care team")
    expect(chart).to_be_visible()
    expect(page.get_by_role("table", name="Response times by care team")
           .get_by_role("rowheader", name=CARE_TEAM)).to_be_visible()
    if size:
        assert_fits(page)
    if js:
        a11y.check(coordinator, f"response times, {'phone' if size else 'desktop'}")

    # a new message, answered: one more received, and nurse1 among the first replies
    subject = f"Report check {uuid.uuid4().hex[:6]}"
    patient, patient_page = compose_as(open_tab, "veteran2", js=js)
    patient_page.get_by_label("To (care team)").select_option(label=CARE_TEAM)
    patient_page.get_by_label("Category").select_option("Appointments")
    patient_page.get_by_label("Subject", exact=True).fill(subject)
    patient_page.get_by_label("Message", exact=True).fill("Can I move my appointment?")
    patient_page.get_by_role("button", name="Send", exact=True).click()
    expect(patient_page.get_by_role("status").filter(has_text="Reference number:"))\
        .to_be_visible()
    nurse = open_tab(js=js)
    sign_in(nurse, "nurse1", "Your care teams' messages")
    nurse.page.goto("/search?q=" + subject.replace(" ", "+"))
    nurse.page.get_by_role("link", name=subject).click()
    nurse.page.get_by_label("Your reply").fill("Yes: call us and we'll move it.")
    nurse.page.get_by_role("button", name="Send reply").click()
    expect(nurse.page.get_by_text("Your reply was sent.")).to_be_visible()

    page.get_by_role("button", name="Show").click()
    expect(heading(page)).to_have_text("Response times")
    expect(figure(page, "Messages received")).to_have_text(str(received + 1))
    expect(page.get_by_role("table", name="First replies by staff member")
           .get_by_role("rowheader", name="Nurse Pat Lee, RN")).to_be_visible()

    # a period that runs backwards: refused, with the reason and the dates kept
    page.get_by_label("From", exact=True).fill("2026-11-30")
    page.get_by_label("To", exact=True).fill("2026-11-01")
    page.get_by_role("button", name="Show").click()
    problem = page.get_by_role("alert").filter(has_text="There is a problem")
    expect(problem).to_contain_text("The last date can't be before the first.")
    expect(page.get_by_label("From", exact=True)).to_have_value("2026-11-30")
    if size:
        assert_fits(page)
    page.get_by_label("To", exact=True).fill("2026-12-31")
    page.get_by_role("button", name="Show").click()
    expect(problem).to_have_count(0)

    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    path = tmp_path / "report.csv"
    download.value.save_as(path)
    rows = list(csv.reader(io.StringIO(path.read_text())))
    assert rows[0][:3] == ["Line", "Name", "Received"]
    assert any(r[:2] == ["Care team", CARE_TEAM] for r in rows)
    for tab in (coordinator, patient, nurse):
        tab.assert_clean(allow=expected_422)
    a11y.assert_clean()
