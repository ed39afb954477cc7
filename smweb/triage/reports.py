"""Response-time reports for coordinators and group administrators: the page, with its
charts and their numbers, and the same report as CSV (services/reports.py)."""

from flask import make_response, request
from flask_login import current_user

from ..auth.guards import staff_required
from ..charts import Bar, bar_chart
from ..parsing import as_id
from ..services import reports
from ..services.refusals import NotFound
from ..templating import render_page
from . import bp


def _chosen():
    """The period and care team asked for, and what was wrong with them, by field."""
    period, errors = reports.parse_period(request.args, current_user)
    raw = request.args.get("team", "").strip()
    team_id = as_id(raw) if raw else None
    if raw and team_id is None:
        errors["team"] = "Choose a care team from the list."
    return period, team_id, errors


@bp.get("/reports")
@staff_required
def reports_page():
    """How fast the care teams in the user's reach answered over a period: charts drawn on
    the server, each with its numbers in a table beside it."""
    return _report(as_csv=False)


@bp.get("/reports.csv")
@staff_required
def reports_csv():
    """The same report, as a spreadsheet."""
    return _report(as_csv=True)


def _report(as_csv: bool):
    period, team_id, errors = _chosen()
    report = None if errors else reports.response_times(current_user, period, team_id)
    reach = report.teams_in_reach if report else reports.teams_in_reach(current_user)
    if not reach:
        raise NotFound()
    if as_csv and report:
        response = make_response(reports.to_csv(report))
        response.mimetype = "text/csv"
        response.headers["Content-Disposition"] = (
            f'attachment; filename="response-times-{period.starts_on}-to-{period.ends_on}.csv"')
        return response
    # the CSV link carries what was checked, never the query string as it came
    csv_args = {"start": period.starts_on, "end": period.ends_on, "team": team_id or ""}
    return render_page("triage/reports.html", status=422 if errors else 200, report=report,
                       reach=reach, period=period, team_id=team_id, errors=errors,
                       charts=_charts(report) if report else {}, csv_args=csv_args)


def _charts(report: reports.Report) -> dict:
    """The report's charts, by name; the template puts each beside its table."""
    def hours(value: float | None) -> str:
        return "no replies" if value is None else f"{value:g} h"

    return {
        "within": bar_chart(
            "Answered within 3 business days, by care team",
            [Bar(f.name, f.share_within or 0,
                 "none due yet" if f.share_within is None else f"{f.share_within:g}%")
             for f in report.teams], maximum=100, chart_id="chart-within"),
        "median": bar_chart(
            "Median time to first reply (business hours), by care team",
            [Bar(f.name, f.median_hours or 0, hours(f.median_hours)) for f in report.teams],
            chart_id="chart-median"),
        "staff": bar_chart(
            "First replies, by staff member",
            [Bar(f.name, f.answered, str(f.answered)) for f in report.staff],
            chart_id="chart-staff"),
        "category": bar_chart(
            "Messages received, by category",
            [Bar(name, count, str(count)) for name, count in report.by_category],
            chart_id="chart-category"),
        "weekday": bar_chart(
            "Messages received, by weekday",
            [Bar(name, count, str(count)) for name, count in report.by_weekday],
            chart_id="chart-weekday"),
    }
