"""Configuration classes; the only module that reads os.environ."""
import os
import secrets
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
INSTANCE_DIR = Path(os.environ.get("GONGYI_INSTANCE", BASE_DIR / "instance"))


def _instance_secret_key() -> str:
    """A per-instance key kept in instance/secret_key, made on first use, so sessions
    survive a restart without anyone having to set SECRET_KEY for local use."""
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    path = INSTANCE_DIR / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text().strip()


def _normalise_db_url(url: str) -> str:
    # "postgresql://" means psycopg2 to SQLAlchemy; we ship psycopg 3.
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY") or None  # filled in by create_app
    SQLALCHEMY_DATABASE_URI = _normalise_db_url(
        os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'gongyi.sqlite3'}")
    )
    # No pre-ping: it costs a round trip on every checkout. A connection the server cut
    # fails its first statement instead; SQLAlchemy then discards every pooled connection
    # older than the cut, so only that one request meets it (and a read page may be
    # retried once). pool_recycle retires connections before a firewall or idle timeout
    # silently drops them.
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": False, "pool_recycle": 1800}
    SQLITE_BUSY_TIMEOUT_MS = 15000
    # How long the WAL checkpoint after a secret poll's close waits for readers.
    SQLITE_CHECKPOINT_TIMEOUT_MS = 5000
    # `flask backup` on PostgreSQL runs this pg_dump (its major version must be at least
    # the server's); found on PATH, else in /usr/lib/postgresql/<version>/bin.
    PG_DUMP = os.environ.get("GONGYI_PG_DUMP", "pg_dump")
    BACKUP_DIR = os.environ.get("GONGYI_BACKUP_DIR", str(INSTANCE_DIR / "backups"))

    # Sessions and cookies
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = os.environ.get("HTTPS", "") == "1"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    REMEMBER_COOKIE_DURATION = timedelta(days=30)
    PERMANENT_SESSION_LIFETIME = timedelta(days=30)
    PREFERRED_URL_SCHEME = "https" if SESSION_COOKIE_SECURE else "http"

    # CSRF: the token lives as long as the session, so an elderly voter who reads a
    # long proposal for an hour can still press the button.
    WTF_CSRF_TIME_LIMIT = None
    WTF_CSRF_HEADERS = ["X-CSRFToken"]

    # Babel: zh-Hans by default; every area keeps its own catalogue.
    BABEL_DEFAULT_LOCALE = "zh_Hans"
    # One zone for every time shown (pages, forms, PDF, text messages, CSV, JSON offsets).
    GONGYI_TIMEZONE = os.environ.get("GONGYI_TIMEZONE", "Asia/Shanghai")
    # Browser tests only: lets the test move the live server's clock (never with HTTPS).
    E2E_CLOCK = os.environ.get("GONGYI_E2E_CLOCK") == "1"
    BABEL_DEFAULT_TIMEZONE = GONGYI_TIMEZONE
    LANGUAGES = ("zh_Hans", "en")

    REDIS_URL = os.environ.get("REDIS_URL")
    # Sign-in limits (app.accounts.throttle): counted in Redis when REDIS_URL is set,
    # else in the database, so every gunicorn worker and machine sees one count. Wrong
    # passwords and codes count per account and per address (only failures); code
    # requests count per account and per address (each sends a text message).
    THROTTLE_REDIS_URL = REDIS_URL
    LOGIN_LIMIT_PER_ACCOUNT = os.environ.get("LOGIN_LIMIT_PER_ACCOUNT", "5 per 15 minutes")
    LOGIN_LIMIT_PER_ADDRESS = os.environ.get("LOGIN_LIMIT_PER_ADDRESS", "30 per 15 minutes")
    CODE_LIMIT_PER_ACCOUNT = os.environ.get("CODE_LIMIT_PER_ACCOUNT", "3 per hour")
    CODE_LIMIT_PER_ADDRESS = os.environ.get("CODE_LIMIT_PER_ADDRESS", "300 per 15 minutes")

    # A secret poll's key (docs/voting-security.md): in Redis when REDIS_URL is set
    # (several machines), else in a 0600 file of the instance folder. Never in the database.
    POLL_KEY_REDIS_URL = REDIS_URL
    POLL_KEY_DIR = os.environ.get("POLL_KEY_DIR", str(INSTANCE_DIR / "poll-keys"))

    # One-time codes go through a message backend: "log" (default) or a dotted path
    # to a class with send(phone, text).
    MESSAGE_BACKEND = os.environ.get("MESSAGE_BACKEND", "log")
    ONE_TIME_CODE_MINUTES = 15

    # The job queue (huey): Redis at REDIS_URL, else instance/jobs.sqlite3; tests run jobs at once.
    JOBS_IMMEDIATE = os.environ.get("JOBS_IMMEDIATE", "") == "1"
    # A people import: at most this many bytes, staged this many rows per short transaction.
    IMPORT_MAX_BYTES = 25 * 1024 * 1024
    IMPORT_BATCH_ROWS = 250

    MAX_CONTENT_LENGTH = 32 * 1024 * 1024  # a report's photos (each ≤ 5 MB, checked one by one)
    UPLOAD_DIR = os.environ.get("UPLOAD_DIR", str(INSTANCE_DIR / "uploads"))
    # The Ed25519 key that signs the audit chain's checkpoints: in production the
    # environment holds it (64 hex digits, the private key's raw 32 bytes); otherwise
    # a file in the instance folder, made on first use (mode 0600).
    AUDIT_SIGNING_KEY = os.environ.get("GONGYI_AUDIT_SIGNING_KEY") or None
    AUDIT_SIGNING_KEY_FILE = os.environ.get("GONGYI_AUDIT_SIGNING_KEY_FILE",
                                            str(INSTANCE_DIR / "audit_signing_key.pem"))
    SEND_FILE_MAX_AGE_DEFAULT = timedelta(days=365)  # static URLs are fingerprinted
    COMPRESS_MIMETYPES = ["text/html", "text/css", "application/javascript", "text/javascript",
                          "application/json", "image/svg+xml", "text/csv"]
    COMPRESS_ALGORITHM = ["br", "gzip"]
    COMPRESS_MIN_SIZE = 500


class DevConfig(Config):
    pass


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret-key"
    SQLALCHEMY_DATABASE_URI = _normalise_db_url(
        os.environ.get("TEST_DATABASE_URL", "sqlite:///:memory:")
    )
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    WTF_CSRF_ENABLED = True
    THROTTLE_REDIS_URL = os.environ.get("THROTTLE_REDIS_TEST_URL")
    POLL_KEY_REDIS_URL = os.environ.get("POLL_KEY_REDIS_TEST_URL")
    SQLITE_CHECKPOINT_TIMEOUT_MS = 0  # the suite's outer transaction would hold it for nothing
    MESSAGE_BACKEND = "memory"
    ARGON2_FAST = True  # cheap hashing parameters keep the suite fast
    JOBS_IMMEDIATE = True
