"""smweb.clock: the one place every module reads the time from (and a test moves it), and how
a moment reads on every page: the facility's time zone, 12-hour clock, its zone name."""

import sys
from datetime import datetime, timedelta

import pytest

from smweb import clock as app_clock
from smweb.clock import format_local, system_utcnow, utcnow
from tests.support import new_thread


def test_every_module_reads_the_one_clock(app):
    """Each smweb module that has a utcnow has the clock's own: the `clock` fixture's one
    patch point then moves time for all of them, however they imported it."""
    holders = {name: module.utcnow for name, module in list(sys.modules.items())
               if name.startswith("smweb") and hasattr(module, "utcnow")}
    assert {"smweb.services.sessions", "smweb.services.jobs", "smweb.models.messaging",
            "smweb.auth.routes"} <= set(holders)
    assert {name for name, found in holders.items() if found is not utcnow} == set()


def test_the_clock_fixture_moves_time_for_every_module(ctx, clock):
    from smweb.services import jobs, notifications, sessions, throttle, twofactor

    before = system_utcnow()
    clock.advance(days=2)
    for module in (app_clock, sessions, throttle, twofactor, jobs, notifications):
        assert module.utcnow() - before >= timedelta(days=2), module.__name__
    thread = new_thread()  # the models' defaults (default=utcnow) read it too
    assert thread.created_at - before >= timedelta(days=2)
    assert thread.messages[0].sent_at - before >= timedelta(days=2)
    clock.set(datetime(2030, 1, 1, 9, 0))
    assert utcnow() == datetime(2030, 1, 1, 9, 0)
    clock.advance(minutes=5)
    assert jobs.utcnow() == datetime(2030, 1, 1, 9, 5)


def test_without_the_fixture_it_is_the_system_clock():
    assert app_clock._source is system_utcnow
    assert abs(utcnow() - system_utcnow()) < timedelta(seconds=5)


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
