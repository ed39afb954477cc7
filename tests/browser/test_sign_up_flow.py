"""Getting in and back in, in a real Chromium with JavaScript on and off (without it on a
320 px phone): a person signs up, opens the link in the email (the live site writes each
email into its outbox folder), has a basic account, is verified in person by clerk1 (who
first forgets the photo-ID box), accepts the terms and writes to the care team; and someone
who forgot the password asks for a link, opens it, chooses a new password and is signed in."""

import uuid
from pathlib import Path

import pytest
from playwright.sync_api import expect

from smweb.clock import utcnow
from smweb.extensions import db
from smweb.models import Preferences, TriageGroup
from smweb.models.people import AccountLevel
from smweb.services import accounts
from tests.browser.support import (
    CARE_TEAM,
    JS_MODES,
    LIVE,
    PHONE,
    SIGN_IN_HEADING,
    assert_fits,
    expected_422,
    heading,
    nav_link,
    notice,
    sign_in,
    start_message,
)
from tests.mailrelay import link_in

pytestmark = pytest.mark.browser

PASSWORD = "a heron waits by the cold river"  # noqa: S105 - a test account's


def email_to(username: str, path: str) -> str:
    """The link in the newest email the live site wrote for this account."""
    outbox = Path(LIVE["app"].config["MAIL_OUTBOX"])
    for eml in sorted(outbox.glob("*.eml"), key=lambda f: f.stat().st_mtime, reverse=True):
        content = eml.read_text()
        if f"username {username}" in content and path in content:
            return link_in(content, path)
    raise AssertionError(f"no email with {path} for {username} in {outbox}")


@pytest.mark.parametrize("js", JS_MODES)
def test_sign_up_confirm_the_address_and_wait_for_the_desk(open_tab, a11y, js):
    username = f"new-{'js' if js else 'nojs'}-{uuid.uuid4().hex[:6]}"
    tab = open_tab(js=js, size=None if js else PHONE)
    page = tab.page
    page.goto("/sign-in")
    page.get_by_role("link", name="Sign up").click()
    expect(heading(page)).to_have_text("Sign up for Secure Messaging")
    if js:
        a11y.check(tab, "sign up")
    else:
        assert_fits(page)
    page.get_by_label("Your full name").fill("Jordan Lee")
    page.get_by_label("Choose a username").fill(username)
    page.get_by_label("Email address").fill(f"{username}@example.org")
    page.get_by_label("Choose a password").fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD + " typo")
    page.get_by_role("button", name="Make my account").click()
    expect(page.get_by_text("The two passwords differ.").first).to_be_visible()
    expect(page.get_by_label("Choose a username")).to_have_value(username)  # kept
    page.get_by_label("Choose a password").fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Make my account").dblclick()  # in a hurry
    expect(heading(page)).to_have_text("Confirm your email address")
    expect(notice(page, "Your account is made.")).to_be_visible()
    expect(page.get_by_text(f"{username}@example.org").first).to_be_visible()
    if js:
        a11y.check(tab, "confirm your email address")
    else:
        assert_fits(page)
    page.goto("/mailbox/inbox")
    expect(heading(page)).to_have_text("Confirm your email address")  # held here

    page.goto(email_to(username, "/confirm-email/"))
    expect(heading(page)).to_have_text("Confirm your email address")
    page.get_by_role("button", name="Confirm my email address").click()
    expect(heading(page)).to_have_text("Secure messaging needs a premium account")
    expect(notice(page, "Your email address is confirmed.")).to_be_visible()
    expect(page.get_by_text(f"Tell them your username: {username}")).to_be_visible()
    if not js:
        assert_fits(page)

    # At the desk, clerk1 checks the photo ID and verifies the account.
    clerk = open_tab(js=js)
    sign_in(clerk, "clerk1", "Your care teams' messages")
    nav_link(clerk.page, "Verify identity").click()
    expect(heading(clerk.page)).to_have_text("Verify a patient's identity")
    clerk.page.get_by_label("Username, email address or name").fill(username)
    clerk.page.get_by_role("button", name="Find").click()
    clerk.page.get_by_role("link", name="Jordan Lee").click()
    expect(heading(clerk.page)).to_have_text("Jordan Lee")
    clerk.page.get_by_role("button", name="Verify identity").click()  # too fast: no tick
    expect(clerk.page.get_by_role("alert").first).to_be_visible()
    clerk.page.get_by_label(CARE_TEAM).check()
    clerk.page.get_by_label("I checked a photo ID in person").check()
    clerk.page.get_by_role("button", name="Verify identity").click()
    expect(clerk.page.get_by_text("Identity verified by Clerk Robin Diaz on")).to_be_visible()
    if js:
        a11y.check(clerk, "an account verified in person")
    clerk.assert_clean(allow=expected_422)

    # The patient's next click: premium now; the terms, then a message to the team.
    page.goto("/mailbox/inbox")
    expect(heading(page)).to_have_text("Before you use Secure Messaging")
    page.get_by_label("I have read and accept these terms.").check()
    page.get_by_role("button", name="Accept and continue").click()
    expect(heading(page)).to_have_text("Inbox")
    subject = f"Hello from {username}"[:50]
    start_message(page, subject, "My first message, after the desk checked my ID.")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(notice(page, "Your message was sent.")).to_be_visible()
    expect(heading(page)).to_have_text(subject)
    tab.assert_clean(allow=expected_422)


