"""Quick texts: a staff member's own, and their care teams' (kept by group administrators).
They are inserted from the message forms (threads/message_form.py, action "insert")."""

from flask import flash, request, url_for
from flask_login import current_user

from ..auth.guards import staff_required
from ..forms import EmptyForm
from ..services import quick_texts
from ..templating import redirect_to, render_page
from . import bp
from .forms import QuickTextForm


@bp.route("/quick-texts", methods=["GET", "POST"])
@bp.route("/quick-texts/<id:quick_text_id>", methods=["GET", "POST"])
@staff_required
def quick_texts_page(quick_text_id: int | None = None):
    """The quick texts this staff member may use, and the form to add one or change one."""
    editing = quick_texts.get_for_editing(current_user, quick_text_id) \
        if quick_text_id else None
    teams = quick_texts.managed_teams(current_user)
    data = None
    if editing is not None and request.method == "GET":
        data = {"title": editing.title, "body": editing.body, "team": editing.group_id or 0}
    form = QuickTextForm(data=data)
    form.team.choices = [(0, "Only me")] + [(team.id, f"Everyone on {team.name}")
                                           for team in teams]
    status = 200
    if form.validate_on_submit():
        try:
            quick_texts.save(current_user, editing, title=form.title.data, body=form.body.data,
                             team_id=form.team.data or None)
        except quick_texts.QuickTextError as refusal:
            form.form_errors.append(str(refusal))
            status = 422
        else:
            flash("The quick text is saved.", "success")
            return redirect_to(url_for("triage.quick_texts_page"))
    elif form.is_submitted():
        status = 422
    return render_page(
        "triage/quick_texts.html", status=status, form=form, editing=editing,
        shelf=quick_texts.shelf_of(current_user), managed={team.id for team in teams},
        placeholders=quick_texts.PLACEHOLDERS, delete_form=EmptyForm())


@bp.post("/quick-texts/<id:quick_text_id>/delete")
@staff_required
def delete_quick_text(quick_text_id: int):
    if EmptyForm().validate_on_submit():
        quick_texts.delete(current_user, quick_text_id)
        flash("The quick text was deleted.", "success")
    else:
        flash("The quick text was not deleted: the page had expired. Try again.", "error")
    return redirect_to(url_for("triage.quick_texts_page"))
