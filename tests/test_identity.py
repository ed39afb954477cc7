"""Identity verified in person: the desk (a clerk, a group administrator, the coordinator)
finds a signed-up patient's basic account, checks a photo ID, and makes it premium with its
care teams; an admin's basic → premium records the same."""

import re
from datetime import datetime

import pytest

from smweb.extensions import db
from smweb.models import AuditEvent, Preferences, TriageGroup, User
from smweb.services import identity
from smweb.services.refusals import NotFound
from tests.support import care_team, patient, post_form, sign_in, staff, user


def _signed_up(username="newpatient", name="Jamie Ortiz", email="Jamie.Ortiz@example.org"):
    """A patient who made a basic account on the sign-up page and confirmed the address."""
    person = patient(name=name, username=username, premium=False, opted_in=False)
    person.signed_up = True
    person.email_confirmed_at = datetime(2026, 11, 30, 15, 0)
    db.session.add(Preferences(user_id=person.id, email=email))
    db.session.commit()
    return person.id


def _team_id(name: str) -> int:
    return db.session.scalar(db.select(TriageGroup.id).where(TriageGroup.name == name))


def _actions(patient_id: int) -> list[tuple[str, str]]:
    return [(e.action, e.actor.username) for e in db.session.scalars(
        db.select(AuditEvent).where(AuditEvent.patient_id == patient_id)
        .order_by(AuditEvent.id))]


@pytest.fixture
def newcomer(app):
    with app.app_context():
        return _signed_up()


@pytest.mark.parametrize("typed", ["newpatient", "NewPatient", "jamie.ortiz@example.org",
                                   "Ortiz", "jamie o"])
def test_clerk_finds_a_signed_up_patient(login, client, newcomer, typed):
    login("clerk1")
    page = client.get("/triage/identity", query_string={"q": typed})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f'href="/triage/identity/{newcomer}">Jamie Ortiz</a>' in html
    assert "Basic" in html and "Jamie.Ortiz@example.org (confirmed)" in html


def test_the_search_lists_basic_accounts_first_and_not_staff(app, ctx, newcomer):
    clerk = user("clerk1")
    patient(name="Jamie Premium")
    staff(name="Jamie Staff")
    found = identity.find(clerk, "jamie")
    assert [p.display_name for p in found] == ["Jamie Ortiz", "Jamie Premium"]
    assert identity.find(clerk, "example.org") == []  # an address is matched whole
    assert identity.find(clerk, "   ") == []
    assert identity.find(clerk, "%") == []  # a wildcard typed is a character
    for n in range(identity.FOUND_AT_MOST + 3):
        patient(name=f"Jamie Many {n}", premium=False)
    assert len(identity.find(clerk, "jamie")) == identity.FOUND_AT_MOST


def test_clerk_verifies_in_person(app, login, client, clock, newcomer):
    clock.set(datetime(2026, 12, 3, 15, 30))  # 10:30 AM in New York
    login("clerk1")
    page = f"/triage/identity/{newcomer}"
    html = client.get(page).get_data(as_text=True)
    assert "I checked a photo ID in person" in html and 'value="Jamie Ortiz"' in html
    assert "Basic" in html and "Signed up" in html
    with app.app_context():
        blue = _team_id("Primary Care Team Blue")
    answer = post_form(client, page, {"step": "verify", "display_name": "Jamie A. Ortiz",
                                      "teams": [str(blue)], "photo_id_checked": "y"},
                       form_page=page)
    assert answer.status_code == 303 and answer.location == page
    html = client.get(page).get_data(as_text=True)
    assert "Jamie A. Ortiz&#39;s identity is verified: the account is premium." in html
    assert "Identity verified by Clerk Robin Diaz on Dec 3, 2026, 10:30 AM EST." in html
    assert "Link more care teams" in html and "Verify the identity" not in html
    with app.app_context():
        verified = db.session.get(User, newcomer)
        assert verified.is_premium and verified.display_name == "Jamie A. Ortiz"
        assert verified.identity_verified_at == datetime(2026, 12, 3, 15, 30)
        assert verified.identity_verified_by.username == "clerk1"
        assert [team.name for team in verified.care_groups] == ["Primary Care Team Blue"]
        assert _actions(newcomer) == [("identity_verify", "clerk1"),
                                      ("membership_change", "clerk1")]
        facility = db.session.scalar(db.select(AuditEvent.facility_id).where(
            AuditEvent.action == "identity_verify"))
        assert facility == verified.care_groups[0].facility_id
    # the facility's coordinator reads it in the audit trail
    coordinator = app.test_client()
    sign_in(coordinator, "coordinator1")
    trail = coordinator.get("/triage/audit?action=identity_verify").get_data(as_text=True)
    assert '<td data-label="Action">Verified a patient&#39;s identity in person</td>' in trail


