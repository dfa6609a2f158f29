"""Login throttling per (account, address), per address and per account; no lock-out of everyone;
unknown usernames; equal work for unknown users; cookie flags and security headers (CSP)."""
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from tests.conftest import PASSWORD
from tracker.accounts import login as auth_service
from tracker.accounts.login import LoginThrottled, authenticate, pair_delay
from tracker.extensions import db
from tracker.models import AuditLog, LoginAttempt, User, utcnow

ATTACKER = "203.0.113.66"
OWNER = "198.51.100.7"


def post_login(client, username, password=PASSWORD, ip=ATTACKER):
    return client.post("/login", data={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": ip})


def age_attempts(app, delta):
    """Move every recorded failure ``delta`` into the past (instead of sleeping)."""
    with app.app_context():
        db.session.execute(update(LoginAttempt).values(created_at=LoginAttempt.created_at - delta))
        db.session.commit()


def test_pair_delay_grows_and_is_capped():
    assert [pair_delay(n).total_seconds() for n in range(0, 9)] == [0, 0, 0, 0, 0, 30, 60, 120, 240]
    assert pair_delay(10) == pair_delay(500) == timedelta(minutes=15)


def test_attacker_address_does_not_lock_out_the_owner(seeded, client):
    for _ in range(12):
        post_login(client, "jtj", "guess", ATTACKER)
    r = post_login(client, "jtj", PASSWORD, ATTACKER)
    assert r.status_code == 429 and "分钟后再试" in r.get_data(as_text=True)
    assert int(r.headers["Retry-After"]) > 0
    # The owner, from their own address, logs in at once.
    assert post_login(seeded.test_client(), "jtj", PASSWORD, OWNER).status_code == 302
    # And other accounts are not slowed down from the attacker's address.
    assert post_login(seeded.test_client(), "scjgj", PASSWORD, ATTACKER).status_code == 302


def test_delay_is_short_and_expires(seeded, client):
    for _ in range(5):
        assert post_login(client, "jtj", "guess").status_code == 200
    assert post_login(client, "jtj").status_code == 429  # 30 s after the 5th failure
    age_attempts(seeded, timedelta(seconds=31))
    assert post_login(client, "jtj").status_code == 302


def test_refused_attempts_do_not_extend_the_delay(app, seeded):
    now = utcnow()
    with app.app_context():
        for i in range(5):
            assert authenticate("jtj", "guess", ip=ATTACKER, now=now + timedelta(seconds=i)) is None
        db.session.commit()
        for s in (5, 10, 20, 30):
            with pytest.raises(LoginThrottled):
                authenticate("jtj", "guess", ip=ATTACKER, now=now + timedelta(seconds=s))
        db.session.commit()
        assert db.session.scalar(select(func.count(LoginAttempt.id))) == 5
        # 30 s after the last counted failure the pair may try again; the next failure doubles the wait.
        assert authenticate("jtj", "guess", ip=ATTACKER, now=now + timedelta(seconds=35)) is None
        db.session.commit()
        with pytest.raises(LoginThrottled):
            authenticate("jtj", PASSWORD, ip=ATTACKER, now=now + timedelta(seconds=35 + 59))
        user = authenticate("jtj", PASSWORD, ip=ATTACKER, now=now + timedelta(seconds=35 + 61))
        assert user is not None and user.failed_logins == 0
        db.session.commit()
        # A success forgets that pair's failures.
        assert db.session.scalar(select(func.count(LoginAttempt.id)).where(LoginAttempt.ip == ATTACKER)) == 0


def test_delay_is_capped_at_15_minutes(app, seeded):
    now = utcnow()
    with app.app_context():
        for i in range(40):
            db.session.add(LoginAttempt(ip=ATTACKER, username="jtj", created_at=now - timedelta(hours=2, seconds=i)))
        db.session.commit()
        with pytest.raises(LoginThrottled) as info:
            authenticate("jtj", PASSWORD, ip=ATTACKER, now=now - timedelta(hours=2) + timedelta(minutes=14))
        assert "2 分钟" in info.value.message or "1 分钟" in info.value.message
        assert authenticate("jtj", PASSWORD, ip=ATTACKER, now=now - timedelta(hours=2) + timedelta(minutes=16))


def test_address_spraying_many_accounts_is_blocked(seeded, client):
    names = [f"user{i}" for i in range(15)] + ["admin", "dubanke", "leader", "jtj", "sfj", "scjgj", "dktz"]
    failures = 0
    while failures < auth_service.IP_MAX_FAILURES:
        post_login(client, names[failures % len(names)], "Password1")
        failures += 1
    r = post_login(client, "admin", PASSWORD)  # right password, blocked address
    assert r.status_code == 429 and "该地址" in r.get_data(as_text=True)
    # Nobody else is affected.
    assert post_login(seeded.test_client(), "admin", PASSWORD, OWNER).status_code == 302
    # After the window the address may try again.
    age_attempts(seeded, auth_service.IP_WINDOW + timedelta(seconds=1))
    assert post_login(client, "admin", PASSWORD).status_code == 302


def test_generous_global_cap_per_account(app, seeded):
    now = utcnow()
    with app.app_context():
        cap = auth_service.ACCOUNT_MAX_FAILURES
        assert cap >= 100
        # Distributed guessing: a few failures from each of many addresses.
        for i in range(cap - 1):
            db.session.add(LoginAttempt(ip=f"10.9.{i // 200}.{i % 200}", username="admin",
                                        created_at=now - timedelta(minutes=5)))
        db.session.commit()
        assert authenticate("admin", PASSWORD, ip=OWNER, now=now) is not None  # below the cap
        db.session.commit()  # a success is no failure: its reserved attempt is gone
        assert authenticate("admin", "guess", ip="10.10.10.10", now=now) is None
        db.session.commit()
        with pytest.raises(LoginThrottled):
            authenticate("admin", PASSWORD, ip=OWNER, now=now)
        # The cap lasts only until the window moves on.
        assert authenticate("admin", PASSWORD, ip=OWNER, now=now + timedelta(minutes=11)) is not None


def test_unknown_usernames_are_recorded_and_throttled_alike(seeded, client):
    bodies = {}
    for name in ("nosuchuser", "jtj"):
        for _ in range(5):
            r = post_login(client, name, "guess")
            assert r.status_code == 200
            bodies.setdefault(name, r.get_data(as_text=True))
        r = post_login(client, name, "guess")
        assert r.status_code == 429
        bodies[name + "-429"] = r.get_data(as_text=True)
    strip = lambda html: re.sub(r'name="csrf_token"[^>]*>|value="[^"]*"', "", html)  # noqa: E731
    assert strip(bodies["nosuchuser"]) == strip(bodies["jtj"])
    assert strip(bodies["nosuchuser-429"]) == strip(bodies["jtj-429"])
    with seeded.app_context():
        attempts = db.session.scalar(select(func.count(LoginAttempt.id)).where(LoginAttempt.username == "nosuchuser"))
        audited = db.session.execute(select(AuditLog).where(AuditLog.username == "nosuchuser")).scalars().all()
    assert attempts == 5
    assert len(audited) == 6 and {a.action for a in audited} == {"login_failed"}
    assert all(a.user_id is None and a.ip == ATTACKER for a in audited)


def test_unknown_user_costs_one_password_hash(seeded, monkeypatch):
    calls = []
    real = auth_service.check_password_hash

    def counting(pwhash, password):
        calls.append(pwhash)
        return real(pwhash, password)

    monkeypatch.setattr(auth_service, "check_password_hash", counting)
    with seeded.app_context():
        known_hash = db.session.execute(select(User.password_hash).where(User.username == "jtj")).scalar_one()
        assert authenticate("jtj", "guess", ip=OWNER) is None
        assert authenticate("nosuchuser", "guess", ip=OWNER) is None
        db.session.commit()
    assert len(calls) == 2
    # The dummy hash is made the same way as real ones (same method and cost).
    assert calls[0] == known_hash and calls[1].split("$")[0] == known_hash.split("$")[0]


def test_deactivated_user_is_a_plain_failure(seeded, client):
    with seeded.app_context():
        db.session.execute(update(User).where(User.username == "jtj").values(active=False))
        db.session.commit()
    r = post_login(client, "jtj", PASSWORD)
    assert r.status_code == 200 and "用户名或密码错误" in r.get_data(as_text=True)


def test_cookie_flags_and_security_headers(seeded, client):
    r = post_login(client, "admin", PASSWORD, OWNER)
    cookie = r.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    for path in ("/admin/users", "/admin/audit", "/account/password", "/login"):
        page = client.get(path)
        csp = page.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
        assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
        assert page.headers["X-Content-Type-Options"] == "nosniff"
        assert page.headers["X-Frame-Options"] == "DENY"
        # No inline scripts or event handlers: they would be blocked by the CSP.
        html = page.get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), path
        assert not re.search(r"\son[a-z]+\s*=", html), path


def test_templates_have_no_inline_scripts():
    root = Path(__file__).resolve().parent.parent / "templates"
    for path in root.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), path
        assert not re.search(r"\son(click|change|submit|load|input)\s*=", text), path


def test_forwarded_address_is_used_only_when_configured(tmp_path, monkeypatch):
    from tests.conftest import make_app
    from tracker.operations.seed import seed

    app = make_app(tmp_path, monkeypatch, PROXY_FIX_X_FOR=1)
    with app.app_context():
        seed()
    client = app.test_client()
    for _ in range(6):
        client.post("/login", data={"username": "jtj", "password": "guess"},
                    headers={"X-Forwarded-For": ATTACKER})
    with app.app_context():
        assert set(db.session.execute(select(LoginAttempt.ip)).scalars()) == {ATTACKER}
    # Another user behind the same proxy is not slowed down.
    r = client.post("/login", data={"username": "jtj", "password": PASSWORD}, headers={"X-Forwarded-For": OWNER})
    assert r.status_code == 302


def test_forwarded_header_is_ignored_by_default(seeded, client):
    for _ in range(6):
        client.post("/login", data={"username": "jtj", "password": "guess"}, headers={"X-Forwarded-For": ATTACKER})
    r = client.post("/login", data={"username": "jtj", "password": PASSWORD}, headers={"X-Forwarded-For": OWNER})
    assert r.status_code == 429  # a client cannot dodge the delay by forging the header
