"""Administration in the browser: accounts, facilities and care teams (admins only)."""

from flask import abort, flash, request, url_for
from flask_login import current_user
from sqlalchemy import select

from ..auth.forms import CaregiverForm
from ..auth.guards import admin_required
from ..extensions import db
from ..forms import EmptyForm
from ..models import Facility, TriageGroup, User
from ..models.people import MEMBER_ROLES
from ..services import admin, caregivers, health, people, sessions
from ..templating import cursor_arg, fragment_request, page_number, redirect_to, render_page
from . import bp
from .forms import EditUserForm, FacilityForm, GroupForm, NewUserForm, PasswordForm


def _get(model, object_id):
    found = db.session.get(model, object_id)
    if found is None:
        abort(404)
    return found


@bp.get("/")
@admin_required
def index():
    """The accounts, A to Z by username, a page at a time, found by part of a name or
    username; the facilities and their care teams."""
    search = people.parse(request.args)
    page = admin.accounts_page(search, page_number(), after=cursor_arg("after"),
                               before=cursor_arg("before"))
    # The facilities are the page's, not the account list's: a search's fragment skips them.
    facilities = [] if fragment_request("account-list") else admin.facilities_overview()
    return render_page("admin/index.html", fragment="account_list", target="account-list",
                       page=page, search=search, facilities=facilities,
                       facility_form=FacilityForm(), group_form=GroupForm())


@bp.route("/users/new", methods=["GET", "POST"])
@admin_required
def new_user():
    """Create an account."""
    form = NewUserForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = admin.create_user(current_user, form.username.data, form.display_name.data,
                                     form.role.data, form.account_level.data, form.password.data)
        except admin.AdminError as refusal:
            form.form_errors.append(str(refusal))
            status = 422
        else:
            flash(f"The account {user.username} was created.", "success")
            return redirect_to(url_for("admin.edit_user", user_id=user.id))
    elif form.is_submitted():
        status = 422
    return render_page("admin/new_user.html", form=form, status=status)


@bp.route("/users/<id:user_id>", methods=["GET", "POST"])
@admin_required
def edit_user(user_id: int):
    """Change an account's role, level, care teams; disable it."""
    user = _get(User, user_id)
    current_groups = user.care_groups if user.is_patient else user.staff_groups
    form = EditUserForm(data=None if request.method == "POST" else {
        "role": user.role, "account_level": user.account_level, "disabled": user.disabled,
        "groups": [g.id for g in current_groups]})
    groups = db.session.scalars(select(TriageGroup).order_by(TriageGroup.name)).all()
    form.groups.choices = [(g.id, f"{g.name} ({g.facility.name})") for g in groups]
    status = 200
    if form.validate_on_submit():
        try:
            admin.update_user(
                current_user, user, role=form.role.data, account_level=form.account_level.data,
                disabled=form.disabled.data,
                care_teams=(form.groups.data or []) if user.is_patient else None,
                memberships=None if user.is_patient else {
                    g.id: request.form[f"role-{g.id}"] for g in groups
                    if request.form.get(f"role-{g.id}")})
        except admin.AdminError as refusal:
            form.form_errors.append(str(refusal))
            status = 422
        else:
            flash("The account was saved.", "success")
            return redirect_to(url_for("admin.edit_user", user_id=user.id))
    elif form.is_submitted():
        status = 422
    return render_page("admin/edit_user.html", user=user, form=form, groups=groups,
                       memberships=admin.memberships_of(user), member_roles=MEMBER_ROLES,
                       password_form=PasswordForm(), status=status,
                       active_sessions=len(sessions.active_for(user)),
                       caregiver_links=caregivers.caregivers_of(user) if user.is_patient
                       else [], caregiver_form=CaregiverForm(formdata=None))


def _account_action(user_id: int, act):
    """A one-button action on an account: `act(user)` does it and says what was done."""
    user = _get(User, user_id)
    if EmptyForm().validate_on_submit():
        flash(act(user), "success")
    return redirect_to(url_for("admin.edit_user", user_id=user.id))


