"""Background work on Huey: delivering email notices and the scheduled jobs, run by
`flask --app app smweb worker` (and by `make run`, beside the web server).

Huey keeps its queue in a SQLite file by default (one server, nothing more to run) or in
Redis (several servers); SMWEB_QUEUE chooses. The queue only says "there is work": the work
itself — which notices wait, when each job last ran — lives in the site's database, so a
lost queue entry costs at most a minute (the sweep), never a notice."""

import logging
from collections.abc import Callable
from datetime import timedelta
from functools import partial

import redis
from flask import Flask, current_app, has_app_context
from huey import Huey, crontab
from huey.storage import MemoryStorage, PriorityRedisStorage, SqliteStorage

from .extensions import db
from .services import attachments, jobs, notifications, sessions, throttle, triage


class _SiteQueue:
    """Huey's storage, whichever app asks: each app has its own, made when first used and
    kept in app.extensions (the web app's from its requests, the worker's from its threads).
    So building a second app — a test's, a command's — never moves another app's queue."""

    def __getattr__(self, name: str):
        app = current_app._get_current_object() if has_app_context() else _worker_app
        storage = app.extensions.get("smweb.queue")
        if storage is None:
            storage = app.extensions["smweb.queue"] = _make_storage(app.config)
        return getattr(storage, name)


def _make_storage(config):
    kind = config["QUEUE"]
    if kind == "sqlite":
        return SqliteStorage("smweb", filename=config["QUEUE_FILE"])
    if kind == "redis":
        # Timeouts: a Redis that can't be reached must not hold up a send (deliver_soon
        # gives up and the minute's sweep delivers).
        pool = redis.ConnectionPool.from_url(config["REDIS_URL"], socket_connect_timeout=2,
                                             socket_timeout=10)
        return PriorityRedisStorage("smweb", connection_pool=pool)  # the ticks' priority
    return MemoryStorage("smweb")  # "immediate": tasks run in the request; nothing is kept


huey = Huey("smweb", results=False, utc=True, storage_class=MemoryStorage)
huey.storage = _SiteQueue()
_worker_app: Flask | None = None
log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    """Check the queue setting (the storage itself is made when first used)."""
    kind = app.config["QUEUE"]
    if kind not in ("sqlite", "redis", "immediate"):
        raise ValueError(f"SMWEB_QUEUE must be 'sqlite', 'redis' or 'immediate', not {kind!r}")
    if kind == "redis" and not app.config["REDIS_URL"]:
        raise ValueError("SMWEB_QUEUE=redis needs SMWEB_REDIS_URL")


def _in_app(work: Callable[[], object]) -> object:
    """Run inside the app: the caller's (a request, a command), or the worker's own."""
    if has_app_context():
        return work()
    with _worker_app.app_context():
        try:
            return work()
        finally:
            db.session.remove()


# --- email notices ---------------------------------------------------------------------

def _deliver() -> notifications.Delivery:
    done = notifications.deliver_due()
    if done.more:
        deliver_notices()  # behind whatever else is queued: the scheduled jobs go first
    if done.retry_in is not None:
        deliver_notices.schedule(delay=done.retry_in.total_seconds())
    return done


@huey.task()
def deliver_notices() -> None:
    _in_app(_deliver)


def deliver_soon() -> None:
    """Ask the worker to deliver what is waiting, after the sender's commit. If the queue
    can't be reached the notices are safe in the outbox: the minute's sweep takes them."""
    if current_app.config["QUEUE"] == "immediate":
        _deliver()
        return
    try:
        deliver_notices()
    except Exception as error:  # the queue's storage is down: the send itself stands
        current_app.logger.warning("queue unreachable (%s): notices wait for the sweep",
                                   type(error).__name__)


# --- scheduled jobs: each also a `flask smweb` command, through run_now() -----------------

def _escalate() -> str:
    return f"Escalated {len(triage.escalate_overdue())} thread(s)."


def _send_digests() -> str:
    written = notifications.queue_digests()
    if written:
        deliver_soon()
    return f"Queued {written} digest(s)."


def _sweep_attachments(min_age_seconds: int = 3600) -> attachments.SweepReport:
    return attachments.sweep(min_age_seconds=min_age_seconds)


def _prune(days: int = 30) -> str:
    ended = sessions.prune(timedelta(days=days))
    failures = throttle.prune()
    notices = notifications.prune(timedelta(days=days))
    return (f"Deleted {ended} ended session(s), {failures} old failed sign-in(s) and "
            f"{notices} old email notice(s).")


WORK: dict[str, Callable[..., object]] = {
    "deliver-notices": _deliver,
    "escalate": _escalate,
    "send-digests": _send_digests,
    "sweep-attachments": _sweep_attachments,
    "prune": _prune,
}


def run_scheduled(name: str) -> object | None:
    """A scheduled run: skipped (None) when another worker has the job or just ran it."""
    def work():
        try:
            result = jobs.run(name, WORK[name], scheduled=True)
        except jobs.JobBusy:
            log.info("job %s: skipped, another worker has it or has just run it", name)
            return None
        log.info("job %s: ran", name)
        return result
    return _in_app(work)


def run_now(name: str, **options) -> object:
    """A run by hand (`flask smweb escalate`): now, unless a run is under way (JobBusy)."""
    return jobs.run(name, partial(WORK[name], **options), scheduled=False)


# How often the worker asks. The daily jobs are asked every quarter hour and run once per
# day's due moment (jobs.JOBS: 12:00, 08:30, 08:45 UTC), so a worker down at that moment
# catches up when it is back.
SCHEDULE = {
    "deliver-notices": crontab(minute="*"),
    "escalate": crontab(minute="*/15"),
    "send-digests": crontab(minute="*/15"),
    "sweep-attachments": crontab(minute="*/15"),
    "prune": crontab(minute="*/15"),
}


def _periodic(name: str, when) -> Callable[[], None]:
    def scheduled_job() -> None:
        run_scheduled(name)
    scheduled_job.__name__ = scheduled_job.__qualname__ = name.replace("-", "_")
    # priority: a tick waiting in the queue goes before the notices queued by sends.
    return huey.periodic_task(when, name=f"scheduled-{name}", priority=10)(scheduled_job)


PERIODIC = {name: _periodic(name, when) for name, when in SCHEDULE.items()}


def run_worker(app: Flask, workers: int = 2) -> None:
    """The worker process: Huey's consumer with its scheduler. It runs the notice sweep and
    the escalation once at start, so a site just started is healthy at once."""
    global _worker_app
    if app.config["QUEUE"] == "immediate":
        raise RuntimeError("SMWEB_QUEUE=immediate runs tasks inside requests: no worker")
    _worker_app = app
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    consumer = huey.create_consumer(workers=workers, worker_type="thread", periodic=True,
                                    check_worker_health=True)
    with app.app_context():
        jobs.register_all()
    deliver_notices()  # what waited while no worker ran (not the sweep: no job lease to wait on)
    PERIODIC["escalate"]()
    log.info("smweb worker: %s queue, %d worker thread(s)", app.config["QUEUE"], workers)
    consumer.run()
