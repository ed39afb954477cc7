"""The measurement run: `python -m bench` (or `make bench`).

Seeds (or reuses) the data set, serves the bare one-route app and then smweb with the same
gunicorn configuration, and prints for each page: requests/s, p50/p95/p99 latency, throughput
as a ratio to the bare endpoint, worker CPU milliseconds per request, SQL statements per
request (in-process), and bytes (raw and gzip'd); then the flat-cost ratios (a 100-thread
mailbox against the big one) and the issue's targets, each met or MISSED.
"""

import argparse
import gzip
import os
import re
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

from .browser import CookieJar, HttpBrowser, TestClientBrowser, csrf_token, parse_page, sign_in
from .loadgen import Outcome, Target, measure
from .seed import (
    BIG_GROUP_ID,
    BIG_PATIENT,
    COORDINATOR,
    SMALL_GROUP_ID,
    SMALL_PATIENT,
    ensure_seeded,
)
from .server import Gunicorn, cpu_used
from .settings import (
    PASSWORD,
    SIZES,
    WORK_DIR,
    add_size_arguments,
    sqlite_url,
    use_app_environment,
)

BIG_STAFF, SMALL_STAFF = f"bench-staff-{BIG_GROUP_ID}-1", f"bench-staff-{SMALL_GROUP_ID}-1"
KB = 1024
TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "PRAGMA")
WRITES = ("INSERT", "UPDATE", "DELETE")
AUDIT_ROW = "INSERT INTO audit_events"
# The list pages of issue 8: a plain GET of one of these must not write to the database.
LIST_PAGES = ("inbox", "inbox fragment", "inbox poll (204)", "inbox, deep page", "search",
              "search (staff)", "queue", "patients", "patients, searched")


