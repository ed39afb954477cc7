"""Caregivers: the patient's page of who may act for them, and the caregiver's choice of
whose messages to open."""

from flask import flash, request, session, url_for
from flask_babel import gettext
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from ..forms import EmptyForm
from ..parsing import local_path
from ..services import caregivers
from ..templating import redirect_to, render_page
from . import bp
from .forms import ActingForForm, CaregiverAccessForm, CaregiverForm
from .guards import caregiver_required, own_patient_account_required


@bp.route("/caregivers", methods=["GET", "POST"])
@own_patient_account_required
def caregivers_page():
    """The patient's caregivers, what each may do, and a form to give one access."""
    form = CaregiverForm()
    status = 200
    if form.validate_on_submit():
        try:
            link = caregivers.add(current_user, form.username.data,
                                  form.access.data == "write", by=current_user)
        except caregivers.CaregiverError as refusal:
            form.username.errors.append(str(refusal))
            status = refusal.status
        else:
            flash(_can_now(link), "success")
            return redirect_to(url_for("auth.caregivers_page"))
    elif form.is_submitted():
        status = 422
    return render_page("auth/caregivers.html", status=status, form=form,
                       links=caregivers.caregivers_of(current_user),
                       access_form=CaregiverAccessForm(formdata=None), end_form=EmptyForm())


@bp.post("/caregivers/<id:link_id>/access")
@own_patient_account_required
def change_caregiver_access(link_id: int):
    link = caregivers.link_of(current_user, link_id)
    form = CaregiverAccessForm()
    if form.validate_on_submit():
        caregivers.change_access(link, form.access.data == "write", by=current_user)
        flash(_can_now(link), "success")
    else:
        flash(gettext("Choose what your caregiver may do, then press Change."), "error")
    return redirect_to(url_for("auth.caregivers_page"))


@bp.post("/caregivers/<id:link_id>/end")
@own_patient_account_required
def end_caregiver_access(link_id: int):
    """Revoke at once: the caregiver's next request is refused."""
    link = caregivers.link_of(current_user, link_id)
    if EmptyForm().validate_on_submit():
        caregivers.end(link, by=current_user)
        flash(gettext("%(name)s no longer has access to your messages.",
                      name=link.caregiver.display_name), "success")
    return redirect_to(url_for("auth.caregivers_page"))


def _can_now(link) -> str:
    name = link.caregiver.display_name
    if link.may_write:
        return gettext("%(name)s can now read and write your messages.", name=name)
    return gettext("%(name)s can now read your messages.", name=name)


def _whose(link) -> str:
    """A choice of patient: their name and what the caregiver may do."""
    name = link.patient.display_name
    if link.may_write:
        return gettext("%(name)s (read and write)", name=name)
    return gettext("%(name)s (read only)", name=name)


@bp.route("/acting-for", methods=["GET", "POST"])
@caregiver_required
def acting_for():
    """A caregiver chooses whose messages to open (and switches between patients)."""
    links = caregivers.current_links(current_user)
    form = ActingForForm()
    form.patient.choices = [SelectChoice(link.patient_id, _whose(link)) for link in links]
    next_url = local_path(request.values.get("next"))
    status = 200
    if form.validate_on_submit():
        session["acting_for"] = form.patient.data
        return redirect_to(next_url or url_for("mailbox.folder", folder="inbox"))
    if form.is_submitted():
        status = 422
    elif session.get("acting_for") in {link.patient_id for link in links}:
        form.patient.data = session["acting_for"]
    return render_page("auth/acting_for.html", status=status, form=form, links=links,
                       next_url=next_url)
