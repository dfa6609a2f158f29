"""Action Plan Tracker (行动计划督办台账): the application factory.

``create_app`` has no side effects beyond building the app: it starts no
scheduler and creates no tables (``flask --app wsgi init-db`` does that). The
listeners it installs (SQLite pragmas on its own engines, the data revision's
session events) are installed here, explicitly, not by importing a module.
"""
from __future__ import annotations

import os
from pathlib import Path

from flask import Flask
from sqlalchemy import event

from .config import Config
from .extensions import csrf, db, login_manager, migrate

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: object | dict | None = None) -> Flask:
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=os.environ.get("TRACKER_INSTANCE_PATH") or str(ROOT / "instance"),
        instance_relative_config=True,
    )
    app.config.from_object(Config)
    if isinstance(config, dict):
        app.config.update(config)
    elif config is not None:
        app.config.from_object(config)
    check_secret_key(app)
    from .reporting.evidence_store import check_setting

    check_setting(app.config)  # TRACKER_EVIDENCE_STORE: files | database
    from .files import private_dir

    private_dir(app.instance_path)  # 0700: the database, evidence and mail are the service user's only
    app.json.ensure_ascii = False  # Chinese text as is in JSON answers
    configure_database(app)
    configure_paths(app)

    register_extensions(app)
    register_converters(app)
    register_blueprints(app)
    register_input_guard(app)
    register_errorhandlers(app)
    register_template_helpers(app)
    register_security_headers(app)
    register_conditional_pages(app)
    register_commands(app)
    configure_proxy(app)
    return app


def check_secret_key(app: Flask) -> None:
    """Refuse to run a real deployment with a weak SECRET_KEY (SPEC 6.7).

    Weak: missing, the development key, a shipped placeholder (``change-me``) or shorter than
    32 characters. Allowed only in debug or testing mode, or with ``TRACKER_ENV=development``
    (``make run`` sets it and writes it to ``.flaskenv`` for later ``flask`` commands).
    Raises ``ConfigError`` with one line saying how to make a key.
    """
    from .config import MAKE_KEY, ConfigError, weak_secret_key

    development = (
        app.debug or app.testing
        or os.environ.get("TRACKER_ENV", "").strip().lower() == "development"
    )
    reason = None if development else weak_secret_key(app.config.get("SECRET_KEY"))
    if reason:
        raise ConfigError(
            f"{reason}，生产环境拒绝启动：用 {MAKE_KEY} 生成一个，写入 /etc/tracker/tracker.env 的 SECRET_KEY="
            f"（本地开发请设置 TRACKER_ENV=development，或先运行 make run）"
        )


def configure_proxy(app: Flask) -> None:
    """Behind a reverse proxy, trust its X-Forwarded-* headers (so login throttling sees real addresses).

    ``TRACKER_PROXY_FIX_X_FOR=N`` (config ``PROXY_FIX_X_FOR``) or ``TRACKER_PROXY_FIX=1`` with
    ``TRACKER_PROXY_HOPS`` (default 1); off by default, so a forged header is ignored.
    """
    from .config import _bool, _int

    hops = int(app.config.get("PROXY_FIX_X_FOR") or 0)
    if not hops and app.config.get("PROXY_FIX", _bool("TRACKER_PROXY_FIX")):
        hops = _int("TRACKER_PROXY_HOPS", 1)
    if hops > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops,
                                x_prefix=hops)


