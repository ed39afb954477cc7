from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from ..parsing import coerce_id


class AssignForm(FlaskForm):
    assignee = SelectField("Assign to", coerce=coerce_id, validate_choice=False)


class ReassignForm(FlaskForm):
    group = SelectField("Send to care team", coerce=coerce_id, validate_choice=False)
    note = TextAreaField(
        "Note for the other team (the patient does not see it)",
        validators=[DataRequired("Say why you are sending it."), Length(max=1000)],
        render_kw={"rows": 3},
    )


class AbsenceForm(FlaskForm):
    surrogate = SelectField("Who covers for you", coerce=coerce_id, validate_choice=False)
    starts_on = DateField("First day away", validators=[DataRequired("Enter the first day.")])
    ends_on = DateField("Last day away", validators=[DataRequired("Enter the last day.")])


class BlockForm(FlaskForm):
    kind = SelectField("Restrict the patient", validate_choice=False)
    group = SelectField("Care team", coerce=coerce_id, validate_choice=False)
    reason = TextAreaField("Reason (kept with the restriction)", validators=[
        DataRequired("Give the reason for the restriction."), Length(max=2000)],
        render_kw={"rows": 3})


class QuickTextForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired("Enter a title."), Length(max=80)],
                        render_kw={"maxlength": 80})
    body = TextAreaField("Text", validators=[DataRequired("Enter the text."),
                                             Length(max=2000)], render_kw={"rows": 6})
    team = SelectField("Who can use it", coerce=coerce_id, validate_choice=False)


class NoteForm(FlaskForm):
    # Own ids: the thread page's reply form has its own "body" beside this one.
    body = TextAreaField("Add a note (the patient never sees it)", validators=[
        DataRequired("Write the note first."), Length(max=2000)], id="note-body",
        render_kw={"rows": 3, "maxlength": 2000})
    ask = SelectField("Ask a colleague for advice", coerce=coerce_id, validate_choice=False,
                      id="note-ask")


class _TeamsField(SelectMultipleField):
    """Care teams as checkboxes (the choices: the teams in the staff member's reach)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class VerifyIdentityForm(FlaskForm):
    # Which form this is: a verification posted after someone else verified the patient (in
    # another window) is refused, not taken for a linking of teams.
    step = HiddenField(default="verify")
    display_name = StringField("Name as on the photo ID", validators=[
        DataRequired("Enter the patient's name as it is on the photo ID."), Length(max=120)],
        render_kw={"maxlength": 120, "autocomplete": "off"})
    teams = _TeamsField("Care teams the patient may write to", coerce=coerce_id,
                        validate_choice=False)
    photo_id_checked = BooleanField("I checked a photo ID in person", validators=[
        DataRequired("Tick “I checked a photo ID in person” once you have seen the "
                     "patient's photo ID.")])


class LinkTeamsForm(FlaskForm):
    step = HiddenField(default="link")
    teams = _TeamsField("Link more care teams", coerce=coerce_id, validate_choice=False)
