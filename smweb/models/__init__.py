"""SQLAlchemy models. Import them from here: `from smweb.models import Thread`."""

from .audit import AuditEvent
from .background import JobRun, Notice
from .links import EmailLink
from .messaging import CATEGORIES, Attachment, Draft, Folder, Message, Thread
from .people import (
    Caregiver,
    Facility,
    Preferences,
    Role,
    TriageGroup,
    User,
    group_members,
    hidden_contacts,
    patient_groups,
)
from .sessions import RecoveryCode, SignInFailure, UserSession
from .triage import (
    Block,
    CallBack,
    EducationItem,
    Notification,
    QuickText,
    RecordEntry,
    ReplyTime,
    StaffAbsence,
    StaffNote,
    ThreadEvent,
    ThreadStatus,
    draft_education,
    message_education,
)

__all__ = [
    "Caregiver",
    "AuditEvent",
    "EmailLink",
    "JobRun",
    "Notice",
    "RecoveryCode",
    "SignInFailure",
    "UserSession",
    "Block",
    "CallBack",
    "EducationItem",
    "Notification",
    "QuickText",
    "RecordEntry",
    "ReplyTime",
    "StaffAbsence",
    "StaffNote",
    "ThreadEvent",
    "ThreadStatus",
    "draft_education",
    "message_education",
    "Attachment",
    "CATEGORIES",
    "Draft",
    "Facility",
    "Preferences",
    "hidden_contacts",
    "Folder",
    "Message",
    "Role",
    "Thread",
    "TriageGroup",
    "User",
    "group_members",
    "patient_groups",
]
