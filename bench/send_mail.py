"""`python -m bench.send_mail`: how long Send takes with email notices on (issue 16).

The demo site under gunicorn with its worker; a real SMTP relay on loopback (aiosmtpd, the
one the tests use) that takes SECONDS to acknowledge each email. veteran1 sends N messages
to Primary Care Team Blue, over HTTP, as the compose form does: first with mail off, then
with the team's three staff each wanting an email per message. Prints both timings, and how
long the worker took to deliver every notice. Send must not wait on the relay.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time

from .browser import HttpBrowser, parse_page, sign_in
from .server import Gunicorn
from .settings import REPO, VENV_BIN, WORK_DIR

TEAM_BLUE = ("nurse1", "doctor1", "clerk1")


def _environment(folder, relay_port: int) -> dict[str, str]:
    return {
        "SMWEB_ENV": "development",  # the demo accounts (production refuses to seed them)
        "DATABASE_URL": f"sqlite:///{folder / 'smweb.db'}",
        "SMWEB_INSTANCE_PATH": str(folder),
        "SMWEB_SECRET_KEY": "smweb-bench-not-a-secret",
        "SMWEB_MAIL_BACKEND": "smtp",
        "SMWEB_SMTP_HOST": "127.0.0.1",
        "SMWEB_SMTP_PORT": str(relay_port),
        "SMWEB_QUEUE": "sqlite",
    }


def _flask(env: dict, *args: str, **popen) -> subprocess.Popen | None:
    command = [str(VENV_BIN / "flask"), "--app", "app", *args]
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SMWEB_")}
    if popen:
        return subprocess.Popen(command, cwd=REPO, env={**clean, **env},  # noqa: S603
                                start_new_session=True, **popen)
    subprocess.run(command, cwd=REPO, env={**clean, **env}, check=True,  # noqa: S603
                   capture_output=True)
    return None


def _want_emails(env: dict, notify: str) -> None:
    code = (
        "from app import app\n"
        "from smweb.services import accounts, preferences\n"
        "with app.app_context():\n"
        f"    for name in {TEAM_BLUE!r}:\n"
        "        preferences.save(accounts.find_user(name), signature_name='',\n"
        "            signature_title='', signature_by_default=False,\n"
        f"            notify={notify!r}, email=name + '@example.org', shown_group_ids=None)\n")
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SMWEB_")}
    subprocess.run([str(VENV_BIN / "python"), "-c", code], cwd=REPO,  # noqa: S603
                   env={**clean, **env}, check=True)


def _sends(port: int, browser: HttpBrowser, count: int, label: str) -> list[float]:
    took = []
    for n in range(count):
        page = browser.request("GET", "/compose")
        form = parse_page(page.text).hidden
        recipient = next(value for value, text in _options(page.text)
                         if text == "Primary Care Team Blue")
        form |= {"action": "send", "recipient": recipient, "category": "General",
                 "subject": f"Bench {label} {n}", "body": "A question for my care team."}
        began = time.perf_counter()
        answer = browser.request("POST", "/compose", form=form)
        took.append(time.perf_counter() - began)
        if answer.status != 303:
            raise SystemExit(f"send {n} answered HTTP {answer.status}")
    return took


def _options(html: str) -> list[tuple[str, str]]:
    import re

    return re.findall(r'<option value="(\d+)"[^>]*>([^<]+)</option>', html)


def _line(label: str, took: list[float]) -> str:
    ms = sorted(t * 1000 for t in took)
    return (f"  {label:<44} median {statistics.median(ms):7.1f} ms   "
            f"slowest {ms[-1]:7.1f} ms   ({len(ms)} sends)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.send_mail", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=4.0,
                        help="how long the relay takes to acknowledge each email")
    parser.add_argument("--sends", type=int, default=10, help="sends per mode")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(REPO))
    from tests.mailrelay import Relay

    folder = WORK_DIR / "send-mail"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    relay = Relay(delay=args.seconds).start()
    env = _environment(folder, relay.port)
    _flask(env, "db", "upgrade")
    _flask(env, "smweb", "seed-demo")
    log = (folder / "worker.log").open("ab")
    worker = _flask(env, "smweb", "worker", stdout=log, stderr=subprocess.STDOUT)
    server = Gunicorn("app:app", env, workers=2, log_path=folder / "gunicorn.log").start(
        ready_path="/help")
    try:
        browser = HttpBrowser("127.0.0.1", server.port)
        sign_in(browser, "veteran1", "demo-password-1")
        _sends(server.port, browser, 2, "warm-up")
        mail_off = _sends(server.port, browser, args.sends, "mail off")
        _want_emails(env, "each")
        began = time.monotonic()
        mail_on = _sends(server.port, browser, args.sends, "mail on")
        relay.wait_for(3 * args.sends, timeout=3 * args.sends * args.seconds + 120)
        delivered_in = time.monotonic() - began
    finally:
        server.stop()
        worker.terminate()
        worker.wait(timeout=30)
        relay.stop()
    print(f"Send with email notices (gunicorn -w 2, SQLite, a relay taking {args.seconds:g} s "
          f"per email):")
    print(_line("mail off (nobody wants an email)", mail_off))
    print(_line("3 staff want an email per message", mail_on))
    print(f"  the worker delivered all {3 * args.sends} notices in {delivered_in:.1f} s "
          f"(the worker's 2 threads, {args.seconds:g} s per email)")
    slower = statistics.median(mail_on) - statistics.median(mail_off)
    met = slower < 0.1
    print(f"  target: Send no slower with mail on (median +{slower * 1000:.1f} ms): "
          f"{'MET' if met else 'NOT MET'}")
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
