"""Send, as a hurried person presses it: files still uploading on a slow link, an autosave on
its way or not yet fired, a double click, Enter pressed twice, a file refused while Send
waits. Afterwards the message is in Sent exactly once with every chosen file (and no draft
is left behind), or the page says plainly why it was not sent and keeps what was written.

The slow link is Playwright's: a route that holds the upload (or autosave) requests for 2 s
before letting them through to the live server."""

import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from smweb.services.demo import DEMO_PASSWORD
from tests import samples
from tests.browser.support import (
    JS_MODES,
    PHONE,
    SIGN_IN_HEADING,
    assert_fits,
    expected_422,
    heading,
    nav_link,
    row_of,
    serve_demo,
    sign_in,
    start_message,
    wait_for_htmx,
)

pytestmark = pytest.mark.browser

@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    """A demo site of this module's own: the many messages sent here would push the other
    tests' new messages off the first page of their care team's queue."""
    with serve_demo(tmp_path_factory.mktemp("hurried")) as url:
        yield url


SIZES = [pytest.param(None, id="desktop"), pytest.param(PHONE, id="phone")]
DELAY_MS = 2_000


def slow_down(page: Page, *actions: str) -> list[str]:
    """Hold every message-form post whose button is one of `actions` ("attach",
    "autosave") for 2 s, as a slow link would; returns the list the held requests' actions
    are added to."""
    held: list[str] = []
    markers = {action: f'name="action"\r\n\r\n{action}\r\n'.encode() for action in actions}

    def hold(route):
        request = route.request
        body = request.post_data_buffer or b"" if request.method == "POST" else b""
        if found := [action for action, marker in markers.items() if marker in body]:
            held.extend(found)
            page.wait_for_timeout(DELAY_MS)
        route.continue_()

    page.route("**/*", hold)
    return held


def files(tmp_path: Path) -> dict[str, bytes]:
    chosen = {"lab.pdf": samples.pdf(f"lab {uuid.uuid4().hex}"), "rash.png": samples.png(4, 3)}
    for name, content in chosen.items():
        (tmp_path / name).write_bytes(content)
    return chosen


def assert_sent_once(page: Page, subject: str) -> None:
    """What the patient sees afterwards: the conversation, then Sent holding it once and
    Drafts not at all."""
    expect(heading(page)).to_have_text(subject)
    expect(page.get_by_role("status").filter(has_text="sent")).to_be_visible()
    nav_link(page, "Sent").click()
    expect(heading(page)).to_have_text("Sent")
    expect(row_of(page, subject)).to_have_count(1)
    nav_link(page, "Drafts").click()
    expect(heading(page)).to_have_text("Drafts")
    expect(row_of(page, subject)).to_have_count(0)


def nurse_downloads(open_tab, thread_url: str, subject: str, chosen: dict[str, bytes]) -> None:
    """The nurse opens the conversation (its link, as from the queue's notification) and
    downloads every file: the very bytes the patient chose."""
    nurse = open_tab()
    sign_in(nurse, "nurse1", "Your care teams' messages")
    nurse.page.goto(thread_url)
    expect(heading(nurse.page)).to_have_text(subject)
    for name, content in chosen.items():
        with nurse.page.expect_download() as info:
            nurse.page.get_by_role("link", name=name).click()
        assert Path(info.value.path()).read_bytes() == content
    nurse.assert_clean()


