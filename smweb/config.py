"""Configuration classes. Environment variables are read here and nowhere else."""

import os
import secrets
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_PATH = Path(os.environ.get("SMWEB_INSTANCE_PATH", PROJECT_ROOT / "instance"))


def N_(text: str) -> str:
    """Marks a default of the site's own words for translation (pybabel extract finds it):
    shown through i18n.site_text in the page's language."""
    return text


def _site_texts(language: str) -> dict[str, str]:
    """The site's own words as it gives them in `language` (SMWEB_CRISIS_LINE_ES=...)."""
    names = ("SERVICE_NAME", "COORDINATOR_TITLE", "CRISIS_LINE", "HELP_DESK_HOURS")
    return {name: os.environ[f"SMWEB_{name}_{language}"] for name in names
            if os.environ.get(f"SMWEB_{name}_{language}")}


def _secret_key() -> str:
    """The key from SMWEB_SECRET_KEY, or one generated once into instance/ and kept there."""
    if key := os.environ.get("SMWEB_SECRET_KEY"):
        return key
    path = INSTANCE_PATH / "secret_key"
    if not path.exists():
        INSTANCE_PATH.mkdir(parents=True, exist_ok=True)
        # O_EXCL: two workers starting at once must not write two different keys.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(32))
    return path.read_text().strip()


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


