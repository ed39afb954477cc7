"""The care team's side: the queue of their groups' threads, and writing to a patient."""

from flask import current_app, flash, url_for
from flask_login import current_user

from ..auth.guards import staff_required
from ..mailbox.forms import StaffComposeForm
from ..mailbox.routes import page_number
from ..services import access, mailbox, messaging
from ..templating import redirect_to, render_page
from . import bp


@bp.get("/")
@staff_required
def queue():
    """The threads of the staff member's triage groups, newest patient message first."""
    page = mailbox.queue_page(current_user, page_number(), current_app.config["PAGE_SIZE"])
    return render_page("triage/queue.html", fragment="queue_list", page=page)


@bp.route("/compose", methods=["GET", "POST"])
@staff_required
def compose():
    """Start a new thread to a patient of one of the staff member's groups."""
    patients_by_group = access.patients_staff_may_write(current_user)
    form = StaffComposeForm(patients_by_group)
    status = 200
    if form.validate_on_submit():
        group_id, patient_id = form.group_and_patient
        new = messaging.NewMessage(group_id, form.category.data, form.subject.data, form.body.data)
        try:
            thread = messaging.start_thread_to_patient(current_user, patient_id, new)
        except messaging.NotAllowed as refusal:
            form.form_errors.append(str(refusal))
            status = 403
        else:
            flash("Your message was sent to the patient.", "success")
            return redirect_to(url_for("mailbox.thread", thread_id=thread.id))
    elif form.is_submitted():
        status = 422
    return render_page("triage/compose.html", fragment="compose_form", status=status, form=form)
