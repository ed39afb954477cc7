from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, Length


class SignInForm(FlaskForm):
    username = StringField(
        "Username", validators=[DataRequired("Enter your username."), Length(max=64)],
        render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"},
    )
    password = PasswordField(
        "Password", validators=[DataRequired("Enter your password."), Length(max=256)],
        render_kw={"autocomplete": "current-password"},
    )


class OptInForm(FlaskForm):
    accept = BooleanField(
        "I have read and accept these terms.",
        validators=[DataRequired("Check the box to accept the terms, or go back.")],
    )


class EmptyForm(FlaskForm):
    """A one-button form: just the CSRF token."""
