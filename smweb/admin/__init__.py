from flask import Blueprint
from flask_login import current_user

from ..services import health

bp = Blueprint("admin", __name__)

from . import routes  # noqa: E402, F401  - registers the views on bp


def site_alarms() -> list[str]:
    """The red banner on admin and coordinator pages: escalation stopped, notices failing."""
    if not current_user.is_authenticated or not (current_user.is_admin
                                                 or current_user.is_coordinator):
        return []
    try:
        return health.alarms()
    except Exception:  # the page (an error page, even) must still show: the banner is extra
        return []


bp.add_app_template_global(site_alarms, "site_alarms")
