"""Demo data for trying smweb: one facility, two care teams, patients and staff.

Never for a real site: ProductionConfig refuses it, and every account shares one password.
"""

from datetime import timedelta

from sqlalchemy import update

from ..clock import utcnow
from ..extensions import db
from ..models import (
    Caregiver,
    EducationItem,
    Facility,
    Message,
    QuickText,
    Role,
    Thread,
    TriageGroup,
    group_members,
)
from ..models.people import AccountLevel
from . import triage
from .accounts import create_user, find_user
from .twofactor import enrol_with_secret

DEMO_PASSWORD = "demo-password-1"  # noqa: S105 - documented demo-only password
# The demo staff accounts' authenticator key (base32): documented, so demo-only, like the
# password. Add it to an authenticator app, or run `flask --app app smweb demo-code`.
DEMO_TOTP_SECRET = "SMWEBDEMOONLYTOTPKEY234567ABCDEF"  # noqa: S105

DEMO_ACCOUNTS = [
    # username, display name, role, account level, opted in, groups
    ("veteran1", "Alex Rivera", Role.PATIENT, AccountLevel.PREMIUM, True, ["blue", "cardio"]),
    ("veteran2", "Jordan Smith", Role.PATIENT, AccountLevel.PREMIUM, True, ["blue"]),
    ("basic1", "Casey Brown", Role.PATIENT, AccountLevel.BASIC, False, []),
    ("nurse1", "Nurse Pat Lee, RN", Role.STAFF, AccountLevel.BASIC, False, ["blue"]),
    ("doctor1", "Dr. Sam Patel", Role.STAFF, AccountLevel.BASIC, False, ["blue"]),
    ("clerk1", "Clerk Robin Diaz", Role.STAFF, AccountLevel.BASIC, False, ["blue", "cardio"]),
    ("cardio1", "Dr. Morgan Chen", Role.STAFF, AccountLevel.BASIC, False, ["cardio"]),
    ("coordinator1", "Coordinator Kim Park", Role.STAFF, AccountLevel.BASIC, False, []),
    ("admin1", "Site Admin Lou Grant", Role.ADMIN, AccountLevel.BASIC, False, []),
    ("caregiver1", "Sam Rivera", Role.CAREGIVER, AccountLevel.BASIC, False, []),
]
# (caregiver, patient, may write): proxy access, as the patient gave it.
DEMO_CAREGIVERS = [("caregiver1", "veteran1", True)]

DEMO_EDUCATION = [
    ("Managing high blood pressure", "Home readings, salt, and when to call.",
     "https://www.veteranshealthlibrary.va.gov/Conditions/HighBloodPressure"),
    ("Getting your flu shot", "Who should get one, and where.",
     "https://www.va.gov/health-care/flu-shots/"),
    ("Living with diabetes", "Checking your blood sugar and caring for your feet.",
     "https://www.veteranshealthlibrary.va.gov/Conditions/Diabetes"),
]


# (patient, team, category, subject, days ago, whether the patient read the team's messages,
# turns of (hours after the start, author, text))
DEMO_CONVERSATIONS = [
    ("veteran1", "blue", "Medications", "Refill for blood pressure pills", 6, True, [
        (0, "veteran1", "I have 5 days of lisinopril left. Can you renew it?"),
        (3, "nurse1", "Your renewal was sent to the pharmacy. It should arrive in 5-7 days."),
    ]),
    ("veteran1", "blue", "Appointments", "Flu shot clinic dates", 2, False, [
        (0, "doctor1", "Flu shots are offered in the lobby on weekday mornings this month."),
    ]),
    ("veteran1", "cardio", "Test results", "Echo results question", 1, True, [
        (0, "veteran1", "Are my echocardiogram results back yet?"),
    ]),
    ("veteran2", "blue", "General", "Change of address", 1, True, [
        (0, "veteran2", "I moved. How do I update my mailing address?"),
    ]),
]
# Quick texts: (team key, or None for nurse1's own; title; text with placeholders).
DEMO_QUICK_TEXTS = [
    ("blue", "Lab results normal",
     "Hello {patient_first_name}, your recent lab results are normal and need no action. "
     "If you have questions, call {team_name} at {team_phone}.\n{my_name}"),
    ("blue", "Refill sent to pharmacy",
     "Hello {patient_first_name}, we sent your refill to the pharmacy. Allow 7 to 10 days "
     "for it to arrive by mail.\n{my_name}, {team_name}"),
    (None, "Call me back",
     "Please call me at {team_phone} when you can. If I am not there, the team will help."),
]
# Roles in the care teams beyond "nurse": doctor1 administers Primary Care Team Blue.
DEMO_ROLES = [("doctor1", "blue", "group_admin"), ("clerk1", "blue", "clerk"),
              ("clerk1", "cardio", "clerk"), ("cardio1", "cardio", "provider")]


