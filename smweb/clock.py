"""Time as smweb keeps it: naive UTC in the database, shown in the facility's time zone."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo


def utcnow() -> datetime:
    """Now, as naive UTC (how every timestamp is stored, on SQLite and PostgreSQL alike)."""
    return datetime.now(UTC).replace(tzinfo=None)


def to_local(moment: datetime, tz_name: str) -> datetime:
    """A stored UTC moment in the given IANA time zone."""
    return moment.replace(tzinfo=UTC).astimezone(ZoneInfo(tz_name))


def format_local(moment: datetime | None, tz_name: str) -> str:
    """'Nov 27, 2026, 1:05 PM EST' — how dates read on every page."""
    if moment is None:
        return ""
    local = to_local(moment, tz_name)
    hour = local.strftime("%I").lstrip("0")
    return f"{local:%b} {local.day}, {local:%Y}, {hour}:{local:%M %p %Z}"
