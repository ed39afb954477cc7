"""Requests that route: a medication renewal and a question about an appointment, written
from a few fields into a message the care team reads at a glance, with its category set and a
subject made from the fields. They are sent as any new message is (messaging.submit): once,
to one of the patient's own teams, past the same restrictions and the same emergency check."""

from dataclasses import dataclass, field

from ..config import N_
from ..models.messaging import SUBJECT_MAX

# The choices, in English as the care team reads them in the message; N_ marks them for the
# form, which shows them in the patient's language (threads/forms.py).
PHARMACY = {"mail": N_("By mail (VA mail-order pharmacy)"),
            "pickup": N_("I will pick it up at the VA pharmacy")}
DAYS = {"mon": N_("Monday"), "tue": N_("Tuesday"), "wed": N_("Wednesday"),
        "thu": N_("Thursday"), "fri": N_("Friday")}
TIMES = {"morning": N_("Mornings (8 to 12)"), "afternoon": N_("Afternoons (12 to 5)")}


@dataclass(frozen=True)
class Renewal:
    medication: str
    dose: str = ""
    pharmacy: str = "mail"
    note: str = ""


@dataclass(frozen=True)
class AppointmentQuestion:
    visit: str
    days: list[str] = field(default_factory=list)
    times: list[str] = field(default_factory=list)
    note: str = ""


def as_message(asked: Renewal | AppointmentQuestion) -> tuple[str, str, str]:
    """The request as a message: (category, subject, body)."""
    if isinstance(asked, Renewal):
        lines = [("Request", "Renew a medication"), ("Medication", asked.medication.strip()),
                 ("Dose", asked.dose.strip() or "not given"),
                 ("Pharmacy", PHARMACY.get(asked.pharmacy, PHARMACY["mail"]))]
        category, subject = "Medications", f"Renewal: {asked.medication.strip()}"
    else:
        lines = [("Request", "A question about an appointment"),
                 ("Appointment", asked.visit.strip()),
                 ("Days that suit", ", ".join(DAYS[d] for d in DAYS if d in asked.days)
                  or "any weekday"),
                 ("Times that suit", ", ".join(TIMES[t] for t in TIMES if t in asked.times)
                  or "any time")]
        category, subject = "Appointments", f"Appointment: {asked.visit.strip()}"
    body = "\n".join(f"{name}: {value}" for name, value in lines)
    if asked.note.strip():
        body += f"\n\n{asked.note.strip()}"
    return category, _shortened(subject), body


def _shortened(subject: str) -> str:
    return subject if len(subject) <= SUBJECT_MAX else subject[:SUBJECT_MAX - 1] + "…"
