"""Where the action being served came from: the address and browser that asked for it.

The web layer names it once per request (security.py, before any view runs) and forgets it
when the request ends; the audit trail reads it from here, so no service touches Flask's
request. A command-line caller or a background job has no origin: its audit rows have a blank
address and browser.

When a caregiver acts for a patient (services/caregivers.py), the origin names the caregiver
too: the audit trail records the caregiver as the one who acted, and a message sent says who
wrote it for the patient.
"""

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Origin:
    ip: str = ""
    user_agent: str = ""
    caregiver_id: int | None = None  # who acts for the patient the request serves


NOWHERE = Origin()
_current: ContextVar[Origin] = ContextVar("smweb_origin", default=NOWHERE)


def current() -> Origin:
    return _current.get()


def serve_from(ip: str | None, user_agent: str) -> None:
    """Name the origin of what is served next (columns hold 45 and 200 characters)."""
    _current.set(Origin((ip or "")[:45], (user_agent or "")[:200]))


def forget() -> None:
    _current.set(NOWHERE)


@contextmanager
def caregiver_acting(caregiver_id: int):
    """What is served inside is done by this caregiver, for the patient it serves."""
    token = _current.set(replace(_current.get(), caregiver_id=caregiver_id))
    try:
        yield
    finally:
        _current.reset(token)
