"""The care team's side: the queue, the work on a thread (assign, reassign, complete, save
to the medical record), escalations for coordinators, absences, and writing to a patient."""

import json

from flask import abort, current_app, flash, request, url_for
from flask_login import current_user, login_required
from htmx_flask import make_response

from ..auth.guards import staff_required
from ..extensions import db
from ..forms import EmptyForm
from ..models import Message, TriageGroup, User
from ..parsing import as_id
from ..services import (
    access,
    audit,
    blocking,
    callbacks,
    notes,
    people,
    records,
    triage,
)
from ..services import queue as staff_queue
from ..templating import (
    cursor_arg,
    list_version,
    page_number,
    redirect_to,
    render_page,
    unchanged_poll,
)
from . import bp
from .forms import AbsenceForm, AssignForm, BlockForm, NoteForm, ReassignForm


@bp.get("/")
@staff_required
def queue():
    """The threads of the staff member's triage groups, soonest due first, by filter."""
    name = request.args.get("filter", "open")
    if name not in staff_queue.FILTERS:
        abort(404)
    sort = request.args.get("sort", "due")
    if sort not in staff_queue.SORTS:
        sort = "due"
    # Who and which teams: read once, for the page and for the tabs' counts.
    scope = staff_queue.scope_of(current_user)
    page = staff_queue.page(current_user, name, page_number(), current_app.config["PAGE_SIZE"],
                            sort=sort, after=request.args.get("after"),
                            before=request.args.get("before"), scope=scope)
    urgent = staff_queue.possibly_urgent(scope)
    call_backs = callbacks.waiting_for(scope.group_ids)
    version = list_version(page.items, *staff_queue.SHOWN) + list_version(urgent) + \
        list_version(call_backs)
    if unchanged_poll("queue-list", version):
        return "", 204
    return render_page(
        "triage/queue.html", fragment="queue_list", target="queue-list", page=page,
        filter_name=name, urgent=urgent, call_backs=call_backs,
        filters=staff_queue.FILTERS, counts=staff_queue.counts(current_user, scope=scope),
        count_cap=staff_queue.COUNT_CAP, version=version, sort=sort, sorts=staff_queue.SORTS,
    )


def _thread_action(thread_id: int, action, success: str):
    """Run one triage action on a thread the user may see; refusals come back as notices."""
    thread = access.get_thread_for(current_user, thread_id)
    try:
        action(thread)
    except triage.TriageError as refusal:
        flash(str(refusal), "error")
    else:
        flash(success, "success")
    if access.can_see_thread(current_user, thread):
        return redirect_to(url_for("threads.thread", thread_id=thread.id))
    return redirect_to(url_for("triage.queue"))


@bp.post("/threads/<id:thread_id>/assign")
@staff_required
def assign(thread_id: int):
    """Assign the thread to a member of its care team (or take it)."""
    form = AssignForm()
    if not form.validate_on_submit():
        abort(400)

    def act(thread):
        if not form.assignee.data:
            raise triage.TriageError("Choose the person to assign the thread to.")
        member = db.session.get(User, form.assignee.data)
        if member is None:
            raise triage.TriageError("Choose a member of this care team.")
        got = triage.assign(current_user, thread, member)
        if got.id != member.id:
            flash(f"{member.display_name} is away: {got.display_name} covers.", "info")

    return _thread_action(thread_id, act, "The thread was assigned.")


@bp.post("/threads/<id:thread_id>/reassign")
@staff_required
def reassign(thread_id: int):
    """Send the thread to another care team, with a note only staff see."""
    form = ReassignForm()
    if not form.validate_on_submit():
        thread = access.get_thread_for(current_user, thread_id)
        flash(" ".join(e for errors in form.errors.values() for e in errors), "error")
        return redirect_to(url_for("threads.thread", thread_id=thread.id))

    def act(thread):
        group = db.session.get(TriageGroup, form.group.data)
        if group is None:
            raise triage.TriageError("Choose a care team from the list.")
        triage.reassign_group(current_user, thread, group, form.note.data)

    return _thread_action(thread_id, act, "The thread was sent to the other care team.")


@bp.post("/threads/<id:thread_id>/notes")
@staff_required
def add_note(thread_id: int):
    """A note only staff see, perhaps asking a colleague for advice (a consult)."""
    form = NoteForm()
    form.validate_on_submit()  # the service checks the note; here only the CSRF token
    if form.csrf_token.errors:
        abort(400)
    try:
        note = notes.add(current_user, thread_id, form.body.data or "", form.ask.data or None)
    except notes.NoteError as refusal:
        flash(str(refusal), "error")
    else:
        flash("Your note was added. The patient does not see it." + (
            f" {note.asked.display_name} was asked for advice." if note.asked else ""),
              "success")
    return redirect_to(url_for("threads.thread", thread_id=thread_id))


@bp.post("/threads/<id:thread_id>/called-back")
@staff_required
def called_back(thread_id: int):
    """The patient who asked for a phone call was called."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        callbacks.called_back(current_user, thread_id)
    except callbacks.CallBackError as refusal:
        flash(str(refusal), "error")
    else:
        flash("Marked called back.", "success")
    return redirect_to(url_for("threads.thread", thread_id=thread_id))


@bp.post("/threads/<id:thread_id>/complete")
@staff_required
def complete(thread_id: int):
    """Mark the thread completed; a new message from the patient reopens it."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    return _thread_action(thread_id, lambda thread: triage.complete(current_user, thread),
                          "The thread is completed.")


