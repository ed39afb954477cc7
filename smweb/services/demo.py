"""Demo data for trying smweb: one facility, two care teams, patients and staff.

Never for a real site: ProductionConfig refuses it, and every account shares one password.
"""

from datetime import timedelta

from sqlalchemy import update

from ..clock import utcnow
from ..extensions import db
from ..models import EducationItem, Facility, Message, Role, Thread, TriageGroup, group_members
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
]

DEMO_EDUCATION = [
    ("Managing high blood pressure", "Home readings, salt, and when to call.",
     "https://www.veteranshealthlibrary.va.gov/Conditions/HighBloodPressure"),
    ("Getting your flu shot", "Who should get one, and where.",
     "https://www.va.gov/health-care/flu-shots/"),
    ("Living with diabetes", "Checking your blood sugar and caring for your feet.",
     "https://www.veteranshealthlibrary.va.gov/Conditions/Diabetes"),
]


def seed_demo() -> bool:
    """Create the demo data, once. Returns False when it is already there."""
    if find_user("veteran1") is not None:
        return False
    now = utcnow()
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
        if role != Role.PATIENT:
            enrol_with_secret(user, DEMO_TOTP_SECRET)
        target = user.care_groups if role == Role.PATIENT else user.staff_groups
        target.extend(groups[key] for key in group_keys)
        users[username] = user
    users["coordinator1"].coordinator_of = facility
    db.session.flush()
    # Roles in the care teams: doctor1 administers Primary Care Team Blue.
    for username, group_key, role in (("doctor1", "blue", "group_admin"),
                                      ("clerk1", "blue", "clerk"), ("clerk1", "cardio", "clerk"),
                                      ("cardio1", "cardio", "provider")):
        db.session.execute(update(group_members).where(
            group_members.c.user_id == users[username].id,
            group_members.c.group_id == groups[group_key].id).values(role=role))
    db.session.add_all(EducationItem(title=t, summary=s, url=u) for t, s, u in DEMO_EDUCATION)

    def conversation(patient, group, category, subject, turns, days_ago, patient_read=True):
        """A thread of (hours after start, author, text) turns. The team has read the
        patient's messages if it answered; the patient has read the team's if patient_read."""
        start = now - timedelta(days=days_ago)
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
                body=body,
                sent_at=sent,
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
                triage.team_wrote(thread)
        thread.unread_for_team = reader is None
        thread.unread_for_patient = not patient_read
        return thread

    db.session.flush()  # ids for read_by_team_user_id
    vet1, vet2 = users["veteran1"], users["veteran2"]
    nurse, doctor = users["nurse1"], users["doctor1"]
    conversation(vet1, groups["blue"], "Medications", "Refill for blood pressure pills", [
        (0, vet1, "I have 5 days of lisinopril left. Can you renew it?"),
        (3, nurse, "Your renewal was sent to the pharmacy. It should arrive in 5-7 days."),
    ], days_ago=6)
    conversation(vet1, groups["blue"], "Appointments", "Flu shot clinic dates", [
        (0, doctor, "Flu shots are offered in the lobby on weekday mornings this month."),
    ], days_ago=2, patient_read=False)
    conversation(vet1, groups["cardio"], "Test results", "Echo results question", [
        (0, vet1, "Are my echocardiogram results back yet?"),
    ], days_ago=1)
    conversation(vet2, groups["blue"], "General", "Change of address", [
        (0, vet2, "I moved. How do I update my mailing address?"),
    ], days_ago=1)
    db.session.commit()
    return True
