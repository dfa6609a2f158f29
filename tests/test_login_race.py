"""The login throttle holds under parallel attempts (issue 9, point 6).

Real parallelism: a gunicorn with 4 workers × 2 threads on the test database
(SQLite file, or PostgreSQL with TEST_DATABASE_URL), and 60 / 100 client threads
released together by a barrier. A password check happens only for an attempt
the throttle let through (answered 200 "用户名或密码错误"; a refused one is 429);
the attempt rows and audit entries must agree, and never exceed the limit.
"""
from __future__ import annotations

import http.cookiejar
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select, update
from werkzeug.security import generate_password_hash

from tracker.accounts.login import IP_MAX_FAILURES, PAIR_FREE_FAILURES
from tracker.extensions import db
from tracker.models import AuditLog, LoginAttempt, User

from .servers import gunicorn_env, start_gunicorn, stop
from .test_faults import database_url

pytestmark = pytest.mark.slow
THROTTLED = "尝试过多，已暂时阻止"


def login_form(base: str) -> tuple[str, str]:
    """(session cookie header, csrf token) of one anonymous visit to /login (CSRF is on in gunicorn)."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    html = opener.open(base + "/login", timeout=30).read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    return "; ".join(f"{c.name}={c.value}" for c in jar), token


def parallel_logins(base: str, usernames: list[str]) -> list[int]:
    """POST /login once per username, all threads released together; the status codes."""
    cookie, token = login_form(base)
    barrier = threading.Barrier(len(usernames))

    def attempt(username: str) -> int:
        body = urllib.parse.urlencode({"username": username, "password": "wrong-guess", "csrf_token": token})
        req = urllib.request.Request(base + "/login", data=body.encode(), method="POST",
                                     headers={"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
        barrier.wait(timeout=60)
        try:
            with urllib.request.urlopen(req, timeout=120) as resp:
                return resp.status
        except urllib.error.HTTPError as exc:
            return exc.code

    with ThreadPoolExecutor(max_workers=len(usernames)) as pool:
        return list(pool.map(attempt, usernames))


def counts(app) -> tuple[int, int, int]:
    """(attempt rows, audited password checks, audited refusals)."""
    with app.app_context():
        rows = db.session.execute(select(func.count(LoginAttempt.id))).scalar_one()
        checked = db.session.execute(select(func.count(AuditLog.id)).where(
            AuditLog.action == "login_failed", AuditLog.detail != THROTTLED)).scalar_one()
        refused = db.session.execute(select(func.count(AuditLog.id)).where(
            AuditLog.action == "login_failed", AuditLog.detail == THROTTLED)).scalar_one()
        db.session.remove()
        db.engine.dispose()
    return rows, checked, refused


@pytest.fixture
def server(seeded, tmp_path):
    with seeded.app_context():  # a realistic (slow) password hash, so the checks overlap in time
        db.session.execute(update(User).where(User.username == "jtj")
                           .values(password_hash=generate_password_hash("demo1234", "pbkdf2:sha256:100000")))
        db.session.commit()
    proc, base = start_gunicorn(gunicorn_env(database_url(seeded), tmp_path, GUNICORN_THREADS=2), workers=4)
    try:
        yield base
    finally:
        stop(proc)


def test_parallel_wrong_passwords_for_one_account_are_checked_at_most_the_limit(seeded, server):
    statuses = parallel_logins(server, ["jtj"] * 60)
    rows, checked, refused = counts(seeded)
    print(f"\n60 parallel guesses of one account: {statuses.count(200)} checked, {statuses.count(429)} refused "
          f"(limit {PAIR_FREE_FAILURES})")
    assert sorted(set(statuses)) == [200, 429], statuses
    assert statuses.count(200) == checked == rows == PAIR_FREE_FAILURES
    assert statuses.count(429) == refused == 60 - PAIR_FREE_FAILURES


def test_parallel_guesses_from_one_address_are_checked_at_most_the_limit(seeded, server):
    statuses = parallel_logins(server, [f"guess{i:03d}" for i in range(100)])  # 100 accounts, one address
    rows, checked, refused = counts(seeded)
    print(f"\n100 parallel guesses from one address: {statuses.count(200)} checked, {statuses.count(429)} refused "
          f"(limit {IP_MAX_FAILURES})")
    assert sorted(set(statuses)) == [200, 429], statuses
    assert statuses.count(200) == checked == rows == IP_MAX_FAILURES
    assert statuses.count(429) == refused == 100 - IP_MAX_FAILURES
