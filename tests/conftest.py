"""Shared fixtures (flaskr shape): app, client, runner, login; seeded reference plan.

The database is a real SQLite file per test, or PostgreSQL when
``TEST_DATABASE_URL`` is set (tables are created once and truncated per test).
"""
from __future__ import annotations

import os
import re
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text

from tracker import create_app
from tracker.extensions import db

# Subprocesses started by tests (flask --app wsgi ..., gunicorn) may use the development SECRET_KEY;
# tests/test_production.py removes this to check that production refuses it.
os.environ.setdefault("TRACKER_ENV", "development")
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "").strip()
TODAY = date(2024, 7, 1)  # a fixed "today" inside the reference plan's life
PASSWORD = "demo1234"
_pg_schema_ready = False


def base_config(tmp_path: Path) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": TEST_DATABASE_URL or f"sqlite:///{tmp_path / 'test.db'}",
        "WTF_CSRF_ENABLED": False,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "UPLOAD_FOLDER": str(tmp_path / "uploads"),
        "MAIL_FILE_FOLDER": str(tmp_path / "mail"),
        "MAIL_SERVER": "",
        # The app's clock (tracker/web/request.py app_today): writes record this day; reads may replay with ?today=.
        "FIXED_TODAY": TODAY,
    }


def _prepare_schema() -> None:
    global _pg_schema_ready
    if db.engine.dialect.name == "postgresql":
        if not _pg_schema_ready:
            db.drop_all()
            with db.engine.begin() as conn:
                conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
            db.create_all()
            _pg_schema_ready = True
        names = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
        with db.engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        db.create_all()


def make_app(tmp_path: Path, monkeypatch, **overrides):
    monkeypatch.setenv("TRACKER_INSTANCE_PATH", str(tmp_path / "instance"))
    config = base_config(tmp_path)
    config.update(overrides)
    app = create_app(config)
    with app.app_context():
        _prepare_schema()
    return app


@contextmanager
def seeded_app(tmp_path: Path, monkeypatch, **overrides):
    """An app with config ``overrides`` and the reference data loaded; its connections closed afterwards."""
    from tracker.operations.seed import seed

    app = make_app(tmp_path, monkeypatch, **overrides)
    with app.app_context():
        seed()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def app(tmp_path, monkeypatch):
    app = make_app(tmp_path, monkeypatch)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def seeded(app):
    """The app with the reference units, plan and demo users loaded."""
    from tracker.operations.seed import seed

    with app.app_context():
        seed()
    return app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class Auth:
    def __init__(self, client):
        self.client = client

    def login(self, username: str = "admin", password: str = PASSWORD, follow: bool = False):
        return self.client.post("/login", data={"username": username, "password": password},
                                follow_redirects=follow)

    def logout(self):
        return self.client.post("/logout")


@pytest.fixture
def auth(client):
    return Auth(client)


def csrf_token_from(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html)
    assert match, "no csrf_token in page"
    return match.group(1)


def requires_postgres():
    return pytest.mark.skipif(not TEST_DATABASE_URL, reason="TEST_DATABASE_URL not set: PostgreSQL tests skipped")


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: takes a few seconds (real processes killed); still part of make test")
