from flask_babel import lazy_gettext
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
        lazy_gettext("Username"),
        validators=[DataRequired(lazy_gettext("Enter your username.")), Length(max=64)],
        render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"},
    )
    password = PasswordField(
        lazy_gettext("Password"),
        validators=[DataRequired(lazy_gettext("Enter your password.")), Length(max=256)],
        render_kw={"autocomplete": "current-password"},
    )
    shared = BooleanField(
        lazy_gettext("This is a shared computer"),
        description=lazy_gettext("You will be signed out sooner when you step away, and "
                                 "nothing is kept in this browser."),
    )


class CodeForm(FlaskForm):
    """The second step of signing in: a code from the app, or a recovery code."""

    code = StringField(
        lazy_gettext("Code"),
        validators=[DataRequired(lazy_gettext("Enter the code.")), Length(max=32)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "text",
                   "autocapitalize": "none", "spellcheck": "false"},
    )


RULES_HINT = lazy_gettext("At least 12 characters. Any characters, spaces too: a short "
                          "sentence you can remember works well. Not a common password.")


class PasswordChangeForm(FlaskForm):
    current = PasswordField(
        lazy_gettext("Current password"),
        validators=[DataRequired(lazy_gettext("Enter your current password.")),
                    Length(max=256)],
        render_kw={"autocomplete": "current-password"})
    new = PasswordField(
        lazy_gettext("New password"),
        validators=[DataRequired(lazy_gettext("Enter a new password.")), Length(max=256)],
        description=RULES_HINT,
        render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(
        lazy_gettext("New password again"),
        validators=[DataRequired(lazy_gettext("Enter the new password again.")),
                    EqualTo("new", lazy_gettext("The two new passwords differ."))],
        render_kw={"autocomplete": "new-password"})


class TurnOffTwoStepForm(FlaskForm):
    password = PasswordField(
        lazy_gettext("Your password"),
        validators=[DataRequired(lazy_gettext("Enter your password.")), Length(max=256)],
        render_kw={"autocomplete": "current-password"})


class OptInForm(FlaskForm):
    accept = BooleanField(
        lazy_gettext("I have read and accept these terms."),
        validators=[DataRequired(lazy_gettext("Check the box to accept the terms, or go back."))],
    )


class PreferencesForm(FlaskForm):
    signature_name = StringField(lazy_gettext("Name"), validators=[Length(max=100)])
    signature_title = StringField(lazy_gettext("Title or role"), validators=[Length(max=100)])
    signature_by_default = BooleanField(
        lazy_gettext("Add my signature to new messages and replies"))
    notify = RadioField(
        lazy_gettext("Email me when a new message is waiting"), default="none",
        validators=[InputRequired(lazy_gettext("Choose how you want to be told."))])
    email = EmailField(lazy_gettext("Email address for notices"), validators=[
        Optional(), Length(max=254),
        Email(lazy_gettext("Enter an email address like name@example.com."))])
    # Each language by its own name, in every language.
    language = RadioField(lazy_gettext("Language of your pages and emails"),
                          choices=[SelectChoice(code, name) for code, name in LANGUAGES.items()],
                          validators=[Optional()])  # not sent: the language stays
    contacts = SelectMultipleField(lazy_gettext("Care teams shown when you write a message"),
                                   coerce=coerce_id,
                                   widget=ListWidget(prefix_label=False),
                                   option_widget=CheckboxInput())


ACCESS_CHOICES = [
    SelectChoice("read", lazy_gettext("Read only: reads your messages")),
    SelectChoice("write", lazy_gettext("Read and write: also writes, moves and deletes for you")),
]


class CaregiverForm(FlaskForm):
    """A patient gives a caregiver's account access."""

    username = StringField(
        lazy_gettext("Your caregiver's username or email address"),
        description=lazy_gettext("They sign up for an account of their own (choosing \"as a "
                                 "caregiver\"), or the help desk makes one, and tell you its "
                                 "username or email address."),
        validators=[DataRequired(lazy_gettext("Enter your caregiver's username or email "
                                              "address.")),
                    Length(max=254)],
        render_kw={"autocapitalize": "none", "spellcheck": "false"})
    access = RadioField(lazy_gettext("What they may do"), choices=ACCESS_CHOICES, default="read",
                        validators=[InputRequired(lazy_gettext("Choose what they may do."))])


class CaregiverAccessForm(FlaskForm):
    access = RadioField(lazy_gettext("What they may do"), choices=ACCESS_CHOICES,
                        validators=[InputRequired(lazy_gettext("Choose what they may do."))])


class ActingForForm(FlaskForm):
    patient = RadioField(
        lazy_gettext("Whose messages"), coerce=coerce_id,
        validators=[InputRequired(lazy_gettext("Choose whose messages to open."))])


class ForgotPasswordForm(FlaskForm):
    """Forgot your password? The username, or the email address the account has."""

    who = StringField(
        lazy_gettext("Username or email address"),
        validators=[DataRequired(lazy_gettext("Enter your username or your email address.")),
                    Length(max=254, message=lazy_gettext(
                        "That is longer than any username or address."))],
        render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"},
    )


class NewPasswordForm(FlaskForm):
    """Choose a new password (from the link in the email)."""

    new = PasswordField(
        lazy_gettext("New password"),
        validators=[DataRequired(lazy_gettext("Enter a new password.")), Length(max=256)],
        description=RULES_HINT, render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(
        lazy_gettext("New password again"),
        validators=[DataRequired(lazy_gettext("Enter the new password again.")),
                    EqualTo("new", lazy_gettext("The two new passwords differ."))],
        render_kw={"autocomplete": "new-password"})


class SignUpForm(FlaskForm):
    """A patient's own new account (basic until their identity is checked in person)."""

    kind = RadioField(lazy_gettext("Who is this account for?"), default="patient", choices=[
        SelectChoice("patient", lazy_gettext("Me, the patient: I write to my care teams")),
        SelectChoice("caregiver", lazy_gettext("Me, as a caregiver: a patient lets me read or "
                                               "write their messages"))],
        validators=[InputRequired(lazy_gettext("Choose who the account is for."))])
    display_name = StringField(
        lazy_gettext("Your full name"),
        validators=[DataRequired(lazy_gettext("Enter your full name.")), Length(max=120)],
        description=lazy_gettext("As on your photo ID: staff check it when they verify who "
                                 "you are."),
        render_kw={"autocomplete": "name"})
    username = StringField(
        lazy_gettext("Choose a username"),
        validators=[DataRequired(lazy_gettext("Choose a username.")),
                    Length(max=64, message=lazy_gettext("Use at most 64 characters."))],
        description=lazy_gettext("3 to 64 letters or digits; you type it to sign in."),
        render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"})
    email = EmailField(
        lazy_gettext("Email address"), validators=[
            DataRequired(lazy_gettext("Enter your email address: we send a link to it.")),
            Length(max=254),
            Email(lazy_gettext("Enter an email address like name@example.com."))],
        description=lazy_gettext("We send a link to confirm it, and later only notices that a "
                                 "message is waiting: never a message itself."),
        render_kw={"autocomplete": "email", "autocapitalize": "none", "spellcheck": "false"})
    password = PasswordField(
        lazy_gettext("Choose a password"),
        validators=[DataRequired(lazy_gettext("Choose a password.")), Length(max=256)],
        description=RULES_HINT, render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(
        lazy_gettext("Password again"),
        validators=[DataRequired(lazy_gettext("Enter the password again.")),
                    EqualTo("password", lazy_gettext("The two passwords differ."))],
        render_kw={"autocomplete": "new-password"})


class ConfirmAgainForm(FlaskForm):
    """Send the confirmation link again, to this (perhaps corrected) address."""

    email = EmailField(
        lazy_gettext("Email address"), validators=[
            DataRequired(lazy_gettext("Enter your email address.")), Length(max=254),
            Email(lazy_gettext("Enter an email address like name@example.com."))],
        render_kw={"autocomplete": "email", "autocapitalize": "none", "spellcheck": "false"})
