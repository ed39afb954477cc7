"""The bare endpoint the bench compares every page with: one Flask route, no extensions, no
database, no templates — what gunicorn and Flask cost by themselves.

    gunicorn bench.bare_app:app
"""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    """A few bytes of HTML."""
    return "<!doctype html><title>bare</title><p>Hello.</p>"
