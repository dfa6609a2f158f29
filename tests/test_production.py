"""Production setup: SECRET_KEY guard, ProxyFix, online backup, real gunicorn."""
from __future__ import annotations

import http.cookiejar
import json
import os
import re
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import select

from tracker import ROOT, create_app
from tracker.config import DEV_SECRET_KEY
from tracker.extensions import db
from tracker.models import LoginAttempt

from .conftest import TEST_DATABASE_URL, base_config
from .servers import gunicorn_env, start_gunicorn, stop

sqlite_only = pytest.mark.skipif(bool(TEST_DATABASE_URL), reason="SQLite backup test (this pass uses PostgreSQL)")


def production_config(tmp_path: Path, **overrides) -> dict:
    tmp_path.mkdir(parents=True, exist_ok=True)
    config = base_config(tmp_path)
    config.update(TESTING=False, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'p.db'}")
    config.update(overrides)
    return config


@pytest.fixture
def prod_env(monkeypatch, tmp_path):
    for name in ("FLASK_DEBUG", "TRACKER_ENV", "TRACKER_PROXY_FIX"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TRACKER_INSTANCE_PATH", str(tmp_path / "instance"))
    return monkeypatch


@pytest.mark.parametrize("key", [DEV_SECRET_KEY, ""])
def test_development_secret_key_is_refused_in_production(prod_env, tmp_path, key):
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(production_config(tmp_path, SECRET_KEY=key))


def test_wsgi_module_refuses_to_start_without_secret_key(prod_env, tmp_path):
    env = {k: v for k, v in os.environ.items()
           if k not in ("SECRET_KEY", "FLASK_DEBUG", "TRACKER_ENV")}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'w.db'}"
    result = subprocess.run([sys.executable, "-c", "import wsgi"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    assert "RuntimeError: SECRET_KEY is not set" in result.stderr


@pytest.mark.parametrize("env_name, value", [("TRACKER_ENV", "development"), ("FLASK_DEBUG", "1")])
def test_development_secret_key_allowed_for_local_use(prod_env, tmp_path, env_name, value):
    prod_env.setenv(env_name, value)
    app = create_app(production_config(tmp_path, SECRET_KEY=DEV_SECRET_KEY))
    assert app.config["SECRET_KEY"] == DEV_SECRET_KEY


def test_testing_mode_and_real_key_start(prod_env, tmp_path):
    create_app(production_config(tmp_path, SECRET_KEY=DEV_SECRET_KEY, TESTING=True))
    create_app(production_config(tmp_path, SECRET_KEY="a-real-production-secret-0123456789"))


def test_proxy_fix_honours_forwarded_for_when_enabled(prod_env, tmp_path):
    def failed_login_ip(app) -> str:
        with app.app_context():
            db.create_all()
        app.test_client().post("/login", data={"username": "nobody", "password": "x"},
                               headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"},
                               environ_base={"REMOTE_ADDR": "127.0.0.1"})
        with app.app_context():
            ip = db.session.scalar(select(LoginAttempt.ip))
            db.engine.dispose()
        return ip

    plain = create_app(production_config(tmp_path / "a", SECRET_KEY="k" * 32, WTF_CSRF_ENABLED=False))
    assert failed_login_ip(plain) == "127.0.0.1"
    prod_env.setenv("TRACKER_PROXY_FIX", "1")
    proxied = create_app(production_config(tmp_path / "b", SECRET_KEY="k" * 32, WTF_CSRF_ENABLED=False))
    assert failed_login_ip(proxied) == "203.0.113.9"


# --- backup -------------------------------------------------------------------------------------

STABLE_TABLES = ("plans", "units", "tasks", "task_units", "users")


def table_counts(path: Path, tables=STABLE_TABLES + ("audit_log",)) -> dict[str, int]:
    conn = sqlite3.connect(path)
    try:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}
    finally:
        conn.close()


@sqlite_only
def test_backup_is_consistent_while_another_connection_writes(seeded, runner, tmp_path):
    with seeded.app_context():
        source = Path(db.engine.url.database)
        db.engine.dispose()
    before = table_counts(source)
    assert before["tasks"] == 175

    stop = threading.Event()
    written = []

    def writer():
        conn = sqlite3.connect(source, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        i = 0
        while not stop.is_set():
            # Two statements in one transaction: a consistent copy has both rows or neither.
            with conn:
                conn.execute("INSERT INTO audit_log (action, target_type, target_id, detail, created_at, username, ip) "
                             "VALUES ('bench', 'x', ?, 'a', '2024-07-01 00:00:00', '', '')", (i,))
                conn.execute("INSERT INTO audit_log (action, target_type, target_id, detail, created_at, username, ip) "
                             "VALUES ('bench', 'x', ?, 'b', '2024-07-01 00:00:00', '', '')", (i,))
            written.append(i)
            i += 1
        conn.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while len(written) < 20:
            time.sleep(0.005)
        dest = tmp_path / "copy.db"
        result = runner.invoke(args=["backup", str(dest)])
    finally:
        stop.set()
        thread.join()
    assert result.exit_code == 0, result.output
    assert "已备份到" in result.output

    copy = table_counts(dest)
    after = table_counts(source)
    for table in STABLE_TABLES:
        assert copy[table] == before[table] == after[table], table
    assert before["audit_log"] < copy["audit_log"] <= after["audit_log"]
    conn = sqlite3.connect(dest)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        half = conn.execute("SELECT target_id FROM audit_log WHERE action = 'bench' "
                            "GROUP BY target_id HAVING count(*) != 2").fetchall()
        assert half == []
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    finally:
        conn.close()
    assert not (tmp_path / "copy.db-wal").exists()


@sqlite_only
def test_backup_refuses_to_overwrite_and_accepts_a_directory(seeded, runner, tmp_path):
    dest = tmp_path / "existing.db"
    dest.write_bytes(b"keep me")
    result = runner.invoke(args=["backup", str(dest)])
    assert result.exit_code != 0
    assert "目标文件已存在" in result.output
    assert dest.read_bytes() == b"keep me"

    folder = tmp_path / "backups"
    folder.mkdir()
    result = runner.invoke(args=["backup", str(folder)])
    assert result.exit_code == 0, result.output
    (made,) = folder.glob("tracker-*.db")
    assert table_counts(made, ("tasks",)) == {"tasks": 175}
    assert list(folder.glob("*.part")) == []

    result = runner.invoke(args=["backup", str(tmp_path / "missing" / "x.db")])
    assert result.exit_code != 0 and "目标目录不存在" in result.output


def test_backup_on_postgresql_points_to_pg_dump(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACKER_INSTANCE_PATH", str(tmp_path / "instance"))
    url = TEST_DATABASE_URL or "postgresql+psycopg://tracker:secret@db.example:5432/tracker"
    app = create_app({**base_config(tmp_path), "SQLALCHEMY_DATABASE_URI": url})
    result = app.test_cli_runner().invoke(args=["backup", str(tmp_path / "x.dump")])
    assert result.exit_code != 0
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("错误：PostgreSQL 数据库请用 pg_dump 备份")
    assert "pg_dump --format=custom" in lines[0] and "postgresql://" in lines[0]
    assert "secret" not in lines[0] and "+psycopg" not in lines[0]
    assert not (tmp_path / "x.dump").exists()


# --- real gunicorn --------------------------------------------------------------------------------

def test_gunicorn_serves_login_api_and_session_pages(seeded, tmp_path):
    from tracker.services.users import create_token, get_user_by_name

    with seeded.app_context():
        url = db.engine.url.render_as_string(hide_password=False)
        token = create_token(get_user_by_name("jtj"))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()

    proc, base = start_gunicorn(gunicorn_env(url, tmp_path), workers=2)
    try:
        with urllib.request.urlopen(base + "/login", timeout=30) as resp:
            page = resp.read().decode()
        assert resp.status == 200 and "登录" in page
        assert resp.headers["X-Frame-Options"] == "DENY"

        req = urllib.request.Request(base + "/api/v1/tasks?today=2024-07-01",
                                     headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            tasks = json.loads(resp.read())
        assert resp.status == 200 and tasks
        assert any(t["level"] == 3 and "区交通局" in t["lead_units"] + t["co_units"] for t in tasks)

        bad = urllib.request.Request(base + "/api/v1/tasks", headers={"Authorization": "Bearer nope"})
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(bad, timeout=30)
        assert err.value.code == 401

        # A browser session (CSRF on) survives across the two workers.
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        login_page = opener.open(base + "/login", timeout=30).read().decode()
        csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', login_page).group(1)
        form = urllib.parse.urlencode({"username": "dubanke", "password": "demo1234", "csrf_token": csrf})
        opener.open(base + "/login", data=form.encode(), timeout=30).close()
        for _ in range(4):
            with opener.open(base + "/ledger", timeout=30) as resp:
                html = resp.read().decode()
            assert resp.status == 200 and resp.url.endswith("/ledger")
            assert html.count('class="col-light"><span') + html.count("light-row-") >= 92
    finally:
        log = stop(proc)
    assert "Traceback" not in log, log
