"""Response-time reports, checked against a data set computed by hand: a facility in New
York open 8:00 to 17:00, in the week of Thanksgiving 2026 (Thursday 26 November, a federal
holiday) and the week after, with a message on a Saturday, one after hours and one before the
holiday. Times below are UTC (New York is UTC-5 then).

 message                     came (New York)        first reply (New York)   business time
 M0  outside the period      Thu 19 Nov 23:30       Fri 20 Nov 09:00 (A)     (not counted)
 M1  Medications             Mon 23 Nov 10:00       Mon 23 Nov 12:30 (A)     2.5 h
 M2  Medications             Fri 20 Nov 16:00       Mon 23 Nov 09:00 (A)     1 h + 1 h = 2 h
 M3  on a Saturday           Sat 21 Nov 11:00       Mon 23 Nov 10:00 (A)     from 8:00: 2 h
 M4  after hours (a Tuesday) Tue 24 Nov 20:00       Wed 25 Nov 09:30 (A)     1.5 h
 M5  before the holiday      Wed 25 Nov 15:00       Fri 27 Nov 10:00 (B)     2 h + 0 + 2 h = 4 h
 M6  answered late           Mon 30 Nov 09:00       Fri 4 Dec 09:00 (B)      8+9+9+9+1 = 36 h
 M7  overdue, escalated      Tue 1 Dec 10:00        -  (assigned to A)       -
 M8  not due yet             Mon 7 Dec 11:00        -                        -

The report is read on Mon 7 Dec at 12:00 for 20 November to 7 December. Received 8;
answered 6; within 3 business days (27 h): M1 to M5, out of the 6 answered and M7 (due by
now): 5 of 7, 71.4%. Sorted: 1.5, 2, 2, 2.5, 4, 36 h; the median (3rd of 6) 2 h, the 90th
percentile (6th) 36 h. A: 1.5, 2, 2, 2.5 → median 2 h, 90th 2.5 h, 4 of 4; B: 4, 36 → 4 h and
36 h, 1 of 2. By weekday (in New York): Monday 3 (M1, M6, M8), Tuesday 2 (M4, M7), Wednesday
1, Friday 1, Saturday 1.
"""

import csv
import html
import io
from datetime import datetime

import pytest

from smweb.extensions import db
from smweb.models import ReplyTime
from smweb.services import messaging, reports, triage
from smweb.services.reports import Period
from tests.support import care_team, patient, sign_in, staff, user

PERIOD = Period(datetime(2026, 11, 20).date(), datetime(2026, 12, 7).date())
NOW = datetime(2026, 12, 7, 17, 0)
QUERY = "?start=2026-11-20&end=2026-12-07"


def at(day, hour, minute=0, month=11):
    return datetime(2026, month, day, hour, minute)


@pytest.fixture
def site(app, clock):
    """The data set above; returns the usernames of its coordinator and team's admin."""
    with app.app_context():
        team = care_team("Report Team")
        other = care_team("Elsewhere Team")  # another facility: never in this report
        a = staff(team, name="Avery Nurse", username="avery")
        b = staff(team, name="Blake Nurse", username="blake")
        admin = staff(team, name="Dana Admin", username="dana", role="group_admin")
        coordinator = staff(name="Casey Coordinator", username="casey")
        coordinator.coordinator_of_id = team.facility_id
        pat = patient(team, other, name="Robin Report")
        db.session.commit()
        threads = {}

        def write(name, moment, category="General", to=team):
            clock.set(moment)
            threads[name] = messaging.send_new_message(pat, messaging.NewMessage(
                to.id, category, f"Question {name}", "A question.")).thread

        def answer(name, moment, who):
            clock.set(moment)
            messaging.reply(who, db.session.get(type(threads[name]), threads[name].id),
                            f"An answer to {name}.")

        write("M0", at(20, 4, 30))
        answer("M0", at(20, 14), a)
        write("Other", at(23, 15), to=other)
        write("M2", at(20, 21), "Medications")
        write("M3", at(21, 16))
        answer("M2", at(23, 14), a)
        write("M1", at(23, 15), "Medications")
        answer("M3", at(23, 15), a)
        answer("M1", at(23, 17, 30), a)
        write("M4", at(25, 1))
        answer("M4", at(25, 14, 30), a)
        write("M5", at(25, 20))
        answer("M5", at(27, 15), b)
        write("M6", at(30, 14))
        write("M7", at(1, 15, month=12))
        triage.assign(admin, threads["M7"], a)
        answer("M6", at(4, 14, month=12), b)
        write("M8", at(7, 16, month=12))
        clock.set(NOW)
        triage.escalate_overdue(NOW)
        return {"coordinator": "casey", "admin": "dana", "team": team.id, "other": other.id}


