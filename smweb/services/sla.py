"""The reply clock: a care team answers within 3 business days.

A business day is Monday to Friday, 8:00 to 17:00 in the facility's time zone (each facility
may set its own hours); weekends and US federal holidays, on their observed dates, do not count.
A message that arrives outside business hours starts counting at the next business start.
Pure functions: no database, no request, so every case can be tested on its own.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays

REPLY_BUSINESS_DAYS = 3


@dataclass(frozen=True)
class BusinessHours:
    timezone: str = "America/New_York"
    opens: time = time(8, 0)
    closes: time = time(17, 0)

    @property
    def day_length(self) -> timedelta:
        return datetime.combine(date.min, self.closes) - datetime.combine(date.min, self.opens)


@cache
def _federal_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("US", years=year, observed=True)


def is_business_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _federal_holidays(day.year)


def _local(moment_utc: datetime, hours: BusinessHours) -> datetime:
    return moment_utc.replace(tzinfo=UTC).astimezone(ZoneInfo(hours.timezone))


def _to_utc(day: date, at: time, hours: BusinessHours) -> datetime:
    local = datetime.combine(day, at, tzinfo=ZoneInfo(hours.timezone))
    return local.astimezone(UTC).replace(tzinfo=None)


def add_business_time(start_utc: datetime, amount: timedelta, hours: BusinessHours) -> datetime:
    """The moment `amount` of business time after `start_utc` (naive UTC in and out).
    Landing exactly on closing time gives that closing time, not the next opening."""
    local = _local(start_utc, hours)
    day, clock = local.date(), local.time().replace(tzinfo=None)
    remaining = amount
    while True:
        if is_business_day(day) and clock < hours.closes:
            begin = max(clock, hours.opens)
            available = datetime.combine(day, hours.closes) - datetime.combine(day, begin)
            if remaining <= available:
                end = (datetime.combine(day, begin) + remaining).time()
                return _to_utc(day, end, hours)
            remaining -= available
        day += timedelta(days=1)
        clock = time(0, 0)


def due_at(received_utc: datetime, hours: BusinessHours) -> datetime:
    """When the care team's reply is due: 3 business days after the message arrived."""
    return add_business_time(received_utc, hours.day_length * REPLY_BUSINESS_DAYS, hours)


def business_time_between(start_utc: datetime, end_utc: datetime,
                          hours: BusinessHours) -> timedelta:
    """How much business time lies between two moments (zero if end is not after start)."""
    if end_utc <= start_utc:
        return timedelta(0)
    start, end = _local(start_utc, hours), _local(end_utc, hours)
    total = timedelta(0)
    day = start.date()
    while day <= end.date():
        if is_business_day(day):
            opens = datetime.combine(day, hours.opens, tzinfo=start.tzinfo)
            closes = datetime.combine(day, hours.closes, tzinfo=start.tzinfo)
            lo, hi = max(opens, start), min(closes, end)
            if hi > lo:
                total += hi - lo
        day += timedelta(days=1)
    return total


def local_date(moment_utc: datetime, hours: BusinessHours) -> date:
    """The day it was at the facility at that moment."""
    return _local(moment_utc, hours).date()


def start_of_day(day: date, hours: BusinessHours) -> datetime:
    """Midnight at the facility on that day, in naive UTC (a report's period bounds)."""
    return _to_utc(day, time(0, 0), hours)