@dataclass
class Page:
    """One line of the report: a target, who asks for it, and what was measured."""

    target: Target
    account: str
    outcome: Outcome | None = None
    cpu_ms: float = 0.0
    statements: list[str] = field(default_factory=list)
    size: int = 0
    gzip_size: int = 0

    @property
    def name(self) -> str:
        return self.target.name

    @property
    def sql(self) -> int:
        return len(self.statements)

    @property
    def writes(self) -> int:
        return sum(s.lstrip().upper().startswith(WRITES) for s in self.statements)

    @property
    def writes_beyond_audit(self) -> int:
        """Writes other than the audit row an access to health information must leave (a
        search shows parts of messages: it is audited like opening a thread)."""
        return sum(s.lstrip().upper().startswith(WRITES) and AUDIT_ROW not in s
                   for s in self.statements)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_size_arguments(parser)
    parser.add_argument("--duration", type=float, default=None,
                        help="seconds of load per page (default 10; 5 with --small)")
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 2),
                        help="gunicorn sync workers (default: 2 per core)")
    parser.add_argument("--clients", type=int, default=None,
                        help="concurrent clients (default: 2 per worker)")
    parser.add_argument("--processes", type=int, default=2,
                        help="load generator processes the clients are spread over")
    parser.add_argument("--search", default="refill", help="the words searched for")
    parser.add_argument("--patient-search", default="bench 99",
                        help="the part of a name the coordinator's Patients page looks for "
                             "(default: names near the end of the A to Z order, so the "
                             "search reads most of the list before its page is full)")
    parser.add_argument("--show-sql", action="store_true",
                        help="print every SQL statement each page runs")
    args = parser.parse_args(argv)
    size = SIZES[args.size]
    database_url = args.database_url or sqlite_url(size)
    duration = args.duration or (5.0 if size.name == "small" else 10.0)
    clients = args.clients or 2 * args.workers

    ensure_seeded(size, database_url, reseed=args.reseed)
    env = use_app_environment(database_url)
    from smweb import create_app

    app = create_app(SQLALCHEMY_DATABASE_URI=database_url)
    plan = _plan(app, args.search, args.patient_search,
                 deep_pages=size.big_patient_threads // 20)
    logs = WORK_DIR / "logs"
    backend = database_url.split(":", 1)[0].split("+", 1)[0]
    print(f"\nbench: {size.name} data set on {backend}, {args.workers} sync workers, "
          f"{clients} clients, {duration:g} s per page")

    with Gunicorn("bench.bare_app:app", env, args.workers, logs / "bare.log") as bare:
        bare_page = Page(Target("bare endpoint", ("/",)), "")
        _load(bare, bare_page, "", clients, duration, args.processes)

    with Gunicorn("app:app", env, args.workers, logs / "smweb.log") as server:
        jars = {}
        for account in (BIG_PATIENT, SMALL_PATIENT, BIG_STAFF, SMALL_STAFF, COORDINATOR):
            browser = HttpBrowser("127.0.0.1", server.port)
            sign_in(browser, account, PASSWORD)
            jars[account] = browser.cookies
            browser.close()
        pages, flat = _pages(plan, server.port, jars)
        _in_process(app, pages + [small for _big, small, _target in flat], jars,
                    args.show_sql)
        full_inbox = _full_page_bytes(app, jars[BIG_PATIENT], "/mailbox/inbox")
        # Each small-mailbox page right after its big one: a busy neighbour on a shared
        # machine then weighs on both sides of a flat-cost ratio alike.
        partner = {id(big): small for big, small, _target in flat}
        for page in pages:
            for each in (page, partner.get(id(page))):
                if each is not None:
                    _load(server, each, jars[each.account].header(), clients, duration,
                          args.processes)
        failures = server.log_path.read_text(errors="replace").count("Traceback")

    _report(size, bare_page, pages, flat, full_inbox, plan.deep_page)
    if failures:
        print(f"\nNOTE: {failures} traceback(s) in {logs / 'smweb.log'}")
    return 0


@dataclass
class Plan:
    """Which threads the pages open: the newest of each mailbox (two messages each), and
    recent ones of the big mailbox to reply to."""

    big_thread: int
    small_thread: int
    reply_threads: list[int]
    search: str
    patient_search: str  # part of a name, for the coordinator's Patients page
    deep_inbox: str  # a deep page of the big inbox (1,000), as its Older links reach it
    deep_page: int


def _plan(app, search: str, patient_search: str, deep_pages: int) -> Plan:
    from datetime import timedelta

    from sqlalchemy import select

    from smweb.clock import utcnow
    from smweb.extensions import db
    from smweb.models import Thread, User
    from smweb.services.paging import place

    def newest(username: str) -> Thread:
        return db.session.scalars(
            select(Thread).join(User, User.id == Thread.patient_id)
            .where(User.username == username, Thread.last_team_message_at.is_not(None),
                   Thread.patient_deleted_at.is_(None), Thread.folder_id.is_(None))
            .order_by(Thread.last_team_message_at.desc(), Thread.id.desc()).limit(1)).one()

    with app.app_context():
        big, small = newest(BIG_PATIENT), newest(SMALL_PATIENT)
        # Within the reply window (45 days), and never the thread the thread page shows.
        recent = list(db.session.scalars(
            select(Thread.id).join(User, User.id == Thread.patient_id)
            .where(User.username == BIG_PATIENT, Thread.id != big.id,
                   Thread.last_message_at > utcnow() - timedelta(days=40))
            .order_by(Thread.last_message_at.desc()).limit(400)))
        # Page 1,000 (or the last but one) starts after the last thread of the page before
        # (newest first, ten a page).
        deep_page = max(2, min(1000, deep_pages))
        last_before = db.session.execute(
            select(Thread.last_team_message_at, Thread.id).join(User, User.id == Thread.patient_id)
            .where(User.username == BIG_PATIENT, Thread.last_team_message_at.is_not(None),
                   Thread.patient_deleted_at.is_(None), Thread.folder_id.is_(None))
            .order_by(Thread.last_team_message_at.desc(), Thread.id.desc())
            .offset((deep_page - 1) * 10 - 1).limit(1)).one()
        # the Older link's ?after=: the place of that thread (its time and id)
        deep = f"/mailbox/inbox?page={deep_page}&after={place(last_before)}"
        return Plan(big.id, small.id, recent, search, patient_search, deep, deep_page)


def _pages(plan: Plan, port: int, jars: dict[str, CookieJar]) -> tuple[list[Page], list]:
    """The measured pages, and the (big, small, is a target) triples of the flat-cost
    comparison."""
    browser = HttpBrowser("127.0.0.1", port, cookies=jars[BIG_PATIENT])
    # Opening the thread page marks its thread read: done first, so the list the poll below
    # names is the list as it stays (a freshly seeded thread would change it once).
    browser.request("GET", f"/threads/{plan.big_thread}")
    # The inbox's poll, as the page asks for it (its hx-get), and a changed-list variant.
    poll = parse_page(browser.request("GET", "/mailbox/inbox").text).hx_get["message-list"]
    changed = re.sub(r"([?&]v=)[^&]*", r"\g<1>0", poll)
    reply_token = csrf_token(browser.request("GET", f"/threads/{plan.reply_threads[0]}"))
    browser.close()
    # What the inbox's poll sends (templates/mailbox/folder.html): htmx targets the list.
    poll_headers = (("HX-Request", "true"), ("HX-Target", "message-list"),
                    ("HX-Trigger", "message-list"),
                    ("HX-Current-URL", f"http://127.0.0.1:{port}/mailbox/inbox"))
    search = "/search?" + urlencode({"q": plan.search})
    marker = f"bench reply {time.strftime('%H%M%S')}"

    def page(name, account, paths, **target) -> Page:
        return Page(Target(name, tuple(paths), **target), account)

    pages = [
        # What every signed-in request costs before its own work: the session check behind
        # the timeout warning (the cookie, the server-side session and its user, headers).
        page("signed-in floor", BIG_PATIENT, ["/session?poll=1"], expect=(204,)),
        page("inbox", BIG_PATIENT, ["/mailbox/inbox"]),
        page("inbox fragment", BIG_PATIENT, [changed], headers=poll_headers),
        page("inbox poll (204)", BIG_PATIENT, [poll], headers=poll_headers, expect=(204,)),
        page("inbox, deep page", BIG_PATIENT, [plan.deep_inbox]),
        page("thread", BIG_PATIENT, [f"/threads/{plan.big_thread}"]),
        page("search", BIG_PATIENT, [search]),
        page("search (staff)", BIG_STAFF, [search]),
        page("queue", BIG_STAFF, ["/triage/"]),
        page("queue by patient", BIG_STAFF, ["/triage/?sort=patient"]),
        # The coordinator's Patients page: every patient of the facility, A to Z by name,
        # 25 a page; and a search for part of a name (checked on the patients walked in
        # that order until a page is full: see services/people.py).
        page("patients", COORDINATOR, ["/triage/patients"]),
        page("patients, searched", COORDINATOR,
             ["/triage/patients?" + urlencode({"q": plan.patient_search})]),
        page("reply (POST)", BIG_PATIENT,
             [f"/threads/{t}/reply" for t in plan.reply_threads], method="POST",
             form=(("csrf_token", reply_token), ("action", "send"),
                   ("body", f"{marker}: thank you, that helps.")), expect=(303,)),
    ]
    by_name = {p.name: p for p in pages}
    flat = [
        (by_name["inbox"], page("inbox, 100 threads", SMALL_PATIENT, ["/mailbox/inbox"]), True),
        (by_name["thread"], page("thread, 100 threads", SMALL_PATIENT,
                                 [f"/threads/{plan.small_thread}"]), True),
        (by_name["search"], page("search, 100 threads", SMALL_PATIENT, [search]), True),
        (by_name["queue"], page("queue, small team", SMALL_STAFF, ["/triage/"]), True),
        # The queue's other order: no index can hold the patient's name (another table)
        # with the team's threads, so it reads every open thread of the team. Shown, not a
        # target (bench/README.md).
        (by_name["queue by patient"], page("queue by patient, small", SMALL_STAFF,
                                            ["/triage/?sort=patient"]), False),
    ]
    return pages, flat


def _load(server: Gunicorn, page: Page, cookie: str, clients: int, duration: float,
          processes: int) -> None:
    """Warm the workers up, then measure the page under load and the CPU it cost them."""
    print(f"  measuring {page.name} ...", flush=True)
    measure(server.port, page.target, cookie, clients, min(2.0, duration / 4), processes)
    before = server.cpu_seconds()
    page.outcome = measure(server.port, page.target, cookie, clients, duration, processes)
    spent = cpu_used(before, server.cpu_seconds())
    answered = sum(page.outcome.statuses.values())
    page.cpu_ms = spent * 1000 / answered if answered else 0.0


def _in_process(app, pages: list[Page], jars: dict[str, CookieJar], show_sql: bool) -> None:
    """SQL statements and bytes of each page, from the app in this process (the second of two
    requests, so one-time work such as template compiling is not counted). No app context is
    held around the requests: each must get its own `g`, or Flask-Login's cached user of the
    first would answer for all."""
    from sqlalchemy import event

    from smweb.extensions import db

    with app.app_context():
        engine = db.engine
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        if not statement.lstrip().upper().startswith(TRANSACTION_CONTROL):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        for page in pages:
            browser = TestClientBrowser(app, jars[page.account])
            target = page.target
            for path in (target.paths * 2)[:2]:
                statements.clear()
                form = dict(target.form) if target.form is not None else None
                answer = browser.request(target.method, path, form=form,
                                         headers=dict(target.headers))
            if answer.status not in target.expect:
                title = re.search(r"<h1[^>]*>(.*?)</h1>", answer.text, re.S)
                print(f"  WARNING: {page.name} answered {answer.status} in-process"
                      + (f": {' '.join(title.group(1).split())}" if title else ""))
            page.statements = list(statements)
            page.size, page.gzip_size = len(answer.body), len(gzip.compress(answer.body))
            if show_sql:
                print(f"\n-- {page.name}: {page.sql} statements")
                for statement in page.statements:
                    print("  ", " ".join(statement.split())[:300])
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _full_page_bytes(app, jar: CookieJar, path: str) -> tuple[int, int, list[str]]:
    """The page with the CSS and scripts it references: raw and gzip'd bytes (each file
    compressed on its own, as a server sends it), and the files."""
    browser = TestClientBrowser(app, jar)
    html = browser.request("GET", path).body
    assets = parse_page(html.decode()).assets
    bodies = [html] + [browser.request("GET", asset).body for asset in assets]
    return (sum(len(b) for b in bodies), sum(len(gzip.compress(b)) for b in bodies), assets)


# --- the report -----------------------------------------------------------------------------

def _report(size, bare: Page, pages: list[Page], flat: list, full_inbox, deep_page: int) -> None:
    bare_rate = bare.outcome.per_second
    print(f"\n== smweb bench: {size.name} ({size.patients:,} patients, {size.messages:,} "
          f"messages; big mailbox {size.big_patient_threads:,} threads, big team "
          f"{size.big_group_threads:,}) ==\n")
    header = (f"{'page':<24}{'req/s':>8}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}{'x bare':>8}"
              f"{'CPU ms':>8}{'SQL':>5}{'writes':>7}{'bytes':>9}{'gzip':>7}  notes")
    print(header)
    print("-" * len(header))
    for page in [bare, *pages, *[small for _big, small, _target in flat]]:
        o = page.outcome
        notes = ""
        if o.unexpected:
            notes = f"{o.unexpected} unexpected answers: {dict(o.statuses)}" + (
                f", {o.errors} connection errors" if o.errors else "")
        in_process = page is not bare
        print(f"{page.name:<24}{o.per_second:>8.1f}{o.percentile_ms(50):>8.1f}"
              f"{o.percentile_ms(95):>8.1f}{o.percentile_ms(99):>8.1f}"
              f"{o.per_second / bare_rate if bare_rate else 0:>8.3f}{page.cpu_ms:>8.2f}"
              f"{page.sql if in_process else '':>5}{page.writes if in_process else '':>7}"
              f"{page.size if in_process else '':>9}{page.gzip_size if in_process else '':>7}"
              f"  {notes}")
    raw, zipped, assets = full_inbox
    print(f"\nfull inbox page (HTML + {', '.join(assets)}): {raw:,} bytes, "
          f"{zipped:,} gzip'd")

    print("\nflat cost: the big mailbox (or team) against the small one (100 threads); "
          "p50 is the target,\nCPU ms per request is steadier on a shared machine")
    flat_met = []
    for big, small, is_target in flat:
        ratio = big.outcome.percentile_ms(50) / max(small.outcome.percentile_ms(50), 1e-9)
        cpu_ratio = big.cpu_ms / max(small.cpu_ms, 1e-9)
        verdict = f"<= 1.5 {_verdict(ratio <= 1.5)}" if is_target else "not a target"
        if is_target:
            flat_met.append((big.name, ratio))
        print(f"  {big.name:<7} p50 small {small.outcome.percentile_ms(50):6.1f} ms, big "
              f"{big.outcome.percentile_ms(50):6.1f} ms: {ratio:5.2f} ({verdict});  "
              f"CPU small {small.cpu_ms:5.1f} ms, big {big.cpu_ms:5.1f} ms: {cpu_ratio:5.2f}")

    by_name = {p.name: p for p in pages}
    inbox, fragment, search = by_name["inbox"], by_name["inbox fragment"], by_name["search"]
    deep = by_name["inbox, deep page"]
    ratio = deep.outcome.percentile_ms(50) / max(inbox.outcome.percentile_ms(50), 1e-9)
    flat_met.append((f"inbox page {deep_page:,} against page 1", ratio))
    print(f"  inbox page {deep_page:,} (read from where the page before ended) against page 1: p50 "
          f"{deep.outcome.percentile_ms(50):6.1f} ms / {inbox.outcome.percentile_ms(50):6.1f} ms"
          f" = {ratio:5.2f} (<= 1.5 {_verdict(ratio <= 1.5)})")
    print("\ntargets (issue 8):")
    share = inbox.outcome.per_second / bare_rate if bare_rate else 0
    _target(f"inbox throughput >= 10% of bare: {share:.1%}", share >= 0.10)
    _target(f"inbox CPU <= 4 ms/request: {inbox.cpu_ms:.2f} ms", inbox.cpu_ms <= 4)
    floor = by_name["signed-in floor"]
    print(f"           of which {bare.cpu_ms:.2f} ms serving any request (the bare endpoint), "
          f"{floor.cpu_ms - bare.cpu_ms:.2f} ms being signed in (the signed-in floor),\n"
          f"           {inbox.cpu_ms - floor.cpu_ms:.2f} ms the page's own queries and HTML")
    p95 = search.outcome.percentile_ms(95)
    scope = "" if size.name == "large" else \
        f" (over {size.messages:,} messages; the target is for 1,000,000: --large)"
    _target(f"search p95 <= 100 ms: {p95:.1f} ms{scope}", p95 <= 100)
    _target(f"full inbox page gzip'd <= 60 KB: {zipped / KB:.1f} KB", zipped <= 60 * KB)
    _target(f"inbox fragment <= 8 KB: {fragment.size / KB:.1f} KB "
            f"({fragment.gzip_size / KB:.1f} KB gzip'd)", fragment.size <= 8 * KB)
    for name, ratio in flat_met:
        _target(f"flat cost, {name}: p50 ratio {ratio:.2f} <= 1.5", ratio <= 1.5)
    writers = [f"{p.name} ({p.writes_beyond_audit})" for p in pages
               if p.name in LIST_PAGES and p.writes_beyond_audit]
    _target("no database write but its audit row on a plain GET of a list page"
            + (f": writes in {', '.join(writers)}" if writers else ""), not writers)


def _verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def _target(text: str, met: bool) -> None:
    print(f"  [{_verdict(met):>6}] {text}")