@bp.post("/users/<id:user_id>/caregivers")
@admin_required
def link_caregiver(user_id: int):
    """Give a caregiver's account access to this patient's messages (the patient asked at
    the help desk)."""
    patient = _get(User, user_id)
    form = CaregiverForm()
    if form.validate_on_submit():
        try:
            link = caregivers.add(patient, form.username.data, form.access.data == "write",
                                  by=current_user)
        except caregivers.CaregiverError as refusal:
            flash(str(refusal), "error")
        else:
            flash(f"{link.caregiver.display_name} can now act for {patient.display_name} "
                  f"({link.access.lower()}).", "success")
    else:
        flash("Enter the caregiver's username and choose what they may do.", "error")
    return redirect_to(url_for("admin.edit_user", user_id=patient.id))


@bp.post("/users/<id:user_id>/caregivers/<id:link_id>/end")
@admin_required
def end_caregiver(user_id: int, link_id: int):
    def act(patient):
        link = caregivers.link_of(patient, link_id)
        caregivers.end(link, by=current_user)
        return f"{link.caregiver.display_name} no longer acts for {patient.display_name}."
    return _account_action(user_id, act)


@bp.post("/users/<id:user_id>/sessions/end")
@admin_required
def end_sessions(user_id: int):
    """Sign the person out on every device (a lost phone, a shared login, a leaver)."""
    def act(user):
        ended = admin.end_sessions(current_user, user)
        return f"Ended {ended} session{'' if ended == 1 else 's'} of {user.username}."
    return _account_action(user_id, act)


@bp.post("/users/<id:user_id>/two-step/reset")
@admin_required
def reset_two_step(user_id: int):
    """Turn off the person's second factor (a lost phone); staff set it up again."""
    def act(user):
        admin.reset_two_step(current_user, user)
        return f"Two-step verification of {user.username} was reset."
    return _account_action(user_id, act)


@bp.post("/users/<id:user_id>/password")
@admin_required
def reset_password(user_id: int):
    """Give the account a new password."""
    user = _get(User, user_id)
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            admin.reset_password(current_user, user, form.password.data)
        except admin.AdminError as refusal:
            flash(str(refusal), "error")
        else:
            flash("The password was changed.", "success")
    else:
        flash("Enter the new password.", "error")
    return redirect_to(url_for("admin.edit_user", user_id=user.id))


@bp.post("/facilities")
@admin_required
def new_facility():
    """Add a facility."""
    form = FacilityForm()
    if form.validate_on_submit():
        try:
            admin.create_facility(form.name.data, form.timezone.data.strip(), form.phone.data,
                                  form.opens_at.data, form.closes_at.data)
        except admin.AdminError as refusal:
            flash(str(refusal), "error")
        else:
            flash("The facility was added.", "success")
    else:
        flash(" ".join(e for errors in form.errors.values() for e in errors), "error")
    return redirect_to(url_for("admin.index"))


@bp.post("/facilities/<id:facility_id>/groups")
@admin_required
def new_group(facility_id: int):
    """Add a care team to a facility."""
    facility = _get(Facility, facility_id)
    form = GroupForm()
    if form.validate_on_submit():
        try:
            admin.create_group(facility, form.name.data)
        except admin.AdminError as refusal:
            flash(str(refusal), "error")
        else:
            flash("The care team was added.", "success")
    else:
        flash("Enter the care team's name.", "error")
    return redirect_to(url_for("admin.index"))


@bp.route("/facilities/<id:facility_id>", methods=["GET", "POST"])
@admin_required
def edit_facility(facility_id: int):
    """Change a facility's time zone, phone and business hours."""
    facility = _get(Facility, facility_id)
    form = FacilityForm(obj=facility if request.method == "GET" else None)
    form.name.data = facility.name  # the name stays: threads and the record refer to it
    status = 200
    if form.validate_on_submit():
        try:
            admin.update_facility(facility, form.timezone.data.strip(), form.phone.data,
                                  form.opens_at.data, form.closes_at.data)
        except admin.AdminError as refusal:
            form.form_errors.append(str(refusal))
            status = 422
        else:
            flash("The facility was saved.", "success")
            return redirect_to(url_for("admin.index"))
    elif form.is_submitted():
        status = 422
    return render_page("admin/facility.html", facility=facility, form=form, status=status)


@bp.get("/health")
@admin_required
def health_page():
    """Site health: scheduled jobs, the outbox, mail relay, clamd, storage, database."""
    return render_page("admin/health.html", checks=health.checks())
