"""Configuration read from the environment.

Relative SQLite paths land in the instance folder (see ``create_app``).
"""
from __future__ import annotations

import os

DEV_SECRET_KEY = "dev-only-insecure-secret-key"
# Keys that must never run a real deployment: the development key and the shipped placeholders.
PLACEHOLDER_KEYS = frozenset({DEV_SECRET_KEY, "change-me", "changeme", "secret", "dev"})
MIN_SECRET_KEY_LENGTH = 32
MAKE_KEY = "python3 -c 'import secrets; print(secrets.token_hex(32))'"


class ConfigError(RuntimeError):
    """A setting that must be fixed before the app may start (one line for the operator)."""


def weak_secret_key(key: str | None) -> str | None:
    """Why ``key`` is too weak for production, or None when it is acceptable."""
    if not key:
        return "SECRET_KEY 未设置"
    if key in PLACEHOLDER_KEYS or "change-me" in key.lower() or "changeme" in key.lower():
        return "SECRET_KEY 是开发用密钥或示例中的占位符"
    if len(key) < MIN_SECRET_KEY_LENGTH:
        return f"SECRET_KEY 太短（{len(key)} 个字符，至少 {MIN_SECRET_KEY_LENGTH} 个）"
    return None


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", DEV_SECRET_KEY)
    # ``DATABASE_URL`` wins; otherwise an embedded SQLite file in instance/.
    DATABASE_URL = os.environ.get("DATABASE_URL", "sqlite:///tracker.db")
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}

    TIMEZONE = os.environ.get("TRACKER_TIMEZONE", "Asia/Shanghai")
    # Warning-light rules (SPEC 2.2, 2.3)
    WARNING_DAYS = _int("TRACKER_WARNING_DAYS", 15)
    REPORT_REMINDER_DAY = _int("TRACKER_REPORT_REMINDER_DAY", 20)
    REPORT_DUE_DAY = _int("TRACKER_REPORT_DUE_DAY", 25)

    # Uploads (evidence files) live outside static/.
    UPLOAD_FOLDER = os.environ.get("TRACKER_UPLOAD_FOLDER", "uploads")
    # Where new evidence files go (tracker/reporting/evidence_store.py): "files" (UPLOAD_FOLDER, no set-up)
    # or "database" (the evidence_blobs table, in the report's transaction; for several hosts).
    EVIDENCE_STORE = os.environ.get("TRACKER_EVIDENCE_STORE", "files").strip().lower() or "files"
    MAX_UPLOAD_BYTES = _int("TRACKER_MAX_UPLOAD_BYTES", 20 * 1024 * 1024)
    MAX_CONTENT_LENGTH = _int("TRACKER_MAX_CONTENT_LENGTH", 60 * 1024 * 1024)
    # Text fields of a form in memory (Werkzeug's default is 500 KB): large enough that an
    # over-long narrative reaches the validation and gets a field error instead of a 413.
    MAX_FORM_MEMORY_SIZE = _int("TRACKER_MAX_FORM_MEMORY_SIZE", 4 * 1024 * 1024)
    # Plan import (.xlsx ledger) upload limit.
    IMPORT_MAX_BYTES = _int("TRACKER_IMPORT_MAX_BYTES", 10 * 1024 * 1024)

    # Mail (SPEC 2.4). No MAIL_SERVER: .eml files in instance/outbox-mail.
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "")
    MAIL_PORT = _int("MAIL_PORT", 25)
    MAIL_USE_TLS = _bool("MAIL_USE_TLS")
    MAIL_USE_SSL = _bool("MAIL_USE_SSL")
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME", "")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD", "")
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "督办台账 <tracker@localhost>")
    MAIL_TIMEOUT = _int("MAIL_TIMEOUT", 10)
    BUREAU_EMAILS = os.environ.get("TRACKER_BUREAU_EMAILS", "")
    BASE_URL = os.environ.get("TRACKER_BASE_URL", "http://127.0.0.1:5000")
    MAIL_FILE_FOLDER = os.environ.get("MAIL_FILE_FOLDER", "outbox-mail")
    MAIL_MAX_ATTEMPTS = _int("MAIL_MAX_ATTEMPTS", 5)
    MAIL_RETRY_SECONDS = _int("MAIL_RETRY_SECONDS", 300)  # first retry; doubles each attempt
    MAIL_LEASE_SECONDS = _int("MAIL_LEASE_SECONDS", 600)  # a 'sending' claim older than this is retried
    MAIL_BATCH_SIZE = _int("MAIL_BATCH_SIZE", 200)

    # Group-robot webhooks (SPEC 6.3): only https to the vendors' hosts, plus these hosts (http too).
    WEBHOOK_ALLOW_HOSTS = os.environ.get("WEBHOOK_ALLOW_HOSTS", "")
    WEBHOOK_TIMEOUT = _int("WEBHOOK_TIMEOUT", 10)

    # Reminders (SPEC 2.4) and the scheduler process.
    DUE_SOON_DAYS = os.environ.get("TRACKER_DUE_SOON_DAYS", "15,7,1")
    OVERDUE_REPEAT_DAYS = _int("TRACKER_OVERDUE_REPEAT_DAYS", 7)
    ESCALATION_DAYS = _int("TRACKER_ESCALATION_DAYS", 30)
    REMIND_CO_UNITS = _bool("TRACKER_REMIND_CO_UNITS")  # report reminders to co-operating units too
    WORKDAYS_ONLY = _bool("TRACKER_WORKDAYS_ONLY")
    # Event notices (SPEC 6.2): new claims and extension requests to the supervisors (off: units only).
    NOTIFY_SUPERVISORS_ON_EVENTS = _bool("TRACKER_NOTIFY_SUPERVISORS_ON_EVENTS", True)
    SCHEDULER_TIME = os.environ.get("TRACKER_SCHEDULER_TIME", "08:30")
    SCHEDULER_CATCHUP_DAYS = _int("TRACKER_SCHEDULER_CATCHUP_DAYS", 31)
    SCHEDULER_DELIVERY_MINUTES = _int("TRACKER_SCHEDULER_DELIVERY_MINUTES", 5)
    # Heartbeat failures in a row (one a minute) before the scheduler exits so systemd restarts it.
    SCHEDULER_MAX_FAILURES = _int("TRACKER_SCHEDULER_MAX_FAILURES", 5)
    # `flask --app wsgi health`: the scheduler's last heartbeat may be at most this old (seconds).
    HEALTH_MAX_AGE = _int("TRACKER_HEALTH_MAX_AGE", 180)
    # Seconds to wait for a PostgreSQL connection (a wrong host fails fast instead of hanging).
    DB_CONNECT_TIMEOUT = _int("TRACKER_DB_CONNECT_TIMEOUT", 10)

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE")
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None
    # Number of reverse proxies in front of the app whose X-Forwarded-* headers are trusted (0: none).
    # The older spelling TRACKER_PROXY_FIX=1 (+ TRACKER_PROXY_HOPS) is still read.
    PROXY_FIX_X_FOR = _int("TRACKER_PROXY_FIX_X_FOR", 0)
    # Feishu robots accept about 5 messages a second: seconds between two posts to one robot.
    WEBHOOK_FEISHU_INTERVAL = 0.25
    # The issuer printed on the bureau's documents (工作通报, annual report draft).
    DOCUMENT_ISSUER = "区司法局"
    # Check that read-cache values are immutable when stored (None: on in testing and debug mode).
    READ_CACHE_CHECK_IMMUTABLE = None
    # gzip text answers of 1 KB or more (web/conditional.py); 0 when the reverse proxy compresses instead.
    GZIP_RESPONSES = _bool("TRACKER_GZIP_RESPONSES", True)


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret-key"
    WTF_CSRF_ENABLED = False