@pytest.mark.parametrize("size", SIZES)
def test_send_pressed_while_files_upload_on_a_slow_link(open_tab, tmp_path, size):
    chosen = files(tmp_path)
    subject = f"Hurried files {uuid.uuid4().hex[:8]}"
    patient = open_tab(size=size)
    page = patient.page
    sign_in(patient, "veteran1", "Inbox")
    held = slow_down(page, "attach")
    start_message(page, subject, "My lab results and a photo of the rash.")
    page.get_by_label("Choose files to attach").set_input_files(
        [tmp_path / name for name in chosen])
    # The progress line shows while the files go (it is `hidden` in the HTML: a text
    # browser never shows it).
    expect(page.get_by_role("status").filter(has_text="Uploading…")).to_be_visible()
    page.get_by_role("button", name="Send", exact=True).click()  # at once: still uploading
    expect(page.get_by_text("Your files are still uploading.")).to_be_visible()
    expect(heading(page)).to_have_text(subject)  # the Send waited for the upload, then went
    thread_url = page.url
    assert_sent_once(page, subject)
    assert held, "the upload was not slowed down: the test proved nothing"
    nurse_downloads(open_tab, thread_url, subject, chosen)
    patient.assert_clean()


def test_files_chosen_while_an_autosave_is_on_its_way(open_tab, tmp_path):
    """The upload waits in the form's queue behind a slow autosave; Send, pressed then, still
    says it waits for the files, and sends them."""
    chosen = files(tmp_path)
    subject = f"Queued upload {uuid.uuid4().hex[:8]}"
    patient = open_tab()
    page = patient.page
    sign_in(patient, "veteran1", "Inbox")
    held = slow_down(page, "autosave", "attach")
    start_message(page, subject, "Files behind an autosave.")
    page.get_by_label("Message", exact=True).press("Tab")  # leaving the field saves it
    for _ in range(50):  # until the autosave is on its (slow) way
        if "autosave" in held:
            break
        page.wait_for_timeout(100)
    page.get_by_label("Choose files to attach").set_input_files(
        [tmp_path / name for name in chosen])
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.get_by_text("Your files are still uploading.")).to_be_visible()
    expect(heading(page)).to_have_text(subject)
    for name in chosen:
        expect(page.get_by_role("link", name=name)).to_be_visible()
    assert_sent_once(page, subject)
    assert held[:2] == ["autosave", "attach"], held  # the upload went after the autosave
    patient.assert_clean()


def test_send_without_javascript_carries_the_chosen_files(open_tab, tmp_path):
    """No script: choosing files does nothing by itself; Send posts them with the message."""
    chosen = files(tmp_path)
    subject = f"Files with Send {uuid.uuid4().hex[:8]}"
    patient = open_tab(js=False, size=PHONE)
    page = patient.page
    sign_in(patient, "veteran1", "Inbox")
    start_message(page, subject, "Both files, sent at once.")
    page.get_by_label("Choose files to attach").set_input_files(
        [tmp_path / name for name in chosen])
    page.get_by_role("button", name="Send", exact=True).click()
    for name in chosen:
        expect(page.get_by_role("link", name=name)).to_be_visible()
    thread_url = page.url
    assert_sent_once(page, subject)
    nurse_downloads(open_tab, thread_url, subject, chosen)
    patient.assert_clean()


def double_click(send) -> None:
    send.dblclick()


def enter_twice(send) -> None:
    send.focus()
    send.page.keyboard.press("Enter")
    send.page.keyboard.press("Enter")


@pytest.mark.parametrize("press", [double_click, enter_twice])
@pytest.mark.parametrize("js", JS_MODES)
def test_send_pressed_twice_sends_once(open_tab, js, press):
    subject = f"Pressed twice {uuid.uuid4().hex[:8]}"
    patient = open_tab(js=js)
    page = patient.page
    sign_in(patient, "veteran1", "Inbox")
    start_message(page, subject, "Pressed twice, wanted once.")
    press(page.get_by_role("button", name="Send", exact=True))
    assert_sent_once(page, subject)
    patient.assert_clean(allow=lambda p: "net::ERR_ABORTED" in p)  # the first post, cut short


