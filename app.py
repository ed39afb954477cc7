"""The entry point for `flask --app app ...` and `gunicorn app:app`."""

from smweb import create_app

app = create_app()
