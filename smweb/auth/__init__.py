from flask import Blueprint

bp = Blueprint("auth", __name__)

from . import account, caregivers, getting_in, routes  # noqa: E402, F401  - registers the views on bp