class Config:
    SECRET_KEY = None  # filled in by create_app() through secret_key()
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{INSTANCE_PATH / 'smweb.db'}"
    )
    # hide_parameters: a database error must never copy message text into the logs.
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True, "hide_parameters": True}
    SQLITE_BUSY_TIMEOUT_MS = int(os.environ.get("SMWEB_SQLITE_BUSY_TIMEOUT_MS", "15000"))

    # A site's own words (its name, the crisis line, the help desk's hours) are shown in the
    # page's language: SMWEB_<NAME>_ES and so on where the site sets them, else the default's
    # translation (i18n.site_text).
    SERVICE_NAME = os.environ.get("SMWEB_SERVICE_NAME", N_("Secure Messaging"))
    COORDINATOR_TITLE = os.environ.get(
        "SMWEB_COORDINATOR_TITLE", N_("My HealtheVet Coordinator")
    )
    CRISIS_LINE = os.environ.get(
        "SMWEB_CRISIS_LINE", N_("Veterans Crisis Line: dial 988 then press 1")
    )
    # Words of an emergency: a patient's message that holds one is stopped before it is sent
    # with a page that says to call instead (services/urgent.py). Comma-separated phrases,
    # in every language the site speaks (a patient may write in either).
    URGENT_WORDS = [w.strip() for w in os.environ.get(
        "SMWEB_URGENT_WORDS",
        "chest pain, chest pressure, heart attack, can't breathe, cannot breathe, can not "
        "breathe, trouble breathing, hard to breathe, stroke, suicide, suicidal, kill myself, "
        "hurt myself, want to die, end my life, overdose, bleeding heavily, passed out, "
        "unconscious, seizure, "
        # The same in Spanish (accents may be left out: "presion" is "presión")
        "dolor de pecho, dolor en el pecho, presión en el pecho, ataque al corazón, infarto, "
        "no puedo respirar, me falta el aire, me cuesta respirar, dificultad para respirar, "
        "derrame cerebral, suicidio, suicida, suicidarme, matarme, quitarme la vida, "
        "hacerme daño, quiero morir, sobredosis, sangrado abundante, sangro mucho, "
        "me desmayé, inconsciente, convulsión").split(",") if w.strip()]
    # The same words as the site gives them in Spanish (SMWEB_CRISIS_LINE_ES=...).
    SITE_TEXTS_ES = _site_texts("ES")
    DISPLAY_TIMEZONE = os.environ.get("SMWEB_TIMEZONE", "America/New_York")
    # A patient can't reply in a thread whose last message is older than this (PRODUCT.md).
    REPLY_WINDOW_DAYS = int(os.environ.get("SMWEB_REPLY_WINDOW_DAYS", "45"))
    HELP_DESK_PHONE = os.environ.get("SMWEB_HELP_DESK_PHONE", "555-0199")
    HELP_DESK_TTY = os.environ.get("SMWEB_HELP_DESK_TTY", "711")
    HELP_DESK_HOURS = os.environ.get(
        "SMWEB_HELP_DESK_HOURS", N_("Monday to Friday, 8:00 a.m. to 5:00 p.m. Eastern time")
    )
    PAGE_SIZE = int(os.environ.get("SMWEB_PAGE_SIZE", "10"))
    INBOX_POLL_SECONDS = int(os.environ.get("SMWEB_INBOX_POLL_SECONDS", "60"))

    SESSION_COOKIE_SECURE = _bool("SMWEB_SECURE_COOKIES", True)
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # "__Host-": the browser takes the cookie only over https, for this host, for every path.
    SESSION_COOKIE_NAME = "__Host-smweb_session" if SESSION_COOKIE_SECURE else "smweb_session"
    # Sessions live on the server (services/sessions.py); there is no remember-me cookie.
    STAFF_IDLE_MINUTES = float(os.environ.get("SMWEB_STAFF_IDLE_MINUTES", "15"))
    PATIENT_IDLE_MINUTES = float(os.environ.get("SMWEB_PATIENT_IDLE_MINUTES", "30"))
    SHARED_IDLE_MINUTES = float(os.environ.get("SMWEB_SHARED_IDLE_MINUTES", "5"))
    SESSION_ABSOLUTE_HOURS = float(os.environ.get("SMWEB_SESSION_ABSOLUTE_HOURS", "12"))
    SESSION_WARNING_SECONDS = int(os.environ.get("SMWEB_SESSION_WARNING_SECONDS", "60"))
    # Sign-in protection: failures per account name and per address within the window lock
    # further tries until the window has passed. State in the database, or Redis if named.
    SIGN_IN_MAX_FAILURES = int(os.environ.get("SMWEB_SIGN_IN_MAX_FAILURES", "5"))
    SIGN_IN_MAX_FAILURES_PER_IP = int(os.environ.get("SMWEB_SIGN_IN_MAX_FAILURES_PER_IP", "30"))
    SIGN_IN_LOCKOUT_MINUTES = int(os.environ.get("SMWEB_SIGN_IN_LOCKOUT_MINUTES", "15"))
    # Emails with a link ("Forgot your password?", "send it again") and sign-ups, within the
    # same window: per name or address typed, per account, and per network address.
    EMAIL_LINKS_PER_TYPED = int(os.environ.get("SMWEB_EMAIL_LINKS_PER_TYPED", "3"))
    EMAIL_LINKS_PER_ACCOUNT = int(os.environ.get("SMWEB_EMAIL_LINKS_PER_ACCOUNT", "3"))
    EMAIL_LINKS_PER_IP = int(os.environ.get("SMWEB_EMAIL_LINKS_PER_IP", "20"))
    SIGN_UPS_PER_IP = int(os.environ.get("SMWEB_SIGN_UPS_PER_IP", "10"))
    REDIS_URL = os.environ.get("SMWEB_REDIS_URL", "")
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    WTF_CSRF_HEADERS = ["X-CSRFToken"]
    # Attachments: stored outside the web root; large mode raises the limits (PRODUCT.md).
    # Where their bytes live: "local" (the folder ATTACHMENTS_DIR) or "s3" (a bucket of an
    # S3-compatible object store, smweb's alone). `flask smweb move-attachments` copies them
    # from one to the other before a switch (README, Attachments in object storage).
    STORAGE = os.environ.get("SMWEB_STORAGE", "local")
    ATTACHMENTS_DIR = os.environ.get("SMWEB_ATTACHMENTS_DIR", str(INSTANCE_PATH / "attachments"))
    S3_ENDPOINT_URL = os.environ.get("SMWEB_S3_ENDPOINT_URL", "")  # empty: AWS S3 itself
    S3_BUCKET = os.environ.get("SMWEB_S3_BUCKET", "")
    S3_ACCESS_KEY_ID = os.environ.get("SMWEB_S3_ACCESS_KEY_ID", "")
    S3_SECRET_ACCESS_KEY = os.environ.get("SMWEB_S3_SECRET_ACCESS_KEY", "")
    S3_REGION = os.environ.get("SMWEB_S3_REGION", "us-east-1")
    LARGE_ATTACHMENTS = _bool("SMWEB_LARGE_ATTACHMENTS", False)
    SCANNER = os.environ.get("SMWEB_SCANNER", "none")  # "none" or "clamd"
    CLAMD_ADDRESS = os.environ.get("SMWEB_CLAMD_ADDRESS", "/var/run/clamav/clamd.ctl")
    MAX_CONTENT_LENGTH = None  # derived from the attachment limits in create_app()
    PREFERRED_URL_SCHEME = "https"

    ALLOW_DEMO_SEED = True
    # Email notices (no health information in them). "smtp", or "outbox": files in a folder.
    MAIL_BACKEND = os.environ.get("SMWEB_MAIL_BACKEND", "smtp")
    MAIL_OUTBOX = os.environ.get("SMWEB_MAIL_OUTBOX", str(INSTANCE_PATH / "outbox"))
    MAIL_FROM = os.environ.get("SMWEB_MAIL_FROM", "secure-messaging@localhost")
    SMTP_HOST = os.environ.get("SMWEB_SMTP_HOST", "localhost")
    SMTP_PORT = int(os.environ.get("SMWEB_SMTP_PORT", "25"))
    SMTP_USERNAME = os.environ.get("SMWEB_SMTP_USERNAME", "")
    SMTP_PASSWORD = os.environ.get("SMWEB_SMTP_PASSWORD", "")
    SMTP_STARTTLS = _bool("SMWEB_SMTP_STARTTLS", False)
    SMTP_TIMEOUT_SECONDS = float(os.environ.get("SMWEB_SMTP_TIMEOUT_SECONDS", "20"))
    SITE_URL = os.environ.get("SMWEB_SITE_URL", "http://127.0.0.1:5000")
    # Background work (smweb/worker.py, Huey): "sqlite" keeps the queue in a file beside the
    # database (one server); "redis" keeps it in SMWEB_REDIS_URL (several servers);
    # "immediate" runs each task inside the request that asks for it (the test suite).
    QUEUE = os.environ.get("SMWEB_QUEUE", "sqlite")
    QUEUE_FILE = os.environ.get("SMWEB_QUEUE_FILE", str(INSTANCE_PATH / "queue.db"))
    # A worker delivering a notice holds it this long; after a crash another takes it up.
    NOTICE_LEASE_SECONDS = float(os.environ.get("SMWEB_NOTICE_LEASE_SECONDS", "120"))
    # The first retry of a notice the relay could not take; each next one waits twice as long.
    NOTICE_RETRY_SECONDS = float(os.environ.get("SMWEB_NOTICE_RETRY_SECONDS", "30"))
    # A notice the relay keeps refusing is tried again, less and less often, this long.
    NOTICE_GIVE_UP_HOURS = float(os.environ.get("SMWEB_NOTICE_GIVE_UP_HOURS", "72"))
    # Hosts whose https pages may be put into messages from the education library.
    EDUCATION_DOMAINS = frozenset(
        d.strip().lower()
        for d in os.environ.get(
            "SMWEB_EDUCATION_DOMAINS", "www.veteranshealthlibrary.va.gov,www.va.gov"
        ).split(",")
        if d.strip()
    )
    # argon2id: OWASP's floor is m=46 MiB, t=1, p=1; we spend a little more.
    ARGON2_TIME_COST = int(os.environ.get("SMWEB_ARGON2_TIME_COST", "2"))
    ARGON2_MEMORY_KIB = int(os.environ.get("SMWEB_ARGON2_MEMORY_KIB", str(64 * 1024)))
    ARGON2_PARALLELISM = 1
    TRUST_PROXY_HOPS = int(os.environ.get("SMWEB_TRUST_PROXY_HOPS", "0"))