def _patient_with_email(username: str) -> None:
    """A premium patient of Team Blue, opted in, with an email address for notices."""
    with LIVE["app"].app_context():
        person = accounts.create_user(username, PASSWORD, "Casey Morgan",
                                      account_level=AccountLevel.PREMIUM, opted_in_at=utcnow())
        person.care_groups.append(db.session.scalar(
            db.select(TriageGroup).where(TriageGroup.name == CARE_TEAM)))
        db.session.flush()
        db.session.add(Preferences(user_id=person.id, email=f"{username}@example.org"))
        db.session.commit()
        db.session.remove()


@pytest.mark.parametrize("js", JS_MODES)
def test_forgot_password_then_a_new_one_and_signed_in(open_tab, a11y, js):
    username = f"forgot-{'js' if js else 'nojs'}-{uuid.uuid4().hex[:6]}"
    _patient_with_email(username)
    tab = open_tab(js=js, size=None if js else PHONE)
    page = tab.page
    page.goto("/sign-in")
    page.get_by_role("link", name="Forgot your password?").click()
    expect(heading(page)).to_have_text("Forgot your password?")
    page.get_by_label("Username or email address").fill(f"{username}@example.org")
    page.get_by_role("button", name="Send me a link").click()
    expect(heading(page)).to_have_text("Check your email")
    if js:
        a11y.check(tab, "check your email")
    else:
        assert_fits(page)

    page.goto(email_to(username, "/reset-password/"))
    expect(heading(page)).to_have_text("Choose a new password")
    new = "seven otters nap under the bridge"
    page.get_by_label("New password", exact=True).fill(new)
    page.get_by_label("New password again").fill(new)
    page.get_by_role("button", name="Set my new password").click()
    expect(heading(page)).to_have_text("Inbox")
    expect(notice(page, "Your new password is set, and you are signed in.")).to_be_visible()
    if not js:
        assert_fits(page)

    # the new password signs in; the link does not work again
    page.goto(email_to(username, "/reset-password/"))
    expect(heading(page)).to_have_text("This link does not work")
    expect(page.get_by_text("This link was already used")).to_be_visible()
    tab.assert_clean(allow=lambda problem: expected_422(problem) or "status of 410" in problem)
    other = open_tab(js=js)
    other.page.goto("/sign-in")
    expect(heading(other.page)).to_have_text(SIGN_IN_HEADING)
    other.page.get_by_label("Username").fill(username)
    other.page.get_by_label("Password").fill(new)
    other.page.get_by_role("button", name="Sign in").click()
    expect(heading(other.page)).to_have_text("Inbox")
