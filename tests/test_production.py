"""Production setup: SECRET_KEY guard, ProxyFix, real gunicorn (backups: tests/test_backup_restore.py)."""
from __future__ import annotations

import http.cookiejar
import json
import os
import re
import subprocess
import sys
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

from .conftest import base_config
from .servers import gunicorn_env, start_gunicorn, stop


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
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert result.stderr.startswith("错误：SECRET_KEY") and "Traceback" not in result.stderr


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


# --- real gunicorn --------------------------------------------------------------------------------

def test_gunicorn_serves_login_api_and_session_pages(seeded, tmp_path):
    from tracker.accounts.users import create_token, get_user_by_name

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