@bp.post("/threads/<id:thread_id>/record")
@staff_required
def save_to_record(thread_id: int):
    """Save one message, or the whole thread, to the patient's medical record."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    thread = access.get_thread_for(current_user, thread_id)
    message = None
    if message_id := as_id(request.form.get("message_id")):
        message = db.session.get(Message, message_id)
        if message is None or message.thread_id != thread.id:
            abort(404)
    records.save_to_record(current_user, thread, message)
    flash("Saved to the medical record.", "success")
    return redirect_to(url_for("threads.thread", thread_id=thread.id))


@bp.get("/records/<id:entry_id>.json")
@staff_required
def export_record(entry_id: int):
    """Download a medical-record entry as a FHIR Communication resource."""
    entry = records.get_entry_for(current_user, entry_id)
    body = json.dumps(records.to_fhir(entry), indent=2, ensure_ascii=False)
    audit.record("record_export", current_user, thread=entry.thread, record_entry_id=entry.id)
    response = make_response(body)
    response.mimetype = "application/fhir+json"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="record-entry-{entry.id}.fhir.json"')
    return response


@bp.get("/escalations")
@staff_required
def escalations():
    """A coordinator's list of threads that passed their reply time."""
    if not current_user.is_coordinator:
        abort(404)
    return render_page("triage/escalations.html",
                       notifications=triage.escalations_for(current_user),
                       call_backs=callbacks.waiting_at_facility(current_user))


@bp.route("/away", methods=["GET", "POST"])
@staff_required
def away():
    """Set the days you are away and who covers your assigned threads."""
    form = AbsenceForm()
    colleagues = access.colleagues_of(current_user)
    form.surrogate.choices = [(u.id, u.display_name) for u in colleagues]
    status = 200
    if form.validate_on_submit():
        surrogate = db.session.get(User, form.surrogate.data)
        try:
            if surrogate is None:
                raise triage.TriageError("Choose who covers for you.")
            triage.set_absence(current_user, surrogate, form.starts_on.data, form.ends_on.data)
        except triage.TriageError as refusal:
            form.form_errors.append(str(refusal))
            status = 422
        else:
            flash("Your time away is saved.", "success")
            return redirect_to(url_for("triage.away"))
    elif form.is_submitted():
        status = 422
    return render_page("triage/away.html", status=status, form=form,
                       absences=triage.absences_of(current_user))


def _may_read_audit() -> bool:
    return current_user.is_coordinator or current_user.is_admin


@bp.get("/audit")
@login_required
def audit_trail():
    """The audit trail with filters (times in UTC): a coordinator's facility, or (admins)
    all of it."""
    if not _may_read_audit():
        abort(404)
    chosen, errors = audit.parse_filter(request.args)
    page = None if errors else audit.trail_page(current_user, chosen, page_number(), 50)
    args = {k: v for k in audit.FIELDS if (v := request.args.get(k))}
    return render_page("triage/audit.html", status=422 if errors else 200, chosen=chosen,
                       errors=errors, page=page, args=args, actions=audit.ACTIONS)


@bp.get("/audit.csv")
@login_required
def audit_csv():
    """Download the filtered audit trail as CSV."""
    if not _may_read_audit():
        abort(404)
    chosen, errors = audit.parse_filter(request.args)
    if errors:
        abort(400)
    body = audit.trail_csv(current_user, chosen)
    audit.record("audit_export", current_user)
    response = make_response(body)
    response.mimetype = "text/csv"
    response.headers["Content-Disposition"] = 'attachment; filename="audit-trail.csv"'
    return response


@bp.get("/patients")
@staff_required
def patients():
    """The patients a coordinator or group administrator may restrict, A to Z by name, a
    page at a time, found by part of a name or username (other staff: 404)."""
    search = people.parse(request.args)
    page = blocking.patients_page(current_user, search, page_number(),
                                  after=cursor_arg("after"), before=cursor_arg("before"))
    return render_page("triage/patients.html", fragment="patient_list", target="patient-list",
                       page=page, search=search)


@bp.route("/patients/<id:patient_id>", methods=["GET", "POST"])
@staff_required
def patient(patient_id: int):
    """A patient's restrictions: current and past, with who, when and why; add one."""
    patient = blocking.get_patient_for(current_user, patient_id)
    form = BlockForm()
    form.kind.choices = list(blocking.KINDS.items())
    form.group.choices = [(0, "(not needed for all of messaging)")] + [
        (g.id, g.name) for g in patient.care_groups]
    status = 200
    if form.validate_on_submit():
        try:
            blocking.block(current_user, patient, form.kind.data, form.group.data or None,
                           form.reason.data)
        except blocking.BlockError as refusal:
            form.form_errors.append(str(refusal))
            status = 422
        else:
            flash("The restriction is in place.", "success")
            return redirect_to(url_for("triage.patient", patient_id=patient.id))
    elif form.is_submitted():
        status = 422
    blocks = blocking.history(patient)
    return render_page("triage/patient.html", status=status, patient=patient, form=form,
                       blocks=blocks, in_reach=blocking.liftable_ids(current_user, blocks),
                       kinds=blocking.KINDS, lift_form=EmptyForm())


@bp.post("/patients/<id:patient_id>/blocks/<id:block_id>/lift")
@staff_required
def lift_block(patient_id: int, block_id: int):
    """Lift a restriction. After a block from all of messaging, the patient opts in again."""
    patient = blocking.get_patient_for(current_user, patient_id)
    if EmptyForm().validate_on_submit():
        blocking.unblock(current_user, patient, block_id)
        flash("The restriction was lifted.", "success")
    return redirect_to(url_for("triage.patient", patient_id=patient.id))