def seed_demo() -> bool:
    """Create the demo data, once. Returns False when it is already there."""
    if find_user("veteran1") is not None:
        return False
    now = utcnow()
    groups, users = _people(now)
    db.session.add_all(EducationItem(title=t, summary=s, url=u) for t, s, u in DEMO_EDUCATION)
    db.session.add_all(
        QuickText(group_id=groups[team].id if team else None,
                  owner_id=None if team else users["nurse1"].id, title=title, body=body)
        for team, title, body in DEMO_QUICK_TEXTS)
    for patient, team, category, subject, days_ago, patient_read, turns in DEMO_CONVERSATIONS:
        _conversation(users[patient], groups[team], category, subject,
                      [(hours, users[author], text) for hours, author, text in turns],
                      start=now - timedelta(days=days_ago), patient_read=patient_read)
    db.session.commit()
    return True


def _people(now) -> tuple[dict, dict]:
    """The facility, its two care teams and the demo accounts, each in its teams."""
    facility = Facility(
        name="Demo VA Medical Center", timezone="America/New_York", phone="555-0100"
    )
    groups = {
        "blue": TriageGroup(facility=facility, name="Primary Care Team Blue"),
        "cardio": TriageGroup(facility=facility, name="Cardiology"),
    }
    db.session.add_all([facility, *groups.values()])
    users = {}
    for username, name, role, level, opted_in, group_keys in DEMO_ACCOUNTS:
        user = create_user(
            username, DEMO_PASSWORD, name, role=role, account_level=level,
            opted_in_at=now if opted_in else None,
        )
        if user.needs_second_factor:
            enrol_with_secret(user, DEMO_TOTP_SECRET)
        target = user.care_groups if role == Role.PATIENT else user.staff_groups
        target.extend(groups[key] for key in group_keys)
        users[username] = user
    users["coordinator1"].coordinator_of = facility
    db.session.flush()  # ids, for the roles and for read_by_team_user_id
    db.session.add_all(
        Caregiver(caregiver_id=users[caregiver].id, patient_id=users[patient].id,
                  may_write=may_write, created_at=now, created_by_id=users[patient].id)
        for caregiver, patient, may_write in DEMO_CAREGIVERS)
    for username, group_key, role in DEMO_ROLES:
        db.session.execute(update(group_members).where(
            group_members.c.user_id == users[username].id,
            group_members.c.group_id == groups[group_key].id).values(role=role))
    return groups, users


def _conversation(patient, group, category, subject, turns, start, patient_read):
    """A thread of (hours after start, author, text) turns. The team has read the patient's
    messages if it answered; the patient has read the team's if patient_read."""
    thread = Thread(
        patient=patient, group=group, category=category, subject=subject,
        created_at=start, last_message_at=start,
    )
    db.session.add(thread)
    reader = next((author for _, author, _ in turns if author is not patient), None)
    for offset_hours, author, body in turns:
        sent = start + timedelta(hours=offset_hours)
        from_patient = author is patient
        message = Message(
            thread=thread, author=author, from_patient=from_patient, subject=subject,
            body=body, sent_at=sent,
            read_by_team_at=sent + timedelta(hours=1) if from_patient and reader else None,
            read_by_team_user_id=reader.id if from_patient and reader else None,
            read_by_patient_at=None if from_patient or not patient_read else sent,
        )
        db.session.add(message)
        thread.last_message_at = sent
        if from_patient:
            thread.last_patient_message_at = sent
            triage.patient_wrote(thread, message, sent)
        else:
            thread.last_team_message_at = sent
            thread.last_team_author = author
            triage.team_wrote(thread, author.id, sent)
    thread.unread_for_team = reader is None
    thread.unread_for_patient = not patient_read
    return thread
