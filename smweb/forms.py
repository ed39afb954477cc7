"""Forms every blueprint uses (each blueprint's own forms live in its forms.py)."""

from flask_wtf import FlaskForm


class EmptyForm(FlaskForm):
    """A one-button form: just the CSRF token."""
