"""Quick texts: replies staff keep to insert into a message with two clicks, their own or
their care team's (kept by the team's group administrators), with placeholders filled in
for the patient and team the message is for.

A placeholder is a name in braces; only those in PLACEHOLDERS are accepted when a quick
text is saved, so inserting one never meets a name it can't fill.
"""

import re
from dataclasses import dataclass

from sqlalchemy import or_, select

from ..clock import format_day, utcnow
from ..extensions import db
from ..models import QuickText, Thread, TriageGroup, User
from . import access, sla, triage
from .refusals import NotAllowed, NotFound

PLACEHOLDERS = {
    "patient_first_name": "the patient's first name",
    "team_name": "the care team's name",
    "team_phone": "the care team's phone number",
    "reply_by": "the day the team answers a message sent now by (3 business days)",
    "my_name": "your name",
}
_PLACEHOLDER = re.compile(r"\{([^{}\s]*)\}")
TITLE_MAX, BODY_MAX = 80, 2000


class QuickTextError(NotAllowed):
    """A quick text that can't be kept or inserted; the text says why."""


@dataclass(frozen=True)
class Shelf:
    """The quick texts a staff member may insert: their own, then each team's."""

    own: list[QuickText]
    by_team: list[tuple[TriageGroup, list[QuickText]]]

    @property
    def empty(self) -> bool:
        return not self.own and not any(texts for _team, texts in self.by_team)


def shelf_of(staff: User) -> Shelf:
    """Everything the staff member may insert, in one query: their own and their teams'."""
    teams = access.staff_groups(staff)
    texts = db.session.scalars(
        select(QuickText).where(or_(QuickText.owner_id == staff.id,
                                    QuickText.group_id.in_([t.id for t in teams])))
        .order_by(QuickText.title, QuickText.id)).all()
    return Shelf([t for t in texts if t.owner_id == staff.id],
                 [(team, [t for t in texts if t.group_id == team.id]) for team in teams])


def managed_teams(staff: User) -> list[TriageGroup]:
    """The care teams whose quick texts this staff member keeps (their group admin's)."""
    administered = access.administered_group_ids(staff)
    return [team for team in access.staff_groups(staff) if team.id in administered]


def get_for_editing(staff: User, quick_text_id: int) -> QuickText:
    """A quick text the staff member may change: their own, or one of a team they keep."""
    text = db.session.get(QuickText, quick_text_id)
    if text is None or not (text.owner_id == staff.id or text.group_id in
                            {team.id for team in managed_teams(staff)}):
        raise NotFound()
    return text


def save(staff: User, text: QuickText | None, *, title: str, body: str,
         team_id: int | None) -> QuickText:
    """Add (text None) or change a quick text: the staff member's own (team_id None) or a
    team's they keep. Unknown placeholders are refused, naming them."""
    title, body = title.strip(), body.strip()
    if not title:
        raise QuickTextError("Enter a title.")
    if not body:
        raise QuickTextError("Enter the text.")
    if len(title) > TITLE_MAX or len(body) > BODY_MAX:
        raise QuickTextError(f"A title can be at most {TITLE_MAX} characters and the text at "
                             f"most {BODY_MAX}.")
    unknown = sorted({name for name in _PLACEHOLDER.findall(body) if name not in PLACEHOLDERS})
    if unknown:
        names = ", ".join("{" + name + "}" for name in unknown)
        known = ", ".join("{" + name + "}" for name in PLACEHOLDERS)
        raise QuickTextError(f"Unknown placeholder {names}. The placeholders are {known}.")
    if team_id is not None and team_id not in {team.id for team in managed_teams(staff)}:
        raise QuickTextError("Choose one of the care teams you keep quick texts for.")
    if text is None:
        text = QuickText()
        db.session.add(text)
    text.title, text.body, text.updated_at = title, body, utcnow()
    text.owner_id, text.group_id = (None, team_id) if team_id else (staff.id, None)
    db.session.commit()
    return text


def delete(staff: User, quick_text_id: int) -> None:
    db.session.delete(get_for_editing(staff, quick_text_id))
    db.session.commit()


def inserted(author: User, quick_text_id: int | None, body: str, *, thread: Thread | None,
             group_id: int | None, patient_id: int | None) -> str:
    """The message's text with the quick text added at its end, placeholders filled in for
    the thread (a reply), or the team and patient a new message goes to."""
    text = db.session.get(QuickText, quick_text_id) if quick_text_id else None
    if not author.is_staff:
        raise NotFound()
    if text is None:
        raise QuickTextError("Choose a quick text to insert.")
    team_ids = set(author.staff_group_ids())
    if not (text.owner_id == author.id or text.group_id in team_ids):
        raise NotFound()
    if thread is not None:
        team, patient = thread.group, thread.patient
    else:
        team = db.session.get(TriageGroup, group_id) if group_id in team_ids else None
        patient = db.session.get(User, patient_id) if patient_id else None
        if team is None or patient is None or not access.is_associated(patient.id, team.id):
            raise QuickTextError("Choose the patient first, then insert the quick text.")
    values = {
        "patient_first_name": patient.display_name.split()[0] if patient.display_name else "",
        "team_name": team.name,
        "team_phone": team.facility.phone,
        "reply_by": _day(sla.due_at(utcnow(), triage.hours_for(team.facility)),
                         team.facility.timezone),
        "my_name": author.display_name,
    }
    filled = _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text.body)
    return f"{body.rstrip()}\n\n{filled}" if body.strip() else filled


def _day(moment, tz_name: str) -> str:
    return format_day(moment, tz_name)