def test_the_figures_match_the_hand_computed_ones(app, site):
    with app.app_context():
        report = reports.response_times(user("casey"), PERIOD, now=NOW)
        [line] = report.teams
        assert (line.name, line.received, line.answered, line.within, line.decided) == \
            ("Report Team", 8, 6, 5, 7)
        assert line.share_within == 71.4
        assert (line.median_hours, line.p90_hours) == (2.0, 36.0)
        assert (line.overdue_now, line.escalations) == (1, 1)
        staff_lines = {f.name: f for f in report.staff}
        avery, blake = staff_lines["Avery Nurse"], staff_lines["Blake Nurse"]
        assert (avery.answered, avery.within, avery.share_within) == (4, 4, 100.0)
        assert (avery.median_hours, avery.p90_hours) == (2.0, 2.5)
        assert (avery.overdue_now, avery.escalations) == (1, 1)  # M7 is hers
        assert (blake.answered, blake.within, blake.share_within) == (2, 1, 50.0)
        assert (blake.median_hours, blake.p90_hours) == (4.0, 36.0)
        assert report.total.received == 8 and report.total.median_hours == 2.0
        assert dict(report.by_category)["Medications"] == 2
        assert dict(report.by_category)["General"] == 6
        assert dict(report.by_weekday) == {"Monday": 3, "Tuesday": 2, "Wednesday": 1,
                                           "Thursday": 0, "Friday": 1, "Saturday": 1,
                                           "Sunday": 0}
        seconds = sorted(r.business_seconds for r in db.session.scalars(
            db.select(ReplyTime).where(ReplyTime.business_seconds.is_not(None),
                                       ReplyTime.group_id == site["team"])))
        assert seconds == [3600, 5400, 7200, 7200, 9000, 14400, 129600]  # M0's too


def test_a_shorter_period_counts_only_its_messages(app, site):
    with app.app_context():
        week = Period(datetime(2026, 11, 23).date(), datetime(2026, 11, 27).date())
        [line] = reports.response_times(user("dana"), week, now=NOW).teams
        # M1, M4 and M5 came that week (M4 on Tuesday evening in New York, Wednesday in UTC)
        assert (line.received, line.answered, line.median_hours) == (3, 3, 2.5)


def test_the_coordinator_reads_the_report_with_its_charts(app, site):
    browser = app.test_client()
    assert sign_in(browser, "casey").status_code == 303
    page = browser.get(f"/triage/reports{QUERY}")
    assert page.status_code == 200
    text = page.text
    assert "Response times" in text and "Report Team, November 20, 2026 to December 7, 2026" \
        in text
    assert "71.4%" in text and "5 of 7 answered or due" in text
    assert "36 h" in text and "2 h" in text
    assert text.count("<svg") == 5 and 'role="img"' in text
    assert "Elsewhere Team" not in text
    assert "3 business days are 27 hours" in text


def test_the_report_downloads_as_csv(app, site):
    browser = app.test_client()
    assert sign_in(browser, "dana").status_code == 303
    answer = browser.get(f"/triage/reports.csv{QUERY}")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    assert "response-times-2026-11-20-to-2026-12-07.csv" in \
        answer.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(answer.text)))
    assert rows[0][:3] == ["Line", "Name", "Received"]
    team = next(r for r in rows if r[0] == "Care team")
    assert team == ["Care team", "Report Team", "8", "6", "5", "71.4", "2.0", "36.0", "1", "1"]
    assert next(r for r in rows if r[1] == "Tuesday")[:3] == ["Weekday", "Tuesday", "2"]


