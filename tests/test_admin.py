"""Administration: accounts, facilities, care teams; every bad input gets a clear message."""

import pytest

from smweb.extensions import db
from smweb.models import AuditEvent, Facility, TriageGroup, User
from tests.support import post_form, set_up_two_step, sign_in, user


def new_user(client, **fields):
    data = {"username": "newnurse", "display_name": "Nurse New", "role": "staff",
            "account_level": "basic", "password": "a-long-password-1", **fields}
    return post_form(client, "/admin/users/new", data, form_page="/admin/users/new")


@pytest.mark.parametrize(("fields", "message"), [
    ({"username": "veteran1"}, "There is already an account named veteran1."),
    ({"username": "bad name!"}, "A username has letters, digits"),
    ({"password": "short"}, "Use at least 12 characters."),
    ({"password": "password1234"}, "This password is one of the most common passwords."),
    ({"role": "emperor"}, "Not a valid choice"),
    ({"display_name": ""}, "Enter the person&#39;s name."),
])
def test_create_account_refusals(login, client, fields, message):
    login("admin1")
    response = new_user(client, **fields)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)


def test_create_edit_and_disable_an_account(login, client, app):
    login("admin1")
    response = new_user(client)
    assert response.status_code == 303
    with app.app_context():
        created = user("newnurse")
        blue = db.session.scalar(db.select(TriageGroup.id).where(
            TriageGroup.name == "Primary Care Team Blue"))
        created_id = created.id
    edit = f"/admin/users/{created_id}"
    post_form(client, edit, {"role": "staff", "account_level": "basic", f"role-{blue}": "nurse"},
              form_page=edit)
    with app.app_context():
        assert [g.name for g in user("newnurse").staff_groups] == ["Primary Care Team Blue"]
    nurse = app.test_client()
    first = sign_in(nurse, "newnurse", "a-long-password-1")
    assert first.location == "/sign-in/setup"  # staff set up the second factor first
    assert nurse.get("/triage/").status_code == 302
    assert "Save your recovery codes" in set_up_two_step(nurse, app, "newnurse").text
    assert nurse.get("/triage/").status_code == 200
    post_form(client, edit, {"role": "staff", "account_level": "basic", "disabled": "y"},
              form_page=edit)
    assert nurse.get("/triage/").status_code == 302  # signed out on the next request
    assert sign_in(nurse, "newnurse", "a-long-password-1").status_code == 401


def test_reset_password(login, client, app):
    login("admin1")
    with app.app_context():
        vet_id = user("veteran2").id
    bad = post_form(client, f"/admin/users/{vet_id}/password", {"password": "short"},
                    form_page=f"/admin/users/{vet_id}")
    assert bad.status_code == 303
    assert "Use at least 12 characters." in client.get(
        f"/admin/users/{vet_id}").get_data(as_text=True)
    post_form(client, f"/admin/users/{vet_id}/password", {"password": "brand-new-pass-2"},
              form_page=f"/admin/users/{vet_id}")
    other = app.test_client()
    # the person must choose their own password before anything else
    assert sign_in(other, "veteran2", "brand-new-pass-2").location == "/account/password"
    assert other.get("/mailbox/inbox").location == "/account/password"
    changed = post_form(other, "/account/password", {
        "current": "brand-new-pass-2", "new": "my own chosen words 7",
        "confirm": "my own chosen words 7"}, form_page="/account/password")
    assert changed.location == "/account"
    assert other.get("/mailbox/inbox").status_code == 200


def test_the_last_admin_stays(login, client, app):
    login("admin1")
    with app.app_context():
        admin_id = user("admin1").id
    response = post_form(client, f"/admin/users/{admin_id}",
                         {"role": "staff", "account_level": "basic"},
                         form_page=f"/admin/users/{admin_id}")
    assert response.status_code == 422
    assert "This is the last admin account" in response.get_data(as_text=True)
    with app.app_context():
        assert user("admin1").is_admin


def test_facilities_and_care_teams(login, client, app):
    login("admin1")
    post_form(client, "/admin/facilities", {"name": "Honolulu VAMC",
                                            "timezone": "Mars/Olympus", "phone": "1"},
              form_page="/admin/")
    assert "Mars/Olympus is not a time zone" in client.get("/admin/").get_data(as_text=True)
    hours = {"opens_at": "07:30", "closes_at": "16:00"}
    post_form(client, "/admin/facilities", {"name": "Honolulu VAMC", "timezone":
                                            "Pacific/Honolulu", "phone": "808-555",
                                            "opens_at": "17:00", "closes_at": "08:00"},
              form_page="/admin/")
    assert "Business hours must end after they start." in client.get("/admin/").get_data(
        as_text=True)
    for _ in range(2):
        post_form(client, "/admin/facilities", {"name": "Honolulu VAMC",
                                                "timezone": "Pacific/Honolulu",
                                                "phone": "808-555", **hours},
                  form_page="/admin/")
    assert "There is already a facility named Honolulu VAMC." in client.get(
        "/admin/").get_data(as_text=True)
    with app.app_context():
        facility_id = db.session.scalar(db.select(Facility.id).where(
            Facility.name == "Honolulu VAMC"))
    for _ in range(2):
        post_form(client, f"/admin/facilities/{facility_id}/groups", {"name": "Mental Health"},
                  form_page="/admin/")
    html = client.get("/admin/").get_data(as_text=True)
    assert "Honolulu VAMC already has a care team named Mental Health." in html
    assert "Pacific/Honolulu" in html and "open 07:30–16:00" in html


