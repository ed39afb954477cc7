"""Identity verified in person: the desk finds a patient's account, checks a photo ID, and
makes the account premium with its care teams (services/identity.py has the rules)."""

from flask import flash, request, url_for
from flask_login import current_user

from ..auth.guards import staff_required
from ..services import identity
from ..templating import redirect_to, render_page
from . import bp
from .forms import LinkTeamsForm, VerifyIdentityForm


@bp.get("/identity")
@staff_required
def identity_search():
    """Find a patient's account by username, email address or part of the name (staff who
    verify identities; others 404)."""
    typed = request.args.get("q", "").strip()[:identity.TYPED_MAX]
    found = identity.find(current_user, typed)
    return render_page("triage/identity.html", typed=typed, found=found,
                       most=identity.FOUND_AT_MOST)


@bp.route("/identity/<id:patient_id>", methods=["GET", "POST"])
@staff_required
def identity_patient(patient_id: int):
    """A patient's account: verify the identity (photo ID checked in person), or, once
    verified, link more care teams."""
    patient = identity.get_patient_for(current_user, patient_id)
    # The form posted says what the person meant (a verification may come after someone
    # else verified the patient in another window); a page shown follows the account.
    verifying = request.form.get("step", "verify") == "verify" \
        if request.method == "POST" else patient.identity_verified_at is None
    if verifying:
        form = VerifyIdentityForm(data=None if request.method == "POST" else {
            "display_name": patient.display_name})
    else:
        form = LinkTeamsForm()
    linked = {team.id for team in patient.care_groups}
    reach = identity.teams_in_reach(current_user)
    several = len({team.facility_id for team in reach}) > 1
    form.teams.choices = [(team.id, f"{team.name} ({team.facility.name})" if several
                           else team.name) for team in reach if team.id not in linked]
    status = 200
    if form.validate_on_submit():
        try:
            if verifying:
                added = identity.verify(
                    current_user, patient, display_name=form.display_name.data,
                    group_ids=form.teams.data or [],
                    photo_id_checked=form.photo_id_checked.data)
            else:
                added = identity.link_teams(current_user, patient, form.teams.data or [])
        except identity.AlreadyVerified as refusal:
            flash(str(refusal), "error")
            return redirect_to(url_for("triage.identity_patient", patient_id=patient.id))
        except identity.IdentityError as refusal:
            form.form_errors.append(str(refusal))
            status = 422
        else:
            flash(_done(patient, added, verifying), "success")
            return redirect_to(url_for("triage.identity_patient", patient_id=patient.id))
    elif form.is_submitted():
        status = 422
    return render_page("triage/identity_patient.html", status=status, patient=patient,
                       form=form, verifying=verifying, email=identity.email_of(patient))


def _done(patient, added, verified_now: bool) -> str:
    teams = ", ".join(team.name for team in added)
    if not verified_now:
        return f"{patient.display_name} can now write to {teams}."
    return (f"{patient.display_name}'s identity is verified: the account is premium."
            + (f" Care teams linked: {teams}." if teams else "")
            + " Secure messaging opens once they accept its terms at their next sign-in.")
