"""The 3-business-day reply clock, case by case (times are the facility's wall clock)."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from smweb.services.sla import BusinessHours, business_time_between, due_at, is_business_day

NY = BusinessHours("America/New_York")
HONOLULU = BusinessHours("Pacific/Honolulu")


def utc(text: str, hours: BusinessHours = NY) -> datetime:
    """'2026-11-23 10:00' on the facility's wall clock, as naive UTC."""
    local = datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(hours.timezone))
    return local.astimezone(UTC).replace(tzinfo=None)


def local(moment: datetime, hours: BusinessHours = NY) -> str:
    return moment.replace(tzinfo=UTC).astimezone(ZoneInfo(hours.timezone)).strftime(
        "%Y-%m-%d %H:%M %a")


@pytest.mark.parametrize(("received", "due"), [
    # an ordinary Monday morning: Thursday, same time
    ("2026-11-16 10:00", "2026-11-19 10:00 Thu"),
    # Friday 16:59: one minute on Friday, then Mon, Tue, and all but a minute of Wed
    ("2026-11-13 16:59", "2026-11-18 16:59 Wed"),
    # after hours and at the weekend: counted from the next business start
    ("2026-11-16 18:30", "2026-11-19 17:00 Thu"),
    ("2026-11-17 06:00", "2026-11-19 17:00 Thu"),
    ("2026-11-14 12:00", "2026-11-18 17:00 Wed"),  # Saturday
    ("2026-11-15 23:59", "2026-11-18 17:00 Wed"),  # Sunday
    # Thanksgiving (Thu Nov 26) does not count; the day after it does
    ("2026-11-25 09:00", "2026-12-01 09:00 Tue"),
    ("2026-11-27 09:00", "2026-12-02 09:00 Wed"),
    # Christmas 2021 fell on a Saturday: observed Friday Dec 24; New Year's Day 2022 also on
    # a Saturday: observed Friday Dec 31, 2021
    ("2021-12-22 12:00", "2021-12-28 12:00 Tue"),
    ("2021-12-29 12:00", "2022-01-04 12:00 Tue"),
    # Juneteenth (Fri Jun 19, 2026)
    ("2026-06-17 15:00", "2026-06-23 15:00 Tue"),
    # Independence Day 2026 on a Saturday: observed Friday Jul 3
    ("2026-07-01 08:00", "2026-07-06 17:00 Mon"),
    # daylight saving time begins Sun Mar 8, 2026 and ends Sun Nov 1, 2026: wall-clock hours
    ("2026-03-06 10:00", "2026-03-11 10:00 Wed"),
    ("2026-10-30 10:00", "2026-11-04 10:00 Wed"),
    # exactly at closing time: counts from the next opening
    ("2026-11-16 17:00", "2026-11-19 17:00 Thu"),
    ("2026-11-16 08:00", "2026-11-18 17:00 Wed"),
])
def test_due_in_new_york(received, due):
    assert local(due_at(utc(received), NY)) == due


def test_a_facility_in_another_time_zone():
    # Honolulu keeps no daylight saving time; the same wall-clock rules apply there
    received = utc("2026-03-06 10:00", HONOLULU)
    assert local(due_at(received, HONOLULU), HONOLULU) == "2026-03-11 10:00 Wed"
    # a message sent at 10:00 in New York is 05:00 in Honolulu: before opening there
    received = utc("2026-11-16 10:00", NY)
    assert local(due_at(received, HONOLULU), HONOLULU) == "2026-11-18 17:00 Wed"


def test_facility_hours_of_its_own():
    early = BusinessHours("America/Chicago", opens=time(7, 30), closes=time(16, 0))
    received = utc("2026-11-16 07:00", early)
    assert local(due_at(received, early), early) == "2026-11-18 16:00 Wed"


def test_business_days():
    assert is_business_day(datetime(2026, 11, 27).date())  # day after Thanksgiving
    assert not is_business_day(datetime(2026, 11, 26).date())
    assert not is_business_day(datetime(2021, 12, 24).date())  # Christmas observed
    assert not is_business_day(datetime(2026, 11, 28).date())  # Saturday


def test_business_time_between():
    start, end = utc("2026-11-13 16:00"), utc("2026-11-16 09:30")
    assert business_time_between(start, end, NY) == timedelta(hours=2, minutes=30)
    assert business_time_between(end, start, NY) == timedelta(0)
    received = utc("2026-11-13 16:59")
    assert business_time_between(received, due_at(received, NY), NY) == timedelta(hours=27)