def test_the_photo_id_box_must_be_ticked(app, login, client, newcomer):
    login("clerk1")
    page = f"/triage/identity/{newcomer}"
    with app.app_context():
        blue = _team_id("Primary Care Team Blue")
    answer = post_form(client, page, {"step": "verify", "display_name": "Jamie Q. Ortiz",
                                      "teams": [str(blue)]}, form_page=page)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert "Tick “I checked a photo ID in person”" in html
    assert 'value="Jamie Q. Ortiz"' in html  # what was typed is kept
    assert re.search(f'<input checked id="teams-\\d" name="teams" type="checkbox" '
                     f'value="{blue}">', html)  # and the team ticked
    with app.app_context():
        unchanged = db.session.get(User, newcomer)
        assert not unchanged.is_premium and unchanged.identity_verified_at is None
        assert unchanged.display_name == "Jamie Ortiz" and unchanged.care_groups == []
        assert _actions(newcomer) == []


def test_the_service_refuses_too(app, ctx, newcomer):
    clerk, person = user("clerk1"), db.session.get(User, newcomer)
    with pytest.raises(identity.IdentityError, match="photo ID"):
        identity.verify(clerk, person, display_name="Jamie", group_ids=[],
                        photo_id_checked=False)
    with pytest.raises(identity.IdentityError, match="name as it is on the photo ID"):
        identity.verify(clerk, person, display_name="  ", group_ids=[], photo_id_checked=True)
    with pytest.raises(identity.IdentityError, match="Verify the patient's identity first"):
        identity.link_teams(clerk, person, [_team_id("Cardiology")])
    assert not person.is_premium


def test_a_team_outside_reach_is_refused(app, login, client, newcomer):
    with app.app_context():
        elsewhere = care_team("Far Away Team").id
    login("clerk1")
    page = f"/triage/identity/{newcomer}"
    assert "Far Away Team" not in client.get(page).get_data(as_text=True)
    answer = post_form(client, page, {"step": "verify", "display_name": "Jamie Ortiz",
                                      "teams": [str(elsewhere)], "photo_id_checked": "y"},
                       form_page=page)
    assert answer.status_code == 422
    assert "you can&#39;t link a patient to another facility&#39;s care team" in \
        answer.get_data(as_text=True)
    with app.app_context():
        assert not db.session.get(User, newcomer).is_premium
        assert _actions(newcomer) == []


def test_already_verified_links_more_teams(app, login, client, newcomer):
    with app.app_context():
        blue, cardio = _team_id("Primary Care Team Blue"), _team_id("Cardiology")
        identity.verify(user("clerk1"), db.session.get(User, newcomer),
                        display_name="Jamie Ortiz", group_ids=[blue], photo_id_checked=True)
        db.session.remove()
    login("doctor1")  # Blue's group administrator: the same facility's desk
    page = f"/triage/identity/{newcomer}"
    html = client.get(page).get_data(as_text=True)
    assert "Identity verified by Clerk Robin Diaz on " in html
    assert "I checked a photo ID in person" not in html
    assert f'value="{cardio}"' in html and f'value="{blue}"' not in html
    # verifying again (a form left open in another window) is refused, and changes nothing
    again = post_form(client, page, {"step": "verify", "display_name": "Someone Else",
                                     "photo_id_checked": "y"}, form_page=page)
    assert again.status_code == 303
    assert "identity is already verified" in client.get(page).get_data(as_text=True)
    nothing = post_form(client, page, {"step": "link"}, form_page=page)
    assert nothing.status_code == 422 and "Choose a care team to link." in nothing.text
    linked = post_form(client, page, {"step": "link", "teams": [str(cardio)]}, form_page=page)
    assert linked.status_code == 303
    assert "Jamie Ortiz can now write to Cardiology." in client.get(page).get_data(
        as_text=True)
    with app.app_context():
        person = db.session.get(User, newcomer)
        assert person.display_name == "Jamie Ortiz"
        assert person.identity_verified_by.username == "clerk1"
        assert {team.id for team in person.care_groups} == {blue, cardio}
        assert _actions(newcomer) == [("identity_verify", "clerk1"),
                                      ("membership_change", "clerk1"),
                                      ("membership_change", "doctor1")]


