"""What staff see beside a thread: its status and clock, who works it, the forms to assign,
send on, complete and save it, its staff-only history and medical-record entries."""

from ..extensions import db
from ..forms import EmptyForm
from ..models import Thread, ThreadStatus, TriageGroup
from ..services import records, triage
from .forms import AssignForm, ReassignForm


def staff_panel(thread: Thread) -> dict:
    assign_form = AssignForm()
    # Starts empty: one click must not assign the thread to whoever is first in the list.
    assign_form.assignee.choices = [(0, "Choose a person")] + [
        (m.id, m.display_name) for m in thread.group.members]
    reassign_form = ReassignForm()
    groups = db.session.scalars(
        db.select(TriageGroup).where(TriageGroup.id != thread.group_id)
        .order_by(TriageGroup.name))
    reassign_form.group.choices = [(g.id, f"{g.name} ({g.facility.name})") for g in groups]
    return {
        "status_label": ThreadStatus.LABELS.get(thread.status, thread.status),
        "due_soon": triage.is_due_soon(thread),
        "assign_form": assign_form,
        "reassign_form": reassign_form,
        "action_form": EmptyForm(),
        "history": triage.history(thread),
        "record_entries": records.entries_for(thread),
        "is_completed": thread.status == ThreadStatus.COMPLETED,
    }