def configure_database(app: Flask) -> None:
    """``DATABASE_URL`` (or SQLALCHEMY_DATABASE_URI); relative SQLite paths go to instance/."""
    uri = app.config.get("SQLALCHEMY_DATABASE_URI") or app.config["DATABASE_URL"]
    if uri.startswith("postgres://"):
        uri = "postgresql+psycopg://" + uri[len("postgres://"):]
    elif uri.startswith("postgresql://"):
        uri = "postgresql+psycopg://" + uri[len("postgresql://"):]
    if uri.startswith("sqlite:///") and not uri.startswith("sqlite:////") and ":memory:" not in uri:
        uri = "sqlite:///" + str(Path(app.instance_path) / uri[len("sqlite:///"):])
    app.config["SQLALCHEMY_DATABASE_URI"] = uri
    if uri.startswith("postgresql"):
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        options.setdefault("connect_args", {"connect_timeout": int(app.config.get("DB_CONNECT_TIMEOUT") or 10)})
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    if uri.startswith("sqlite"):
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        options.setdefault("connect_args", {"timeout": 30})
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def configure_paths(app: Flask) -> None:
    upload = Path(app.config["UPLOAD_FOLDER"])
    if not upload.is_absolute():
        upload = Path(app.instance_path) / upload
    app.config["UPLOAD_FOLDER"] = str(upload)
    mail_dir = Path(app.config.get("MAIL_FILE_FOLDER") or "outbox-mail")
    if not mail_dir.is_absolute():
        mail_dir = Path(app.instance_path) / mail_dir
    app.config["MAIL_FILE_FOLDER"] = str(mail_dir)


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    from .cache import revision

    revision.install()  # session events that bump the data revision (the read cache's key)
    with app.app_context():
        for engine in db.engines.values():
            if engine.dialect.name == "sqlite":
                event.listen(engine, "connect", _sqlite_pragmas)
    from .reporting import evidence_store  # noqa: F401  (the evidence_blobs table)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    login_manager.init_app(app)



def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """Foreign keys, WAL and a busy timeout on every SQLite connection."""
    import sqlite3

    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()


def register_converters(app: Flask) -> None:
    """``<int:…>`` in every route is the strict id converter: ASCII digits within 32 bits, else 404."""
    from .validation import StrictIntConverter

    app.url_map.converters["int"] = StrictIntConverter


def register_input_guard(app: Flask) -> None:
    """The text rule and ``?today=`` check for every request, after the login check (tracker/web/request.py)."""
    from .web.request import guard_input

    app.before_request(guard_input)


def register_blueprints(app: Flask) -> None:
    """One blueprint per capability; the API is CSRF-exempt (it checks CSRF itself for sessions)."""
    from .accounts import group_views  # noqa: F401  (the unit-group pages, on the admin blueprint)
    from .accounts.account_views import bp as account_bp
    from .accounts.admin_views import bp as admin_bp
    from .accounts.auth_views import bp as auth_bp
    from .api import bp as api_bp
    from .documents import bp as documents_bp
    from .notify.outbox_views import bp as outbox_bp
    from .notify.robot_views import bp as robots_bp
    from .plans.import_views import bp as imports_bp
    from .plans.ledger_views import bp as ledger_bp
    from .plans.search_views import bp as listing_bp
    from .reporting.extension_views import bp as extensions_bp
    from .reporting.review_views import bp as review_bp
    from .reporting.task_views import bp as tasks_bp
    from .supervision.dashboard_views import bp as dashboard_bp
    from .supervision.views import bp as bureau_bp

    for bp in (auth_bp, listing_bp, dashboard_bp, ledger_bp, tasks_bp, review_bp, extensions_bp, bureau_bp, outbox_bp,
               imports_bp, admin_bp, account_bp, robots_bp, documents_bp):
        app.register_blueprint(bp)
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    csrf.exempt(api_bp)


def register_errorhandlers(app: Flask) -> None:
    from .web.errors import register

    register(app)


def register_template_helpers(app: Flask) -> None:
    from .web.templating import register

    register(app)


def register_security_headers(app: Flask) -> None:
    @app.after_request
    def _headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            "script-src 'self'; frame-ancestors 'none'; form-action 'self'; object-src 'none'; base-uri 'self'",
        )
        return response


def register_conditional_pages(app: Flask) -> None:
    """ETags name the header's to-do badge too (web/conditional.py); gzip for text answers (GZIP_RESPONSES)."""
    from .supervision.dashboard_views import todo_badge
    from .web import conditional

    conditional.init_app(app, header=todo_badge)


def register_commands(app: Flask) -> None:
    from .cli import register

    register(app)
