"""HAProxy from Debian in front of app servers on loopback, for the tests that run a site on
more than one server. Its configuration is the README's ("When one machine is not enough"),
with the ports filled in."""

import os
import shutil
import subprocess
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

CONFIG = """\
global
    maxconn 1024
    log stderr format short local0 info

defaults
    mode http
    timeout connect 5s
    timeout client 120s
    timeout server 120s
    timeout queue 30s
    timeout check 2s
    log global
    option httplog
    option dontlog-normal
    option forwardfor
    retries 3
    option redispatch 1

frontend smweb
    bind 127.0.0.1:{port}
    http-request set-header X-Forwarded-Proto http
    default_backend app_servers

backend app_servers
    balance roundrobin
    option httpchk GET /help
{servers}
"""

# Each server's health check (GET /help every second; down after two misses, up after two
# answers), and: one refused connection marks it down at once, so requests stop going to a
# server that was killed (without it, ~2 s of requests fail before the check notices).
CHECK = "check inter 1s fall 2 rise 2 observe layer4 error-limit 1 on-error mark-down"


def binary() -> str:
    """HAProxy's path; without it a test fails in CI (make test installs it) or skips."""
    found = shutil.which("haproxy") or ("/usr/sbin/haproxy"
                                        if Path("/usr/sbin/haproxy").exists() else None)
    if found is None:
        message = "HAProxy is missing: make test installs it (apt-get install haproxy)"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return found


@contextmanager
def haproxy(folder: Path, port: int, backends: list[int], workers: int = 2):
    """HAProxy on 127.0.0.1:port, spreading requests over the app servers on `backends`
    (in turn), each sent at most `workers` requests at once (its gunicorn workers: the rest
    wait in HAProxy's queue, so a busy server still answers its health check). A server that
    refuses a connection is marked down at once and the request tried on another; its health
    check brings it back. Stopped at the end."""
    servers = "\n".join(f"    server app{n} 127.0.0.1:{backend} maxconn {workers} {CHECK}"
                        for n, backend in enumerate(backends, 1))
    config = folder / "haproxy.cfg"
    config.write_text(CONFIG.format(port=port, servers=servers))
    check = subprocess.run([binary(), "-c", "-f", str(config)],  # noqa: S603
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    log_path = folder / "haproxy.log"
    with log_path.open("ab") as log:
        running = subprocess.Popen(  # noqa: S603 - Debian's binary, our configuration
            [binary(), "-db", "-f", str(config)], stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)
    try:
        _wait_for(f"http://127.0.0.1:{port}/help", running, log_path)
        yield running
    finally:
        running.terminate()
        running.wait(timeout=10)


def _wait_for(url: str, running: subprocess.Popen, log_path: Path, timeout: float = 20):
    deadline = time.monotonic() + timeout
    while True:
        if running.poll() is not None:
            raise RuntimeError(f"haproxy exited: {log_path.read_text(errors='replace')}")
        try:
            urllib.request.urlopen(url, timeout=2).read()  # noqa: S310 - loopback
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
