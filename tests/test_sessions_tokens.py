"""Sessions that end and tokens that can be revoked or expire (issue 9, point 5).

A captured session cookie dies with logout; a password change or reset ends the
user's other sessions and revokes its tokens; deactivation revokes for good;
tokens can expire (the clock is injected) and are listed and revocable by their
owner and by an admin, with audit entries.
"""
from datetime import timedelta

from sqlalchemy import select

from tests.conftest import PASSWORD, csrf_token_from, make_app
from tracker.accounts import tokens
from tracker.extensions import db
from tracker.models import ApiToken, AuditLog, User, UserSession, utcnow

NEW_PASSWORD = "new-secret-2024"


def login(app, username="jtj", password=PASSWORD):
    client = app.test_client()
    assert client.post("/login", data={"username": username, "password": password}).status_code == 302
    return client


def new_token(app, username="jtj", **kwargs) -> str:
    with app.app_context():
        user = db.session.execute(select(User).where(User.username == username)).scalar_one()
        token = tokens.create(user, **kwargs)
        db.session.commit()
        return token


def api_status(app, token: str) -> int:
    return app.test_client().get("/api/v1/plans", headers={"Authorization": f"Bearer {token}"}).status_code


def is_logged_in(client) -> bool:
    r = client.get("/ledger")
    assert r.status_code in (200, 302), r.status_code
    return r.status_code == 200


def actions(app, action):
    with app.app_context():
        return list(db.session.execute(select(AuditLog).where(AuditLog.action == action)
                                       .order_by(AuditLog.id)).scalars())


def test_a_cookie_captured_before_logout_is_dead_after_it(seeded):
    client = login(seeded)
    captured = client.get_cookie("session").value
    assert client.post("/logout").status_code == 302
    replay = seeded.test_client()
    replay.set_cookie("session", captured)
    assert not is_logged_in(replay)
    with seeded.app_context():
        assert db.session.execute(select(UserSession.ended_at)).scalar_one() is not None


def test_logout_is_post_only_and_needs_csrf(tmp_path, monkeypatch):
    from tracker.operations.seed import seed

    app = make_app(tmp_path, monkeypatch, WTF_CSRF_ENABLED=True)
    with app.app_context():
        seed()
    client = app.test_client()
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"username": "jtj", "password": PASSWORD, "csrf_token": token})
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400  # no CSRF token: still logged in
    page = client.get("/ledger")
    assert page.status_code == 200
    assert 'action="/logout"' in page.get_data(as_text=True)  # the navigation bar's POST form
    r = client.post("/logout", data={"csrf_token": csrf_token_from(page.get_data(as_text=True))})
    assert r.status_code == 302 and not is_logged_in(client)


