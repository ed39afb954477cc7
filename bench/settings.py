"""What every bench command shares: the data set sizes, where the bench keeps its files, and
the environment the app is started with (smweb reads its configuration from env vars only)."""

import argparse
import os
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = REPO / ".venv" / "bin"
# Never the repository's instance/: the bench has its own databases and secret.
WORK_DIR = Path(os.environ.get("SMWEB_BENCH_DIR", "/tmp/smweb-bench"))  # noqa: S108 - documented
SECRET_KEY = "smweb-bench-not-a-secret"  # noqa: S105 - signs bench sessions only
PASSWORD = "demo-password-1"  # noqa: S105 - the demo password, on bench accounts only
POSTGRES_EXAMPLE = "postgresql+psycopg://postgres@127.0.0.1:5432/smweb_bench"


@dataclass(frozen=True)
class Size:
    """How much data to seed. The big patient's threads all go to the big care team, which
    other patients fill up to `big_group_threads`; the small patient and small team hold
    `small_threads` threads, for the flat-cost comparison."""

    name: str
    patients: int
    messages: int
    groups: int
    big_patient_threads: int
    big_group_threads: int
    small_threads: int = 100
    staff_per_group: int = 3


SIZES = {
    "small": Size("small", patients=100, messages=5_000, groups=5,
                  big_patient_threads=1_000, big_group_threads=1_200),
    "default": Size("default", patients=1_000, messages=100_000, groups=20,
                    big_patient_threads=20_000, big_group_threads=25_000),
    "large": Size("large", patients=10_000, messages=1_000_000, groups=100,
                  big_patient_threads=20_000, big_group_threads=50_000),
}


def add_size_arguments(parser: argparse.ArgumentParser) -> None:
    """--small / --large and --database-url, the same on every bench command."""
    sizes = parser.add_mutually_exclusive_group()
    sizes.add_argument("--small", dest="size", action="store_const", const="small",
                       help="100 patients / 5,000 messages: for developing the bench")
    sizes.add_argument("--large", dest="size", action="store_const", const="large",
                       help="10,000 patients / 1,000,000 messages (slow to seed)")
    parser.set_defaults(size="default")
    parser.add_argument("--database-url", default=None,
                        help="SQLAlchemy URL of a PostgreSQL database to seed and serve "
                             f"(e.g. {POSTGRES_EXAMPLE}); default: a SQLite file under "
                             f"{WORK_DIR}")
    parser.add_argument("--reseed", action="store_true",
                        help="seed again even if the database already holds this size")


def sqlite_url(size: Size) -> str:
    return f"sqlite:///{WORK_DIR / f'{size.name}.db'}"


def app_environment(database_url: str, instance: Path | None = None) -> dict[str, str]:
    """The env vars the app (gunicorn workers, migrations, the in-process app) runs with:
    production settings, plain http on 127.0.0.1, mail written to files, a temporary instance
    directory."""
    instance = instance or WORK_DIR / "instance"
    return {
        "SMWEB_ENV": "production",
        "DATABASE_URL": database_url,
        "SMWEB_INSTANCE_PATH": str(instance),
        "SMWEB_SECRET_KEY": SECRET_KEY,
        "SMWEB_SECURE_COOKIES": "0",
        "SMWEB_MAIL_BACKEND": "outbox",
        "SMWEB_MAIL_OUTBOX": str(instance / "outbox"),
        "SMWEB_ATTACHMENTS_DIR": str(instance / "attachments"),
    }


def use_app_environment(database_url: str) -> dict[str, str]:
    """Put the app's environment into this process, before smweb is imported (smweb.config
    reads it at import time)."""
    env = app_environment(database_url)
    Path(env["SMWEB_INSTANCE_PATH"]).mkdir(parents=True, exist_ok=True)
    os.environ.update(env)
    return env
