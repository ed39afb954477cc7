from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

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