def test_password_change_ends_other_sessions_and_revokes_tokens(seeded):
    here, elsewhere = login(seeded), login(seeded)
    token = new_token(seeded)
    assert api_status(seeded, token) == 200
    r = here.post("/account/password", data={"current": PASSWORD, "new": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert r.status_code == 302
    assert is_logged_in(here)  # the session that changed the password goes on
    assert not is_logged_in(elsewhere)
    assert api_status(seeded, token) == 401
    assert "结束会话 1 个，吊销令牌 1 个" in actions(seeded, "password_change")[-1].detail
    login(seeded, password=NEW_PASSWORD)


def test_admin_reset_ends_every_session_and_token_of_the_user(seeded):
    victim, admin = login(seeded), login(seeded, "admin")
    token = new_token(seeded, expires_days=30)
    with seeded.app_context():
        uid = db.session.execute(select(User.id).where(User.username == "jtj")).scalar_one()
    r = admin.post(f"/admin/users/{uid}/password", data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert r.status_code == 302
    assert not is_logged_in(victim) and api_status(seeded, token) == 401
    assert is_logged_in(admin)
    assert "吊销令牌 1 个" in actions(seeded, "password_reset")[-1].detail


def test_expired_token_is_refused(seeded):
    now = utcnow()
    expired = new_token(seeded, expires_days=7, now=now - timedelta(days=7, seconds=1))
    fresh = new_token(seeded, expires_days=7, now=now - timedelta(days=6))
    forever = new_token(seeded)
    assert api_status(seeded, expired) == 401
    assert api_status(seeded, fresh) == 200 and api_status(seeded, forever) == 200
    with seeded.app_context():  # the same token, a minute before and after its end (injected clock)
        end = db.session.execute(select(ApiToken.expires_at).where(ApiToken.prefix == fresh[:10])).scalar_one()
        assert tokens.user_for_token(fresh, now=end - timedelta(minutes=1)) is not None
        assert tokens.user_for_token(fresh, now=end) is None


def test_create_token_cli_with_expiry(seeded, runner):
    result = runner.invoke(args=["create-token", "jtj", "--expires-days", "30"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert api_status(seeded, token) == 200
    with seeded.app_context():
        row = db.session.execute(select(ApiToken).where(ApiToken.prefix == token[:10])).scalar_one()
        assert timedelta(days=29, hours=23) < row.expires_at - row.created_at <= timedelta(days=30)
    for bad in ("0", "-1", "²", "3651", "abc", "9" * 30):
        result = runner.invoke(args=["create-token", "jtj", "--expires-days", bad])
        assert result.exit_code != 0 and "错误：" in result.output and "有效天数" in result.output, (bad, result.output)
    with seeded.app_context():
        assert db.session.execute(select(ApiToken.id)).all().__len__() == 1


def test_own_tokens_listed_created_and_revoked(seeded):
    client = login(seeded)
    old = new_token(seeded)
    page = client.get("/account/tokens").get_data(as_text=True)
    assert old[:10] in page and old not in page and "吊销" in page
    r = client.post("/account/tokens", data={"expires_days": "²"})
    assert r.status_code == 422 and "有效天数" in r.get_data(as_text=True)
    r = client.post("/account/tokens", data={"expires_days": "90"})
    assert r.status_code == 201
    created = r.get_data(as_text=True).split('user-select-all">')[1].split("<")[0]
    assert api_status(seeded, created) == 200
    with seeded.app_context():
        token_id = db.session.execute(select(ApiToken.id).where(ApiToken.prefix == old[:10])).scalar_one()
        other = db.session.execute(select(User).where(User.username == "scjgj")).scalar_one()
        foreign = tokens.create(other)
        db.session.commit()
        foreign_id = db.session.execute(select(ApiToken.id).where(ApiToken.prefix == foreign[:10])).scalar_one()
    assert client.post(f"/account/tokens/{foreign_id}/revoke").status_code == 404  # not one's own
    assert api_status(seeded, foreign) == 200
    assert client.post(f"/account/tokens/{token_id}/revoke").status_code == 302
    assert api_status(seeded, old) == 401 and api_status(seeded, created) == 200
    assert "已吊销" in client.get("/account/tokens").get_data(as_text=True)
    assert actions(seeded, "token_revoke")[-1].username == "jtj"


def test_admin_sees_and_revokes_a_users_tokens(seeded):
    token = new_token(seeded)
    admin = login(seeded, "admin")
    with seeded.app_context():
        uid = db.session.execute(select(User.id).where(User.username == "jtj")).scalar_one()
        token_id = db.session.execute(select(ApiToken.id)).scalar_one()
    page = admin.get(f"/admin/users/{uid}/edit").get_data(as_text=True)
    assert token[:10] in page and f"/admin/users/{uid}/tokens/{token_id}/revoke" in page
    assert admin.post(f"/admin/users/{uid + 1}/tokens/{token_id}/revoke").status_code == 404  # wrong user
    assert api_status(seeded, token) == 200
    assert admin.post(f"/admin/users/{uid}/tokens/{token_id}/revoke").status_code == 302
    assert api_status(seeded, token) == 401
    entry = actions(seeded, "token_revoke")[-1]
    assert entry.username == "admin" and entry.target_id == uid
    # A unit user may not use the admin route.
    assert login(seeded).post(f"/admin/users/{uid}/tokens/{token_id}/revoke").status_code == 403


def test_token_use_is_recorded_at_most_once_a_minute(seeded):
    token = new_token(seeded)
    client = login(seeded)
    assert "从未使用" in client.get("/account/tokens").get_data(as_text=True)

    def last_used():
        with seeded.app_context():
            return db.session.execute(select(ApiToken.last_used_at).where(ApiToken.prefix == token[:10])).scalar_one()

    with seeded.app_context():  # an injected clock: the first use, 30 s later, 61 s later
        start = utcnow()
        assert tokens.user_for_token(token, now=start) is not None
    assert last_used() == start
    with seeded.app_context():
        assert tokens.user_for_token(token, now=start + timedelta(seconds=30)) is not None
    assert last_used() == start
    with seeded.app_context():
        assert tokens.user_for_token(token, now=start + timedelta(seconds=61)) is not None
    assert last_used() == start + timedelta(seconds=61)
    assert "从未使用" not in client.get("/account/tokens").get_data(as_text=True)
