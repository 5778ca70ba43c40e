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
    BABEL_DEFAULT_TIMEZONE = os.environ.get("GONGYI_TIMEZONE", "Asia/Shanghai")
    LANGUAGES = ("zh_Hans", "en")

    # Rate limits: in memory for one process, Redis when several share counters.
    REDIS_URL = os.environ.get("REDIS_URL")
    RATELIMIT_STORAGE_URI = REDIS_URL or "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_LIMIT_PER_ACCOUNT = os.environ.get("LOGIN_LIMIT_PER_ACCOUNT", "5 per 15 minutes")
    LOGIN_LIMIT_PER_ADDRESS = os.environ.get("LOGIN_LIMIT_PER_ADDRESS", "30 per 15 minutes")
    CODE_LIMIT_PER_ACCOUNT = os.environ.get("CODE_LIMIT_PER_ACCOUNT", "3 per hour")

    # One-time codes go through a message backend: "log" (default) or a dotted path
    # to a class with send(phone, text).
    MESSAGE_BACKEND = os.environ.get("MESSAGE_BACKEND", "log")
    ONE_TIME_CODE_MINUTES = 15

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
    RATELIMIT_STORAGE_URI = "memory://"
    MESSAGE_BACKEND = "memory"
    ARGON2_FAST = True  # cheap hashing parameters keep the suite fast