class DevelopmentConfig(Config):
    """`make run`: plain http on 127.0.0.1, so the cookie can't demand https; mail goes to
    instance/outbox/ as files."""

    MAIL_BACKEND = os.environ.get("SMWEB_MAIL_BACKEND", "outbox")

    SESSION_COOKIE_SECURE = _bool("SMWEB_SECURE_COOKIES", False)
    SESSION_COOKIE_NAME = "__Host-smweb_session" if SESSION_COOKIE_SECURE else "smweb_session"
    PREFERRED_URL_SCHEME = "http"


class ProductionConfig(Config):
    ALLOW_DEMO_SEED = False


class TestConfig(Config):
    TESTING = True
    MAIL_BACKEND = "outbox"
    QUEUE = "immediate"
    SQLALCHEMY_DATABASE_URI = os.environ.get("SMWEB_TEST_DATABASE_URL", "sqlite://")
    SECRET_KEY = "test-secret-key"  # noqa: S105 - throw-away key for the test suite
    SESSION_COOKIE_SECURE = False
    SESSION_COOKIE_NAME = "smweb_session"
    PREFERRED_URL_SCHEME = "http"
    # Cheap hashes keep the suite fast; tests/test_auth.py checks the production parameters.
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_KIB = 1024


CONFIGS = {
    "development": DevelopmentConfig,
    "production": ProductionConfig,
    "test": TestConfig,
}


def derive(settings: dict) -> None:
    """Settings worked out from the others, once they are all read: a secret key kept in
    the instance folder, the largest request body worth reading (every attachment at its
    limit, plus the form), and the database engine's options."""
    from .services.attachments import limits

    if not settings.get("SECRET_KEY"):
        settings["SECRET_KEY"] = secret_key()
    if not settings.get("MAX_CONTENT_LENGTH"):
        settings["MAX_CONTENT_LENGTH"] = limits(settings["LARGE_ATTACHMENTS"]).request_bytes
    options = settings["SQLALCHEMY_ENGINE_OPTIONS"]
    if settings["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # A file has no server to lose the connection to: no "SELECT 1" before each request.
        settings["SQLALCHEMY_ENGINE_OPTIONS"] = {**options, "pool_pre_ping": False}
    elif settings["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        # Each query reads a page or a few rows: parallel workers would only add their start
        # and take the cores other requests need (a search under load: 25 ms instead of 1).
        settings["SQLALCHEMY_ENGINE_OPTIONS"] = {**options, "connect_args": {
            **options.get("connect_args", {}),
            "options": "-c max_parallel_workers_per_gather=0"}}


def config_from_env() -> type[Config]:
    """The config class named by SMWEB_ENV (production unless told otherwise)."""
    return CONFIGS[os.environ.get("SMWEB_ENV", "production")]


def secret_key() -> str:
    return _secret_key()
