"""The load generator: N concurrent clients hit one target for a fixed time.

Clients are threads spread over a few processes (forked), so the generator's own Python does
not cap what it measures; each keeps one http.client connection (kept alive when the server
allows: gunicorn's sync workers close it after every answer, gthread keeps it).
"""

import http.client
import math
import multiprocessing
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlencode

from .browser import USER_AGENT


@dataclass(frozen=True)
class Target:
    """One kind of request. Client i sends paths[i], paths[i + clients], ... in turn, so
    writes to a list of threads are spread over them."""

    name: str
    paths: tuple[str, ...]
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    form: tuple[tuple[str, str], ...] | None = None
    expect: tuple[int, ...] = (200,)


@dataclass
class Outcome:
    latencies: list[float] = field(default_factory=list)  # seconds, of expected answers
    statuses: Counter = field(default_factory=Counter)
    errors: int = 0  # connection failures
    elapsed: float = 0.0

    @property
    def requests(self) -> int:
        return len(self.latencies)

    @property
    def unexpected(self) -> int:
        return self.errors + sum(self.statuses.values()) - len(self.latencies)

    @property
    def per_second(self) -> float:
        return self.requests / self.elapsed if self.elapsed else 0.0

    def percentile_ms(self, p: float) -> float:
        return percentile(self.latencies, p) * 1000


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100); 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(p / 100 * len(ordered))))
    return ordered[rank - 1]


def measure(port: int, target: Target, cookie: str, clients: int, duration: float,
            processes: int = 2) -> Outcome:
    """Run `clients` clients against `target` for `duration` seconds; requests are started
    until the time is up and all of them are counted."""
    processes = max(1, min(processes, clients))
    start = time.monotonic() + 0.3  # every client starts together
    jobs = [(port, target, cookie, list(range(p, clients, processes)), clients, start,
             start + duration) for p in range(processes)]
    context = multiprocessing.get_context("fork")
    with context.Pool(processes) as pool:
        parts = pool.map(_client_process, jobs)
    outcome = Outcome()
    last_end = start
    for latencies, statuses, errors, ended in parts:
        outcome.latencies.extend(latencies)
        outcome.statuses.update(statuses)
        outcome.errors += errors
        last_end = max(last_end, ended)
    outcome.elapsed = last_end - start
    return outcome


def _client_process(job) -> tuple[list[float], Counter, int, float]:
    port, target, cookie, client_numbers, clients, start, stop = job
    results = []
    threads = [threading.Thread(target=_client, args=(port, target, cookie, n, clients, start,
                                                       stop, results))
               for n in client_numbers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies, statuses, errors, ended = [], Counter(), 0, start
    for part_latencies, part_statuses, part_errors, part_ended in results:
        latencies.extend(part_latencies)
        statuses.update(part_statuses)
        errors += part_errors
        ended = max(ended, part_ended)
    return latencies, statuses, errors, ended


def _client(port, target: Target, cookie: str, number: int, clients: int, start: float,
            stop: float, results: list) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {"Cookie": cookie, "User-Agent": USER_AGENT, **dict(target.headers)}
    body = None
    if target.form is not None:
        body = urlencode(target.form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    latencies, statuses, errors = [], Counter(), 0
    index = number
    time.sleep(max(0.0, start - time.monotonic()))
    ended = time.monotonic()
    while time.monotonic() < stop:
        path = target.paths[index % len(target.paths)]
        index += clients
        began = time.monotonic()
        try:
            connection.request(target.method, path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
        except (OSError, http.client.HTTPException):
            errors += 1
            connection.close()
            continue
        ended = time.monotonic()
        statuses[response.status] += 1
        if response.status in target.expect:
            latencies.append(ended - began)
    connection.close()
    results.append((latencies, statuses, errors, ended))  # list.append is thread-safe
