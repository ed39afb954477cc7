from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    RadioField,
    SelectMultipleField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, EqualTo, InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..i18n import LANGUAGES
from ..parsing import coerce_id


class SignInForm(FlaskForm):
    username = StringField(
        "Username", validators=[DataRequired("Enter your username."), Length(max=64)],
        render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"},
    )
    password = PasswordField(
        "Password", validators=[DataRequired("Enter your password."), Length(max=256)],
        render_kw={"autocomplete": "current-password"},
    )
    shared = BooleanField(
        "This is a shared computer",
        description="You will be signed out sooner when you step away, and nothing is kept "
                    "in this browser.",
    )


class CodeForm(FlaskForm):
    """The second step of signing in: a code from the app, or a recovery code."""

    code = StringField(
        "Code", validators=[DataRequired("Enter the code."), Length(max=32)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "text",
                   "autocapitalize": "none", "spellcheck": "false"},
    )


class PasswordChangeForm(FlaskForm):
    current = PasswordField(
        "Current password", validators=[DataRequired("Enter your current password."),
                                        Length(max=256)],
        render_kw={"autocomplete": "current-password"})
    new = PasswordField(
        "New password", validators=[DataRequired("Enter a new password."), Length(max=256)],
        description="At least 12 characters. Any characters, spaces too: a short sentence "
                    "you can remember works well. Not a common password.",
        render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(
        "New password again", validators=[DataRequired("Enter the new password again."),
                                          EqualTo("new", "The two new passwords differ.")],
        render_kw={"autocomplete": "new-password"})


class TurnOffTwoStepForm(FlaskForm):
    password = PasswordField(
        "Your password", validators=[DataRequired("Enter your password."), Length(max=256)],
        render_kw={"autocomplete": "current-password"})


class OptInForm(FlaskForm):
    accept = BooleanField(
        "I have read and accept these terms.",
        validators=[DataRequired("Check the box to accept the terms, or go back.")],
    )


class PreferencesForm(FlaskForm):
    signature_name = StringField("Name", validators=[Length(max=100)])
    signature_title = StringField("Title or role", validators=[Length(max=100)])
    signature_by_default = BooleanField("Add my signature to new messages and replies")
    notify = RadioField("Email me when a new message is waiting", default="none",
                        validators=[InputRequired("Choose how you want to be told.")])
    email = EmailField("Email address for notices", validators=[
        Optional(), Length(max=254), Email("Enter an email address like name@example.com.")])
    language = RadioField("Language of your pages and emails",
                          choices=[SelectChoice(code, name) for code, name in LANGUAGES.items()],
                          validators=[InputRequired("Choose English or Español.")])
    contacts = SelectMultipleField("Care teams shown when you write a message", coerce=coerce_id,
                                   widget=ListWidget(prefix_label=False),
                                   option_widget=CheckboxInput())


ACCESS_CHOICES = [SelectChoice("read", "Read only: reads your messages"),
                  SelectChoice("write", "Read and write: also writes, moves and deletes for you")]


class CaregiverForm(FlaskForm):
    """A patient gives a caregiver's account access."""

    username = StringField(
        "Your caregiver's username or email address",
        description="They sign up for an account of their own (choosing \"as a caregiver\"), "
                    "or the help desk makes one, and tell you its username or email address.",
        validators=[DataRequired("Enter your caregiver's username or email address."),
                    Length(max=254)],
        render_kw={"autocapitalize": "none", "spellcheck": "false"})
    access = RadioField("What they may do", choices=ACCESS_CHOICES, default="read",
                        validators=[InputRequired("Choose what they may do.")])


class CaregiverAccessForm(FlaskForm):
    access = RadioField("What they may do", choices=ACCESS_CHOICES,
                        validators=[InputRequired("Choose what they may do.")])


class ActingForForm(FlaskForm):
    patient = RadioField("Whose messages", coerce=coerce_id,
                         validators=[InputRequired("Choose whose messages to open.")])


RULES_HINT = ("At least 12 characters. Any characters, spaces too: a short sentence you "
                     "can remember works well. Not a common password.")


class ForgotPasswordForm(FlaskForm):
    """Forgot your password? The username, or the email address the account has."""

    who = StringField(
        "Username or email address",
        validators=[DataRequired("Enter your username or your email address."),
                    Length(max=254, message="That is longer than any username or address.")],
        render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"},
    )


class NewPasswordForm(FlaskForm):
    """Choose a new password (from the link in the email)."""

    new = PasswordField(
        "New password", validators=[DataRequired("Enter a new password."), Length(max=256)],
        description=RULES_HINT, render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(
        "New password again", validators=[DataRequired("Enter the new password again."),
                                          EqualTo("new", "The two new passwords differ.")],
        render_kw={"autocomplete": "new-password"})


class SignUpForm(FlaskForm):
    """A patient's own new account (basic until their identity is checked in person)."""

    kind = RadioField("Who is this account for?", default="patient", choices=[
        SelectChoice("patient", "Me, the patient: I write to my care teams"),
        SelectChoice("caregiver", "Me, as a caregiver: a patient lets me read or write their "
                                  "messages")],
        validators=[InputRequired("Choose who the account is for.")])
    display_name = StringField(
        "Your full name", validators=[DataRequired("Enter your full name."), Length(max=120)],
        description="As on your photo ID: staff check it when they verify who you are.",
        render_kw={"autocomplete": "name"})
    username = StringField(
        "Choose a username",
        validators=[DataRequired("Choose a username."),
                    Length(max=64, message="Use at most 64 characters.")],
        description="3 to 64 letters or digits; you type it to sign in.",
        render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"})
    email = EmailField(
        "Email address", validators=[
            DataRequired("Enter your email address: we send a link to it."), Length(max=254),
            Email("Enter an email address like name@example.com.")],
        description="We send a link to confirm it, and later only notices that a message is "
                    "waiting: never a message itself.",
        render_kw={"autocomplete": "email", "autocapitalize": "none", "spellcheck": "false"})
    password = PasswordField(
        "Choose a password", validators=[DataRequired("Choose a password."), Length(max=256)],
        description=RULES_HINT, render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(
        "Password again", validators=[DataRequired("Enter the password again."),
                                      EqualTo("password", "The two passwords differ.")],
        render_kw={"autocomplete": "new-password"})


class ConfirmAgainForm(FlaskForm):
    """Send the confirmation link again, to this (perhaps corrected) address."""

    email = EmailField(
        "Email address", validators=[
            DataRequired("Enter your email address."), Length(max=254),
            Email("Enter an email address like name@example.com.")],
        render_kw={"autocomplete": "email", "autocapitalize": "none", "spellcheck": "false"})