def test_create_admin_command(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["smweb", "create-admin", "root2", "--password",
                                 "another-long-pass"])
    assert result.exit_code == 0 and "Admin account root2 created." in result.output
    with app.app_context():
        assert db.session.scalar(db.select(User.role).where(User.username == "root2")) == "admin"
    again = runner.invoke(args=["smweb", "create-admin", "root2", "--password",
                                "another-long-pass"])
    assert again.exit_code != 0 and "There is already an account named root2." in again.output


def test_admin_changes_are_audited_and_admins_see_the_whole_trail(login, client, app):
    from smweb.models import AuditEvent

    login("admin1")
    new_user(client, role="patient", account_level="premium", username="newvet")
    with app.app_context():
        vet = user("newvet")
        vet_id = vet.id
        blue = db.session.scalar(db.select(TriageGroup.id).where(
            TriageGroup.name == "Primary Care Team Blue"))
    post_form(client, f"/admin/users/{vet_id}", {"role": "patient", "account_level": "basic",
                                                 "groups": [str(blue)]},
              form_page=f"/admin/users/{vet_id}")
    with app.app_context():
        actions = [e.action for e in db.session.scalars(
            db.select(AuditEvent).where(AuditEvent.patient_id == vet_id).order_by(
                AuditEvent.id))]
    assert actions == ["account_create", "account_change", "membership_change"]
    trail = client.get("/triage/audit?patient=newvet").get_data(as_text=True)
    assert "Changed an account&#39;s care teams" in trail


def test_staff_roles_in_care_teams(login, client, app):
    from smweb.services import admin

    login("admin1")
    with app.app_context():
        nurse_id = user("nurse1").id
        blue = db.session.scalar(db.select(TriageGroup.id).where(
            TriageGroup.name == "Primary Care Team Blue"))
        cardio = db.session.scalar(db.select(TriageGroup.id).where(
            TriageGroup.name == "Cardiology"))
    page = client.get(f"/admin/users/{nurse_id}").get_data(as_text=True)
    assert '<option value="nurse" selected>Nurse</option>' in page
    post_form(client, f"/admin/users/{nurse_id}", {
        "role": "staff", "account_level": "basic", f"role-{blue}": "group_admin",
        f"role-{cardio}": "clerk"}, form_page=f"/admin/users/{nurse_id}")
    with app.app_context():
        assert admin.memberships_of(user("nurse1")) == {blue: "group_admin", cardio: "clerk"}
    with app.app_context():
        level = user("nurse1").account_level
        audited = db.session.scalar(db.select(db.func.count(AuditEvent.id)).where(
            AuditEvent.action == "membership_change"))
    assert audited == 1
    bad = post_form(client, f"/admin/users/{nurse_id}", {
        "role": "staff", "account_level": "premium" if level == "basic" else "basic",
        f"role-{blue}": "emperor"}, form_page=f"/admin/users/{nurse_id}")
    assert bad.status_code == 422
    assert "Choose a role in each care team" in bad.get_data(as_text=True)
    with app.app_context():  # all of the change or none of it
        assert user("nurse1").account_level == level
        assert admin.memberships_of(user("nurse1")) == {blue: "group_admin", cardio: "clerk"}
        assert db.session.scalar(db.select(db.func.count(AuditEvent.id)).where(
            AuditEvent.action.in_(["membership_change", "account_change"]))) == 1


def test_edit_a_facility_and_its_business_hours(login, client, app):
    login("admin1")
    with app.app_context():
        facility_id = db.session.scalar(db.select(Facility.id))
    page = f"/admin/facilities/{facility_id}"
    bad = post_form(client, page, {"timezone": "Nowhere/Land", "phone": "1",
                                   "opens_at": "08:00", "closes_at": "17:00"}, form_page=page)
    assert bad.status_code == 422 and "Nowhere/Land is not a time zone" in bad.get_data(
        as_text=True)
    good = post_form(client, page, {"timezone": "America/Chicago", "phone": "555-0123",
                                    "opens_at": "07:00", "closes_at": "15:30"}, form_page=page)
    assert good.status_code == 303
    with app.app_context():
        facility = db.session.get(Facility, facility_id)
        assert (facility.timezone, facility.phone, str(facility.opens_at),
                str(facility.closes_at)) == ("America/Chicago", "555-0123", "07:00:00",
                                             "15:30:00")
        assert facility.name == "Demo VA Medical Center"


def test_administration_from_the_command_line(app):
    runner = app.test_cli_runner()
    made = runner.invoke(args=["smweb", "create-user", "vet9", "--name", "Vet Nine",
                               "--level", "premium", "--password", "long-enough-pass"])
    assert made.exit_code == 0 and "Account vet9 created." in made.output
    assert runner.invoke(args=["smweb", "create-facility", "Reno VAMC", "--timezone",
                               "America/Los_Angeles", "--phone", "775-555"]).exit_code == 0
    bad_zone = runner.invoke(args=["smweb", "create-facility", "X", "--timezone", "Mars",
                                   "--phone", "1"])
    assert bad_zone.exit_code != 0 and "Mars is not a time zone" in bad_zone.output
    assert "Care team Eye Clinic added" in runner.invoke(
        args=["smweb", "create-group", "Reno VAMC", "Eye Clinic"]).output
    assert runner.invoke(args=["smweb", "create-group", "Nowhere", "X"]).exit_code != 0
    disabled = runner.invoke(args=["smweb", "disable-user", "vet9"])
    assert disabled.exit_code == 0
    last_admin = runner.invoke(args=["smweb", "disable-user", "admin1"])
    assert last_admin.exit_code != 0 and "last admin" in last_admin.output
    with app.app_context():
        assert user("vet9").disabled
