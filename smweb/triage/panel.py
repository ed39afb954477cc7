"""What staff see beside a thread: its status and clock, who works it, the forms to assign,
send on, complete and save it, its staff-only history and medical-record entries."""

from flask_login import current_user

from ..forms import EmptyForm
from ..models import Thread, ThreadStatus
from ..services import access, notes, records, triage
from .forms import AssignForm, NoteForm, ReassignForm


def staff_panel(thread: Thread, on_team: bool | None = None) -> dict:
    """`on_team`: whether the user works the thread, when the page already knows."""
    assign_form = AssignForm()
    # Starts empty: one click must not assign the thread to whoever is first in the list.
    assign_form.assignee.choices = [(0, "Choose a person"), *triage.assignees(thread)]
    reassign_form = ReassignForm()
    reassign_form.group.choices = [(team.id, f"{team.name} ({team.facility_name})")
                                   for team in triage.other_teams(thread)]
    note_form = NoteForm()
    note_form.ask.choices = [(0, "Nobody: a note only")] + [
        (u.id, u.display_name) for u in notes.colleagues_to_ask(current_user, thread)]
    return {
        "on_team": access.works_thread(current_user, thread) if on_team is None else on_team,
        "notes": notes.notes_of(thread),
        "note_form": note_form,
        "status_label": ThreadStatus.LABELS.get(thread.status, thread.status),
        "due_soon": triage.is_due_soon(thread),
        "assign_form": assign_form,
        "reassign_form": reassign_form,
        "action_form": EmptyForm(),
        "history": triage.history(thread),
        "record_entries": records.entries_for(thread),
        "is_completed": thread.status == ThreadStatus.COMPLETED,
    }