@pytest.mark.parametrize("size", SIZES)
def test_send_before_the_autosave_fires_or_while_it_is_on_its_way(open_tab, size):
    """Typing, then Send at once: the autosave (3 s after the last key) has not fired yet,
    and the one that leaving the field starts is held 2 s on the way."""
    subject = f"Quick send {uuid.uuid4().hex[:8]}"
    patient = open_tab(size=size)
    page = patient.page
    sign_in(patient, "veteran1", "Inbox")
    held = slow_down(page, "autosave")
    start_message(page, subject, "")
    page.get_by_label("Message", exact=True).press_sequentially("Typed fast, sent faster.")
    page.get_by_role("button", name="Send", exact=True).click()
    assert_sent_once(page, subject)
    assert held, "no autosave was on its way: the test proved nothing"
    row = nav_link(page, "Sent")
    row.click()
    row_of(page, subject).get_by_role("link").click()
    expect(page.get_by_text("Typed fast, sent faster.")).to_be_visible()
    patient.assert_clean()


def test_a_refused_file_holds_the_waiting_send(open_tab, tmp_path):
    """Send pressed while a file uploads that the server then refuses: the message is not
    sent without it, and the page says so; the text stays."""
    (tmp_path / "scan.pdf").write_bytes(b"<html>not a pdf</html>")
    subject = f"Refused file {uuid.uuid4().hex[:8]}"
    patient = open_tab(size=PHONE)
    page = patient.page
    sign_in(patient, "veteran1", "Inbox")
    slow_down(page, "attach")
    start_message(page, subject, "The scan is attached.")
    page.get_by_label("Choose files to attach").set_input_files([tmp_path / "scan.pdf"])
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.get_by_text("Your message has not been sent: a file was not accepted")
           ).to_be_visible()
    expect(page.get_by_text("scan.pdf: the file's content is not a real .pdf file.").first
           ).to_be_visible()
    expect(page.get_by_label("Message", exact=True)).to_have_value("The scan is attached.")
    wait_for_htmx(patient)
    nav_link(page, "Sent").click()
    expect(row_of(page, subject)).to_have_count(0)
    nav_link(page, "Drafts").click()
    expect(row_of(page, subject)).to_have_count(1)  # what was written is kept
    patient.assert_clean(allow=expected_422)


@pytest.mark.parametrize("js", JS_MODES)
def test_staff_reply_with_a_file_pressed_while_it_uploads(open_tab, tmp_path, js):
    chosen = {"plan.pdf": samples.pdf(f"plan {uuid.uuid4().hex}")}
    (tmp_path / "plan.pdf").write_bytes(chosen["plan.pdf"])
    subject = f"Reply files {uuid.uuid4().hex[:8]}"
    patient = open_tab()
    sign_in(patient, "veteran1", "Inbox")
    start_message(patient.page, subject, "Please send the plan.")
    patient.page.get_by_role("button", name="Send", exact=True).click()
    expect(heading(patient.page)).to_have_text(subject)
    thread_url = patient.page.url

    nurse = open_tab(js=js)
    page = nurse.page
    sign_in(nurse, "nurse1", "Your care teams' messages")
    if js:
        slow_down(page, "attach")
    page.goto(thread_url)
    page.get_by_label("Your reply").fill("Here is the plan.")
    page.get_by_label("Choose files to attach").set_input_files([tmp_path / "plan.pdf"])
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_role("status").filter(has_text="reply was sent")).to_be_visible()
    expect(page.get_by_role("link", name="plan.pdf")).to_be_visible()
    nurse.assert_clean()

    patient.page.reload()
    expect(patient.page.get_by_text("Here is the plan.")).to_be_visible()
    with patient.page.expect_download() as info:
        patient.page.get_by_role("link", name="plan.pdf").click()
    assert Path(info.value.path()).read_bytes() == chosen["plan.pdf"]
    patient.assert_clean()


