"""The right team: Compose lists the care teams a patient wrote to in the last 6 months
first, then the rest by facility (optgroups, no JavaScript needed); "Can't find your care
team?" says why one may be missing (hidden from the contact list, restricted, not connected)
for this patient, folded open in Compose and on a page of its own."""

import re
from datetime import timedelta

from smweb.clock import utcnow
from smweb.extensions import db
from smweb.models import Facility, TriageGroup
from smweb.services import blocking, messaging, preferences
from tests.support import care_team, patient, sign_in, staff, user


def _site(app, clock):
    with app.app_context():
        north = Facility(name="North Medical Center", timezone="America/New_York",
                         phone="555-0101")
        south = Facility(name="Aardvark Clinic", timezone="America/Chicago", phone="555-0102")
        recent = care_team("Recent Team", facility=north)
        older = care_team("Older Team", facility=north)
        never = care_team("Never Team", facility=south)
        pat = patient(recent, older, never, username="teams1")
        now = utcnow()
        for team, days in ((older, 240), (recent, 60)):
            clock.set(now - timedelta(days=days))
            messaging.send_new_message(pat, messaging.NewMessage(
                team.id, "General", f"To {team.name}", "Hello."))
        clock.set(now)
        return {"recent": recent.id, "older": older.id, "never": never.id}


def _groups(html: str) -> list[tuple[str, list[str]]]:
    select = html[html.index('<select') : html.index("</select>")]
    return [(label, re.findall(r">([^<]+)</option>", body))
            for label, body in re.findall(r'<optgroup label="([^"]+)">(.*?)</optgroup>', select)]


def test_recent_teams_come_first_then_each_facility(app, clock):
    teams = _site(app, clock)
    browser = app.test_client()
    assert sign_in(browser, "teams1").status_code == 303
    page = browser.get("/compose").text
    assert _groups(page) == [("Written to in the last 6 months", ["Recent Team"]),
                             ("Aardvark Clinic", ["Never Team"]),
                             ("North Medical Center", ["Older Team"])]
    assert "<summary>Can't find your care team?</summary>" in page
    with app.app_context():
        assert [heading for heading, _ in preferences.compose_teams(user("teams1")).groups] \
            == ["Written to in the last 6 months", "Aardvark Clinic", "North Medical Center"]
    assert teams


def test_a_missing_team_is_explained_for_this_patient(app, clock):
    teams = _site(app, clock)
    with app.app_context():
        pat = user("teams1")
        preferences.save(pat, signature_name="", signature_title="",
                         signature_by_default=False, notify="none", email="",
                         shown_group_ids=[teams["recent"], teams["never"]])
        coordinator = staff(username="southcoord")
        coordinator.coordinator_of_id = db.session.get(TriageGroup, teams["never"]).facility_id
        blocking.block(coordinator, pat, "new", teams["never"], "Misuse")
        db.session.commit()
    browser = app.test_client()
    assert sign_in(browser, "teams1").status_code == 303
    page = browser.get("/compose").text
    assert _groups(page) == [("Written to in the last 6 months", ["Recent Team"])]
    help_page = browser.get("/compose/find-your-team")
    assert help_page.status_code == 200
    text = help_page.text
    assert "You chose not to see <strong>Older Team</strong> in Compose." in text
    assert "New messages to <strong>Never Team</strong> are restricted for now." in text
    assert "ask the clinic to add you, or call the help desk at 555-0199" in text
    assert 'href="/preferences#contact-list"' in text
    assert "You chose not to see <strong>Older Team</strong>" in page  # folded in Compose


def test_a_patient_with_nothing_hidden_is_told_so(app):
    browser = app.test_client()
    assert sign_in(browser, "veteran2").status_code == 303
    text = browser.get("/compose/find-your-team").text
    assert "You have not hidden any of your care teams." in text
    assert "None of your care teams has restricted your messages." in text
