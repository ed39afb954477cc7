"""gunicorn under the bench's control: start it on a free port of 127.0.0.1, find its worker
processes, read their CPU time from /proc, stop it. Its stderr goes to a file the load script
searches for "database is locked"."""

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from .browser import HttpBrowser
from .settings import REPO, VENV_BIN

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Gunicorn:
    """One gunicorn master and its workers, serving `app` ("module:variable")."""

    app: str
    env: dict[str, str]
    workers: int
    log_path: Path
    worker_class: str = "sync"
    threads: int = 1
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def label(self) -> str:
        threads = f" --threads {self.threads}" if self.worker_class == "gthread" else ""
        return f"gunicorn -w {self.workers} -k {self.worker_class}{threads}"

    def start(self, ready_path: str = "/", timeout: float = 60) -> "Gunicorn":
        """Start the server and wait until every worker is up and a request is answered."""
        command = [
            str(VENV_BIN / "gunicorn"), "--workers", str(self.workers),
            "--worker-class", self.worker_class, "--threads", str(self.threads),
            "--bind", f"127.0.0.1:{self.port}", "--chdir", str(REPO),
            "--error-logfile", "-", "--log-level", "warning", "--timeout", "120",
            self.app,
        ]
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        env = {k: v for k, v in os.environ.items() if not k.startswith("SMWEB_")}
        self.process = subprocess.Popen(  # noqa: S603 - fixed command, our own venv
            command, env={**env, **self.env}, stdout=log, stderr=subprocess.STDOUT,
            cwd=REPO, start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.app} exited at start; see {self.log_path}")
            if len(self.worker_pids()) >= self.workers and self._answers(ready_path):
                return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.app} did not start in {timeout} s; see {self.log_path}")

    def _answers(self, path: str) -> bool:
        browser = HttpBrowser("127.0.0.1", self.port, timeout=5)
        try:
            return browser.request("GET", path).status < 500
        except OSError:
            return False
        finally:
            browser.close()

    def worker_pids(self) -> list[int]:
        """The master's child processes (its workers), from /proc."""
        if self.process is None:
            return []
        children = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue  # gone meanwhile
            if int(stat.rsplit(")", 1)[1].split()[1]) == self.process.pid:
                children.append(int(entry.name))
        return children

    def cpu_seconds(self) -> dict[int, float]:
        """User + system CPU time of each worker so far (all its threads)."""
        times = {}
        for pid in self.worker_pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            # After the command name: state is field 3, utime field 14, stime field 15.
            times[pid] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
        return times

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> "Gunicorn":
        return self.start()

    def __exit__(self, *_exc) -> None:
        self.stop()


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds the workers spent between two readings (workers present in both)."""
    return sum(after[pid] - before[pid] for pid in after if pid in before)