def test_a_coordinator_verifies_for_the_facility(app, ctx, newcomer):
    coordinator = user("coordinator1")
    assert identity.may_verify(coordinator)
    assert {t.name for t in identity.teams_in_reach(coordinator)} == {
        "Primary Care Team Blue", "Cardiology"}
    identity.verify(coordinator, identity.get_patient_for(coordinator, newcomer),
                    display_name="Jamie Ortiz", group_ids=[], photo_id_checked=True)
    assert db.session.get(User, newcomer).is_premium
    # no care team yet: the audit row is the coordinator's facility's
    event = db.session.scalar(db.select(AuditEvent).where(
        AuditEvent.action == "identity_verify"))
    assert event.facility_id == coordinator.coordinator_of_id


@pytest.mark.parametrize("who", ["nurse1", "cardio1", "veteran1", "basic1", "caregiver1",
                                 "admin1"])
def test_others_get_404_and_no_nav_link(app, login, client, newcomer, who):
    login(who)
    for path in ("/triage/identity", "/triage/identity?q=jamie",
                 f"/triage/identity/{newcomer}"):
        assert client.get(path).status_code == 404, path
    answer = post_form(client, f"/triage/identity/{newcomer}", {
        "step": "verify", "display_name": "X", "photo_id_checked": "y"})
    assert answer.status_code == 404
    assert "Verify identity" not in client.get("/account").get_data(as_text=True)
    with app.app_context():
        assert not db.session.get(User, newcomer).is_premium


def test_a_nurse_in_a_team_is_no_verifier_but_a_clerk_is(app, ctx, newcomer):
    team = care_team()
    nurse, clerk = staff(team, role="nurse"), staff(team, role="clerk")
    assert not identity.may_verify(nurse)
    with pytest.raises(NotFound):
        identity.get_patient_for(nurse, newcomer)
    with pytest.raises(NotFound):
        identity.find(nurse, "jamie")
    assert identity.may_verify(clerk)
    assert [t.id for t in identity.teams_in_reach(clerk)] == [team.id]
    with pytest.raises(NotFound):  # staff accounts are not verified here
        identity.get_patient_for(clerk, nurse.id)


def test_verifiers_see_the_nav_link(login, client):
    login("clerk1")
    html = client.get("/triage/").get_data(as_text=True)
    assert '<a href="/triage/identity" >Verify identity</a>' in html
    html = client.get("/triage/identity").get_data(as_text=True)
    assert '<a href="/triage/identity" aria-current="page">Verify identity</a>' in html


def test_admin_basic_to_premium_records_the_verification(app, login, client, clock):
    clock.set(datetime(2026, 12, 3, 20, 0))
    with app.app_context():
        newcomer = _signed_up()
        blue = _team_id("Primary Care Team Blue")
    login("admin1")
    page = f"/admin/users/{newcomer}"
    assert "Identity verified" not in client.get(page).get_data(as_text=True)
    saved = post_form(client, page, {"role": "patient", "account_level": "premium",
                                     "groups": [str(blue)]}, form_page=page)
    assert saved.status_code == 303
    html = client.get(page).get_data(as_text=True)
    assert "Identity verified by Site Admin Lou Grant on Dec 3, 2026, 3:00 PM EST." in html
    with app.app_context():
        person = db.session.get(User, newcomer)
        assert person.identity_verified_by.username == "admin1"
        assert _actions(newcomer) == [("account_change", "admin1"),
                                      ("membership_change", "admin1"),
                                      ("identity_verify", "admin1")]
    # saving again (premium stays premium) records nothing more
    post_form(client, page, {"role": "patient", "account_level": "premium",
                             "groups": [str(blue)]}, form_page=page)
    with app.app_context():
        assert [a for a, _ in _actions(newcomer)].count("identity_verify") == 1
    # made basic again, the record goes: the desk may verify it anew
    post_form(client, page, {"role": "patient", "account_level": "basic",
                             "groups": [str(blue)]}, form_page=page)
    assert "Identity verified" not in client.get(page).get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, newcomer).identity_verified_at is None
