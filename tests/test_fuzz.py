"""Odd input never makes a 5xx: every route, as every kind of user, with every field and
query argument the pages use set to what a crafted request (or a confused browser) sends —
Unicode digits, numbers past what the databases hold, dates at the end of time, CR/LF in
redirect targets, markup, SQL, very long text — and, through Hypothesis, any text at all.
The answer may be 4xx, a redirect, or the page again with a message; never a server error."""

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smweb.extensions import db
from smweb.models import Attachment, Block, Draft, RecordEntry, Thread, User
from tests.support import csrf_token, sign_in

ODD = [
    "²", "١٢", "１２", "99999999999999999999", "9223372036854775808", "-1", "0", "1e309",
    "9999-12-31", "0001-01-01", "2026-02-30", "remove:²", "remove:99999999999999999999",
    "/\r\nLocation: //evil.example", "/mailbox/inbox\r\nX: y", "//evil.example", "\\\\evil",
    "<script>alert(1)</script>", "' OR 1=1 --", "x" * 5000, "", " ", "🙂\u202e", "1:2:3",
    "0~1~2", "2~²", "inbox", "deleted",
]
USERS = ["veteran1", "nurse1", "coordinator1", "admin1", None]
# Ending the session would leave the rest of the run signed out.
SKIP = {"static", "assets.htmx", "auth.sign_out", "auth.sign_out_everywhere",
        "auth.end_session"}
NAME = re.compile(r'name="([a-zA-Z_][\w-]*)"')
QUERY_ARGS = {"page", "after", "before", "q", "folder", "start", "end", "sort", "filter",
              "action", "user", "patient", "next", "back", "ended", "unsent", "reason", "poll",
              "v", "group", "category", "subject", "sender", "period", "order"}


@pytest.fixture(autouse=True)
def _answers_not_tracebacks(app, monkeypatch):
    """A fault is answered as the site answers it (500), so one run lists every fault."""
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)


def ids() -> dict[str, int]:
    """An existing object of each kind, for the routes' path arguments."""
    first = {name: db.session.scalar(db.select(model.id).order_by(model.id).limit(1))
             for name, model in (("thread_id", Thread), ("attachment_id", Attachment),
                                 ("draft_id", Draft), ("block_id", Block),
                                 ("entry_id", RecordEntry), ("user_id", User))}
    return {name: value or 1 for name, value in first.items()}


def routes(app) -> list[tuple[str, str, str]]:
    """(method, path, endpoint) of every route, with existing objects' ids in the path."""
    with app.app_context():
        known = ids()
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIP:
            continue
        values = {arg: known.get(arg, 1) for arg in rule.arguments}
        path = rule.build(values, append_unknown=False)[1]
        found += [(method, path, rule.endpoint) for method in sorted(rule.methods or ())
                  if method in {"GET", "POST"}]
    return found


def field_names(client, paths: list[str]) -> set[str]:
    """Every form field the pages show (and the query arguments they read)."""
    names = set(QUERY_ARGS)
    for path in paths:
        names |= set(NAME.findall(client.get(path).get_data(as_text=True)))
    return names - {"csrf_token"}


def signed_in(app, username):
    client = app.test_client()
    if username:
        assert sign_in(client, username).status_code == 303
    return client


def ask(client, method, path, fields, value, token):
    data = dict.fromkeys(fields, value)
    if method == "GET":
        return client.get(path, query_string=data)
    return client.post(path, data={**data, "csrf_token": token},
                       headers={"HX-Request": "true"} if len(value) % 2 else {})


@pytest.mark.parametrize("username", USERS)
def test_odd_values_in_every_field_of_every_route(app, username):
    every = routes(app)
    client = signed_in(app, username)
    fields = field_names(client, [p for m, p, _e in every if m == "GET"])
    token = csrf_token(client, "/")
    failures = []
    for method, path, endpoint in every:
        for value in ODD:
            response = ask(client, method, path, fields, value, token)
            if response.status_code >= 500:
                failures.append(f"{response.status_code} {method} {path} ({endpoint}) "
                                f"all fields = {value[:40]!r}")
    assert not failures, "\n".join(failures)


@settings(max_examples=60, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_any_text_in_any_field(app, data):
    """Hypothesis draws a route, a user and a value for each field."""
    every = routes(app)
    username = data.draw(st.sampled_from(USERS), label="user")
    method, path, endpoint = data.draw(st.sampled_from(every), label="route")
    client = signed_in(app, username)
    fields = sorted(field_names(client, [path] if method == "GET" else []))
    values = {name: data.draw(st.one_of(st.sampled_from(ODD), st.text(max_size=40),
                                        st.integers().map(str)), label=name)
              for name in data.draw(st.lists(st.sampled_from(fields), max_size=8,
                                             unique=True), label="fields")}
    token = csrf_token(client, "/")
    if method == "GET":
        response = client.get(path, query_string=values)
    else:
        response = client.post(path, data={**values, "csrf_token": token})
    assert response.status_code < 500, (method, path, endpoint, values)
