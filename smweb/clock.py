"""Time as smweb keeps it: naive UTC in the database, shown in the facility's time zone."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo


def system_utcnow() -> datetime:
    """Now by the system clock, as naive UTC."""
    return datetime.now(UTC).replace(tzinfo=None)


# Where utcnow() reads the time: the system clock. The one place a test moves time for every
# module at once (the `clock` fixture: monkeypatch.setattr(clock, "_source", ...)), however
# the module imported utcnow (`from ..clock import utcnow`, a column's default=utcnow).
_source = system_utcnow


def utcnow() -> datetime:
    """Now, as naive UTC (how every timestamp is stored, on SQLite and PostgreSQL alike)."""
    return _source()


def to_local(moment: datetime, tz_name: str) -> datetime:
    """A stored UTC moment in the given IANA time zone."""
    return moment.replace(tzinfo=UTC).astimezone(ZoneInfo(tz_name))


MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def format_local(moment: datetime | None, tz_name: str) -> str:
    """'Nov 27, 2026, 1:05 PM EST' — how dates read on every page (in English whatever the
    server's locale; built from numbers, ten times a list: strftime is slower)."""
    if moment is None:
        return ""
    local = to_local(moment, tz_name)
    hour, noon = local.hour % 12 or 12, "AM" if local.hour < 12 else "PM"
    return (f"{MONTHS[local.month - 1]} {local.day}, {local.year}, "
            f"{hour}:{local.minute:02d} {noon} {local.tzname()}")


def format_time(moment: datetime, tz_name: str) -> str:
    """'1:05 PM EST': the time of day alone (an autosave's "Saved to Drafts at ...")."""
    local = to_local(moment, tz_name)
    hour, noon = local.hour % 12 or 12, "AM" if local.hour < 12 else "PM"
    return f"{hour}:{local.minute:02d} {noon} {local.tzname()}"


# The dates a filter accepts: wide enough for any message, and a day past the last one is
# still a date.
EARLIEST, LATEST = date(1900, 1, 1), date(2999, 12, 31)


def is_iso_date(text: str) -> bool:
    """Whether `text` is a year-month-day date: a date field can show it (a field of type
    date holds no other value; what else was typed is quoted in the field's error)."""
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def parse_date_range(args, required: bool = False) -> tuple[date | None, date | None, dict]:
    """The `start` and `end` dates of a filter form (year-month-day), and what was wrong with
    them, by field. `required`: both must be given."""
    found: dict[str, date | None] = {"start": None, "end": None}
    errors: dict[str, str] = {}
    for name in found:
        raw = args.get(name, "").strip()
        if not raw:
            if required:
                errors[name] = f"Enter the {'first' if name == 'start' else 'last'} date."
            continue
        try:
            found[name] = date.fromisoformat(raw)
        except ValueError:
            errors[name] = (f"“{raw[:20]}” is not a date: enter it as year-month-day, for "
                            "example 2026-03-31.")
            continue
        if not EARLIEST <= found[name] <= LATEST:  # 9999-12-31 + a day is no date at all
            found[name] = None
            errors[name] = (f"Enter a date between {EARLIEST.year} and {LATEST.year}, for "
                            "example 2026-03-31.")
    if found["start"] and found["end"] and found["start"] > found["end"]:
        errors["end"] = "The last date can't be before the first."
    return found["start"], found["end"], errors
