from flask import Blueprint

bp = Blueprint("triage", __name__)

from . import identity, quick_texts, reports, routes  # noqa: E402, F401  - register the views on bp
from .panel import staff_panel  # noqa: E402

# The thread page (threads blueprint) shows this panel to staff: it asks for it by name in
# its template, so the threads blueprint imports nothing of triage's.
bp.add_app_template_global(staff_panel, "staff_panel")
