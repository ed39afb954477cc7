from datetime import time

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from ..parsing import coerce_id

ROLES = [SelectChoice("patient", "Patient"), SelectChoice("staff", "Staff"),
         SelectChoice("admin", "Admin"),
         SelectChoice("caregiver", "Caregiver (acts for patients who give access)")]
LEVELS = [SelectChoice("basic", "Basic"), SelectChoice("premium", "Premium (identity verified)")]


class NewUserForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired("Enter a username."),
                                                   Length(max=64)])
    display_name = StringField("Name", validators=[DataRequired("Enter the person's name."),
                                                   Length(max=120)])
    role = SelectField("Role", choices=ROLES)
    account_level = SelectField("Account level", choices=LEVELS)
    password = PasswordField("First password (12 to 128 characters)",
                             validators=[DataRequired("Enter a first password.")])


class EditUserForm(FlaskForm):
    role = SelectField("Role", choices=ROLES)
    account_level = SelectField("Account level", choices=LEVELS)
    disabled = BooleanField("Disabled (can't sign in; signed out now)")
    groups = SelectMultipleField("Care teams", coerce=coerce_id,
                                 widget=ListWidget(prefix_label=False),
                                 option_widget=CheckboxInput())


class PasswordForm(FlaskForm):
    password = PasswordField("New password (12 to 128 characters)",
                             validators=[DataRequired("Enter the new password.")])


class FacilityForm(FlaskForm):
    name = StringField("Facility name", validators=[DataRequired("Enter the facility's name."),
                                                    Length(max=120)])
    timezone = StringField("Time zone", default="America/New_York",
                           validators=[DataRequired("Enter a time zone.")])
    phone = StringField("Phone", validators=[DataRequired("Enter the phone number."),
                                             Length(max=40)])
    opens_at = TimeField("Business hours start", default=time(8, 0),
                         validators=[DataRequired("Enter when business hours start.")])
    closes_at = TimeField("Business hours end", default=time(17, 0),
                          validators=[DataRequired("Enter when business hours end.")])


class GroupForm(FlaskForm):
    name = StringField("Care team name", validators=[DataRequired("Enter the care team's name."),
                                                     Length(max=120)])
