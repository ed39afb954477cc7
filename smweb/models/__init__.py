"""SQLAlchemy models. Import them from here: `from smweb.models import Thread`."""

from .messaging import CATEGORIES, Draft, Message, Thread
from .people import Facility, Role, TriageGroup, User, group_members, patient_groups

__all__ = [
    "CATEGORIES",
    "Draft",
    "Facility",
    "Message",
    "Role",
    "Thread",
    "TriageGroup",
    "User",
    "group_members",
    "patient_groups",
]