@pytest.mark.parametrize("js", JS_MODES)
def test_send_after_the_session_timed_out_keeps_the_message(open_tab, tmp_path, clock, js):
    """Written slowly (no autosave without JavaScript), sent after the idle timeout: the
    sign-in page says the message was not sent and is kept; signing in opens it again, with
    its file, and Send then sends it."""
    (tmp_path / "notes.txt").write_bytes(b"what the doctor said")
    subject = f"Slow letter {uuid.uuid4().hex[:8]}"
    patient = open_tab(js=js, size=PHONE)
    page = patient.page
    sign_in(patient, "veteran1", "Inbox")
    start_message(page, subject, "Written over a long time.")
    if js:  # the text was kept as it was typed; Send is then the only request on its way
        page.get_by_label("Message", exact=True).press("Tab")
        expect(page.locator("#compose-form-autosave")).to_contain_text("Saved in Drafts at")
        wait_for_htmx(patient)
    else:  # no autosave without JavaScript: the Send carries the text, and the file
        page.get_by_label("Choose files to attach").set_input_files([tmp_path / "notes.txt"])
    clock.advance(minutes=31)  # the patient's idle time (30 minutes) is over
    page.get_by_role("button", name="Send", exact=True).click()
    expect(heading(page)).to_have_text(SIGN_IN_HEADING)
    expect(page.get_by_text("Your message has not been sent: what you wrote and attached "
                            "is saved as a draft")).to_be_visible()
    expect(page.get_by_text("Written over a long time.")).to_have_count(0)
    page.get_by_label("Username").fill("veteran1")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(heading(page)).to_have_text("Edit draft")
    expect(page.get_by_label("Message", exact=True)).to_have_value("Written over a long time.")
    if not js:
        expect(page.get_by_role("list", name="Attached files")).to_contain_text("notes.txt")
    page.get_by_role("button", name="Send", exact=True).click()
    assert_sent_once(page, subject)
    # The htmx posts (the autosave of leaving the field, then Send) are each answered 401
    # with the sign-in page to go to: going there cuts short whatever was still on its way
    # (the Send, or the other answer's navigation); each kept the text, in the same draft.
    patient.assert_clean(allow=lambda p: "status of 401" in p or "ERR_ABORTED" in p)


def test_patient_reply_and_staff_new_message_pressed_while_a_file_uploads(open_tab, tmp_path):
    """The two other message forms, the same hurry: Send while the file is on a slow link."""
    content = samples.pdf(f"plan {uuid.uuid4().hex}")
    (tmp_path / "letter.pdf").write_bytes(content)
    subject = f"Staff first {uuid.uuid4().hex[:8]}"

    nurse = open_tab()
    page = nurse.page
    sign_in(nurse, "nurse1", "Your care teams' messages")
    slow_down(page, "attach")
    nav_link(page, "Write to a patient").click()
    page.get_by_label("To (patient, care team)").select_option(label="Alex Rivera")
    page.get_by_label("Category").select_option("General")
    page.get_by_label("Subject", exact=True).fill(subject)
    page.get_by_label("Message", exact=True).fill("Your letter is attached.")
    page.get_by_label("Choose files to attach").set_input_files([tmp_path / "letter.pdf"])
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.get_by_text("Your files are still uploading.")).to_be_visible()
    expect(heading(page)).to_have_text(subject)
    expect(page.get_by_role("link", name="letter.pdf")).to_be_visible()
    thread_url = page.url
    nurse.assert_clean()

    patient = open_tab(size=PHONE)
    page = patient.page
    sign_in(patient, "veteran1", "Inbox")
    slow_down(page, "attach")
    page.goto(thread_url)
    with page.expect_download() as info:
        page.get_by_role("link", name="letter.pdf").click()
    assert Path(info.value.path()).read_bytes() == content
    (tmp_path / "signed.pdf").write_bytes(samples.pdf("signed"))
    page.get_by_label("Your reply").fill("Signed and sent back.")
    page.get_by_label("Choose files to attach").set_input_files([tmp_path / "signed.pdf"])
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_text("Your files are still uploading.")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Your message was sent.")).to_be_visible()
    expect(page.get_by_role("link", name="signed.pdf")).to_be_visible()
    expect(page.get_by_text("Signed and sent back.")).to_be_visible()
    assert_fits(page)
    patient.assert_clean()
