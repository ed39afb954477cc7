"""How a moment reads on every page: the facility's time zone, 12-hour clock, its zone name."""

from datetime import datetime

import pytest

from smweb.clock import format_local


@pytest.mark.parametrize(("moment", "zone", "shown"), [
    (datetime(2026, 11, 27, 18, 5), "America/New_York", "Nov 27, 2026, 1:05 PM EST"),
    (datetime(2026, 7, 4, 4, 0), "America/New_York", "Jul 4, 2026, 12:00 AM EDT"),
    (datetime(2026, 1, 1, 17, 30), "America/New_York", "Jan 1, 2026, 12:30 PM EST"),
    (datetime(2026, 7, 4, 4, 0), "Pacific/Honolulu", "Jul 3, 2026, 6:00 PM HST"),
    (datetime(2026, 3, 8, 6, 59), "America/Chicago", "Mar 8, 2026, 12:59 AM CST"),
    (datetime(2026, 3, 8, 8, 0), "America/Chicago", "Mar 8, 2026, 3:00 AM CDT"),
])
def test_format_local(moment, zone, shown):
    assert format_local(moment, zone) == shown


def test_no_moment_reads_as_nothing():
    assert format_local(None, "America/New_York") == ""