@pytest.mark.parametrize("query, problem", [
    ("?start=2026-13-01", "is not a date"),
    ("?start=2026-12-07&end=2026-11-20", "The last date can't be before the first."),
    ("?start=2024-01-01&end=2026-12-07", "Choose a period of at most 366 days"),
    ("?team=blue", "Choose a care team from the list."),
])
def test_a_bad_period_or_team_is_refused_with_its_reason(app, site, query, problem):
    browser = app.test_client()
    assert sign_in(browser, "casey").status_code == 303
    for path in ("/triage/reports", "/triage/reports.csv"):
        answer = browser.get(path + query)
        assert answer.status_code == 422
        assert problem in html.unescape(answer.text) and "There is a problem" in answer.text


def test_only_coordinators_and_group_administrators_see_reports(app, site):
    for username in ("avery", "veteran1"):  # a nurse of the team; a patient
        browser = app.test_client()
        assert sign_in(browser, username).status_code == 303
        assert browser.get("/triage/reports").status_code == 404
        assert browser.get("/triage/reports.csv").status_code == 404
    browser = app.test_client()
    assert sign_in(browser, "dana").status_code == 303
    assert browser.get(f"/triage/reports?team={site['other']}").status_code == 404
    assert browser.get(f"/triage/reports?team={site['team']}").status_code == 200
    assert "Reports" in browser.get("/triage/").text


def test_a_thank_you_on_a_completed_thread_needed_no_reply(app, clock):
    with app.app_context():
        team = care_team("Thanks Team")
        nurse = staff(team, name="Quinn Nurse")
        admin = staff(team, name="Rae Admin", username="rae", role="group_admin")
        pat = patient(team)
        clock.set(at(2, 14, month=11))  # Monday 2 November, 9:00 in New York
        thread = messaging.send_new_message(pat, messaging.NewMessage(
            team.id, "General", "Knee", "It hurts.")).thread
        clock.set(at(2, 15, month=11))
        messaging.reply(nurse, thread, "Rest it.")  # 1 h
        clock.set(at(2, 16, month=11))
        messaging.reply(pat, thread, "Thanks!")
        clock.set(at(2, 17, month=11))
        triage.complete(nurse, thread)  # no reply needed to the thank-you
        clock.set(at(9, 14, month=11))  # a week later, he writes again
        messaging.reply(pat, thread, "It hurts again.")
        clock.set(at(9, 15, month=11))
        messaging.reply(nurse, thread, "Come in tomorrow.")  # 1 h: its first reply
        november = Period(datetime(2026, 11, 1).date(), datetime(2026, 11, 30).date())
        [line] = reports.response_times(admin, november, now=at(30, 12, month=11)).teams
        assert (line.received, line.answered, line.within, line.decided) == (3, 2, 2, 2)
        assert (line.median_hours, line.p90_hours) == (1.0, 1.0)


def test_each_facility_counts_from_its_own_midnight(app, clock):
    with app.app_context():
        east = care_team("East Team")
        west = care_team("Island Team", timezone="Pacific/Honolulu")
        admin = staff(east, west, name="Sky Admin", username="sky", role="group_admin")
        pat = patient(east, west)
        # 06:00 UTC on 21 November: 1:00 that day in New York, 20:00 the day before in Honolulu
        clock.set(datetime(2026, 11, 21, 6, 0))
        for team in (east, west):
            messaging.send_new_message(pat, messaging.NewMessage(
                team.id, "General", f"Night {team.name}", "A question."))
        day = Period(datetime(2026, 11, 21).date(), datetime(2026, 11, 21).date())
        report = reports.response_times(admin, day, now=NOW)
        assert {f.name: f.received for f in report.teams} == {"East Team": 1,
                                                              "Island Team": 0}
        assert {h.timezone for h in report.hours} == {"America/New_York", "Pacific/Honolulu"}


@pytest.mark.parametrize("query", ["?endpoint=x", "?_method=POST", "?_external=1&team="])
def test_stray_query_keys_change_nothing(app, site, query):
    browser = app.test_client()
    assert sign_in(browser, "casey").status_code == 303
    answer = browser.get("/triage/reports" + query)
    assert answer.status_code == 200
    assert 'href="/triage/reports.csv?start=' in answer.text  # a link of checked values


def test_a_start_after_today_with_no_end_is_refused(app, site):
    browser = app.test_client()
    assert sign_in(browser, "casey").status_code == 303
    answer = browser.get("/triage/reports?start=2030-01-01")
    assert answer.status_code == 422
    assert "The last date can&#39;t be before the first." in answer.text
