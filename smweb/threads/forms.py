"""The message forms: a patient's new message, a staff member's, and a reply. One template
(threads/_message_form.html) shows each; services/messaging.py submit() does what they ask."""

import secrets

from flask_babel import gettext, lazy_gettext
from flask_wtf import FlaskForm
from wtforms import (
    HiddenField,
    MultipleFileField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ..models import CATEGORIES
from ..models.messaging import BODY_MAX, SUBJECT_MAX
from ..parsing import as_id, coerce_id
from ..services.requests import DAYS, PHARMACY, TIMES, AppointmentQuestion, Renewal


class ChoiceField(SelectField):
    """A select whose refusal of an unknown value reads as a sentence for the user."""

    def __init__(self, *args, invalid_message: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.invalid_message = invalid_message

    def pre_validate(self, form):
        if not self.data:
            return  # an empty choice is DataRequired's to report
        if self.data not in {choice.value for choice in self.choices}:
            raise ValidationError(self.invalid_message)


def _choices(labels: dict[str, str]) -> list[SelectChoice]:
    """A request form's choices, read in the page's language; the message the care team
    reads keeps their English (services/requests.py, as_message)."""
    return [SelectChoice(key, lazy_gettext(label)) for key, label in labels.items()]


def category_field() -> ChoiceField:
    # A category is stored in English (the value); its label is in the page's language.
    return ChoiceField(
        lazy_gettext("Category"),
        choices=[SelectChoice("", lazy_gettext("Select a category"))]
        + [SelectChoice(c, lazy_gettext(c)) for c in CATEGORIES],
        validators=[DataRequired(lazy_gettext("Select a category."))],
        invalid_message=lazy_gettext("Select a category from the list."),
    )


def subject_field() -> StringField:
    return StringField(
        lazy_gettext("Subject"),
        validators=[
            DataRequired(lazy_gettext("Enter a subject.")),
            Length(max=SUBJECT_MAX, message=lazy_gettext(
                "The subject can be at most %(max)d characters.")),
        ],
        render_kw={"maxlength": SUBJECT_MAX},
        description=lazy_gettext("At most %(max)d characters.", max=SUBJECT_MAX),
    )


def attachments_field() -> MultipleFileField:
    """Files to send; checked by the attachments service, not here."""
    return MultipleFileField(lazy_gettext("Attach files"))


def body_field(label=None) -> TextAreaField:
    return TextAreaField(
        label or lazy_gettext("Message"),
        validators=[
            DataRequired(lazy_gettext("Enter your message.")),
            Length(max=BODY_MAX, message=lazy_gettext(
                "The message can be at most %(max)d characters.")),
        ],
        render_kw={"rows": 10},
    )


class EducationField(SelectMultipleField):
    """Library items as checkboxes: a picker that needs no JavaScript."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form):
        known = {str(choice[0]) for choice in self.choices}
        if any(str(value) not in known for value in self.data or []):
            raise ValidationError(
                gettext("Choose education items from the library list."))


def education_field() -> EducationField:
    return EducationField(lazy_gettext("Education materials from the library"),
                          coerce=coerce_id, choices=[])


class SendsOnce(FlaskForm):
    """A message form with a random key of its own: posted twice (a double click, a resend
    after a slow answer), it sends one message (services/messaging.py, sent_with_key)."""

    form_key = HiddenField(default=lambda: secrets.token_hex(16),
                           validators=[Length(max=32)])
    # Set when Send stopped at the warning about words of an emergency (messaging.Urgent):
    # the form shows it, with "Send my message anyway".
    urgent = None


class NewMessageForm(SendsOnce):
    """A new message: to whom, its category, subject, text and files. A subclass says who
    can be chosen and how the choice reads (RECIPIENT: label, placeholder, the message when
    none is chosen, the message when the choice is not one of the list)."""

    RECIPIENT: tuple[str, str, str, str]
    recipient = ChoiceField(validators=[DataRequired()], invalid_message="")
    category = category_field()
    subject = subject_field()
    body = body_field()
    attachments = attachments_field()

    def __init__(self, choices: list[SelectChoice], *args, **kwargs):
        super().__init__(*args, **kwargs)
        label, placeholder, required, invalid = self.RECIPIENT
        self.recipient.label.text = label
        self.recipient.validators = [DataRequired(required)]
        self.recipient.invalid_message = invalid
        self.recipient.choices = [SelectChoice("", placeholder), *choices]

    def validate_draft(self) -> bool:
        """A draft may leave fields empty, but what is there must be valid."""
        ok = True
        for field in (self.recipient, self.category):
            if field.data:
                try:
                    field.pre_validate(self)
                except ValidationError as error:
                    field.errors = [str(error)]
                    ok = False
        if len(self.subject.data or "") > SUBJECT_MAX:
            self.subject.errors = [gettext("The subject can be at most %(max)d characters.",
                                           max=SUBJECT_MAX)]
            ok = False
        if len(self.body.data or "") > BODY_MAX:
            self.body.errors = [gettext("The message can be at most %(max)d characters.",
                                        max=BODY_MAX)]
            ok = False
        return ok


class ComposeForm(NewMessageForm):
    """A patient's new message to one of their care teams."""

    RECIPIENT = (lazy_gettext("To (care team)"), lazy_gettext("Select a care team"),
                 lazy_gettext("Select the care team to write to."),
                 lazy_gettext("You can only write to your own care teams. "
                              "Select one from the list."))

    def __init__(self, groups: list[tuple[str, list]], *args, **kwargs):
        """`groups`: (heading, teams) pairs, each an <optgroup> of the list."""
        super().__init__([SelectChoice(str(g.id), g.name, optgroup=heading)
                          for heading, teams in groups for g in teams], *args, **kwargs)

    @property
    def group_id(self) -> int | None:
        """The team chosen; None when none is, or the value is not a team's (a crafted post:
        the field's own check says so)."""
        return as_id(self.recipient.data)


class ReplyForm(SendsOnce):
    body = body_field(lazy_gettext("Your reply"))
    attachments = attachments_field()

    def validate_draft(self) -> bool:
        if len(self.body.data or "") > BODY_MAX:
            self.body.errors = [gettext("Your reply can be at most %(max)d characters.",
                                        max=BODY_MAX)]
            return False
        return True


class StaffComposeForm(NewMessageForm):
    """A staff member's new message to a patient of one of their care teams."""

    RECIPIENT = (lazy_gettext("To (patient, care team)"), lazy_gettext("Select a patient"),
                 lazy_gettext("Select the patient to write to."),
                 lazy_gettext("Select a patient of one of your care teams from the list."))

    def __init__(self, patients_by_group, *args, **kwargs):
        super().__init__([
            SelectChoice(f"{group.id}:{patient.id}", patient.display_name, optgroup=group.name)
            for group, patients in patients_by_group for patient in patients
        ], *args, **kwargs)

    @property
    def group_and_patient(self) -> tuple[int | None, int | None]:
        group_text, _, patient_text = (self.recipient.data or "").partition(":")
        group_id, patient_id = as_id(group_text), as_id(patient_text)
        if group_id is None or patient_id is None:
            return None, None  # none chosen, or not a choice (the field's check says so)
        return group_id, patient_id


class StaffReplyForm(ReplyForm):
    education = education_field()


class StaffNewMessageForm(StaffComposeForm):
    education = education_field()


class CheckboxesField(SelectMultipleField):
    """Choices as checkboxes, which need no JavaScript; an unknown value is refused."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form):
        known = {choice.value for choice in self.choices}
        if any(str(value) not in known for value in self.data or []):
            raise ValidationError(gettext("Choose from the list."))


class RequestForm(SendsOnce):
    """A request that routes (services/requests.py): to which of the patient's teams, a few
    fields, and a note."""

    recipient = ChoiceField(
        lazy_gettext("To (care team)"),
        validators=[DataRequired(lazy_gettext("Select the care team to write to."))],
        invalid_message=lazy_gettext(
            "You can only write to your own care teams. Select one from the list."))
    note = TextAreaField(lazy_gettext("Anything else the team should know (optional)"),
                         validators=[Length(max=2000, message=lazy_gettext(
                             "The note can be at most %(max)d characters."))],
                         render_kw={"rows": 4})

    def __init__(self, groups: list[tuple[str, list]], *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.recipient.choices = [SelectChoice("", gettext("Select a care team"))] + [
            SelectChoice(str(g.id), g.name, optgroup=heading)
            for heading, teams in groups for g in teams]

    @property
    def group_id(self) -> int | None:
        return as_id(self.recipient.data)


class RenewalForm(RequestForm):
    medication = StringField(lazy_gettext("Medication name"), validators=[
        DataRequired(lazy_gettext("Enter the name of the medication.")),
        Length(max=100, message=lazy_gettext(
            "The medication name can be at most %(max)d characters."))])
    dose = StringField(lazy_gettext("Dose, if you know it"),
                       description=lazy_gettext("For example: 10 mg once a day"),
                       validators=[Length(max=100, message=lazy_gettext(
                           "The dose can be at most %(max)d characters."))])
    pharmacy = ChoiceField(lazy_gettext("How you get it"), default="mail",
                           choices=_choices(PHARMACY),
                           invalid_message=lazy_gettext("Choose how you get your medication."))

    def request(self) -> Renewal:
        return Renewal(self.medication.data or "", self.dose.data or "",
                       self.pharmacy.data or "mail", self.note.data or "")


class AppointmentForm(RequestForm):
    visit = StringField(lazy_gettext("Which appointment"),
                        description=lazy_gettext("For example: my eye exam on May 3"),
                        validators=[
                            DataRequired(lazy_gettext("Say which appointment it is about.")),
                            Length(max=150, message=lazy_gettext(
                                "This can be at most %(max)d characters."))])
    days = CheckboxesField(lazy_gettext("Days that suit you"), choices=_choices(DAYS))
    times = CheckboxesField(lazy_gettext("Times that suit you"), choices=_choices(TIMES))

    def request(self) -> AppointmentQuestion:
        return AppointmentQuestion(self.visit.data or "", list(self.days.data or []),
                                   list(self.times.data or []), self.note.data or "")


class CallBackForm(FlaskForm):
    """A patient asks for a phone call on an overdue thread (services/callbacks.py)."""

    phone = StringField(lazy_gettext("Phone number to call"),
                        description=lazy_gettext("For example: 555-123-4567"),
                        validators=[DataRequired(lazy_gettext("Enter the number to call.")),
                                    Length(max=40, message=lazy_gettext(
                                        "The number can be at most %(max)d characters."))],
                        render_kw={"autocomplete": "tel", "inputmode": "tel"})
    good_times = StringField(lazy_gettext("Good times to call (optional)"),
                             description=lazy_gettext("For example: weekday mornings"),
                             validators=[Length(max=100, message=lazy_gettext(
                                 "This can be at most %(max)d characters."))])
