"""Login, logout, login-everywhere, CSRF, open redirects, the first ledger page."""
from sqlalchemy import func, select

from tests.conftest import csrf_token_from, make_app
from tracker.extensions import db
from tracker.models import AuditLog, LoginAttempt


def test_pages_need_login(seeded, client):
    for path in ("/", "/ledger"):
        r = client.get(path)
        assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_login_logout_and_audit(seeded, client, auth):
    r = auth.login("admin", "wrong-password")
    assert r.status_code == 200 and "用户名或密码错误" in r.get_data(as_text=True)
    r = auth.login("admin")
    assert r.status_code == 302
    assert client.get("/ledger").status_code == 200
    auth.logout()
    assert client.get("/ledger").status_code == 302
    with seeded.app_context():
        actions = [a for (a,) in db.session.execute(select(AuditLog.action).order_by(AuditLog.id))]
    assert actions[-3:] == ["login_failed", "login", "logout"]


def test_login_with_control_characters_rerenders_the_form(seeded, client):
    """The text rule on the login form is a field error on the form (typed name kept), not an error page,
    and no attempt is counted or audited for input that cannot be a name."""
    with seeded.app_context():
        before = (db.session.scalar(select(func.count()).select_from(LoginAttempt)),
                  db.session.scalar(select(func.count()).select_from(AuditLog)))
    for username, password, expected in (("ad\x01min", "demo1234", "用户名含有不允许的控制字符（U+0001）"),
                                         ("ad\nmin", "demo1234", "用户名不能包含换行或制表符（U+000A）"),
                                         ("admin", "demo\x00", "密码含有不允许的控制字符（U+0000）")):
        r = client.post("/login", data={"username": username, "password": password})
        html = r.get_data(as_text=True)
        assert r.status_code == 200 and expected in html, (username, password)
        assert 'name="username"' in html
    with seeded.app_context():
        after = (db.session.scalar(select(func.count()).select_from(LoginAttempt)),
                 db.session.scalar(select(func.count()).select_from(AuditLog)))
    assert after == before
    assert client.get("/ledger").status_code == 302


def test_next_is_validated(seeded, client, auth):
    ok = client.post("/login?next=/ledger?unit=x", data={"username": "admin", "password": "demo1234"})
    assert ok.headers["Location"].endswith("/ledger?unit=x")
    client.post("/logout")
    for evil in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        r = client.post(f"/login?next={evil}", data={"username": "admin", "password": "demo1234"})
        assert "evil" not in r.headers["Location"], evil
        client.post("/logout")


def test_csrf_enforced_when_enabled(tmp_path, monkeypatch):
    from tracker.operations.seed import seed
    app = make_app(tmp_path, monkeypatch, WTF_CSRF_ENABLED=True)
    with app.app_context():
        seed()
    client = app.test_client()
    r = client.post("/login", data={"username": "admin", "password": "demo1234"})
    assert r.status_code == 400
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    r = client.post("/login", data={"username": "admin", "password": "demo1234", "csrf_token": token})
    assert r.status_code == 302


def test_repeated_failures_slow_the_account_down(seeded, client, auth):
    for _ in range(6):
        auth.login("jtj", "bad-password")
    r = auth.login("jtj")  # right password, but throttled for now
    assert r.status_code == 429 and "分钟后再试" in r.get_data(as_text=True)
    # Another account is not affected.
    assert auth.login("scjgj").status_code == 302
    with seeded.app_context():
        assert db.session.scalar(select(func.count()).where(AuditLog.action == "login_failed")) >= 6


def test_security_headers_and_cookie_flags(seeded, client, auth):
    r = auth.login("admin")
    cookie = r.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    page = client.get("/ledger")
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]


def test_ledger_page_shows_the_tree(seeded, client, auth):
    auth.login("leader")
    html = client.get("/ledger?today=2024-07-01").get_data(as_text=True)
    assert html.count('class="parent-cell"') == 20 + 63
    assert "具体工作举措" in html and "牵头单位" in html and "逾期" in html
    assert 'rowspan="' in html
    filtered = client.get("/ledger?unit=区交通局&today=2024-07-01").get_data(as_text=True)
    assert filtered.count("<tr class=\"light-row") < html.count("<tr class=\"light-row")
    assert client.get("/ledger?light=purple").status_code == 422
    assert client.get("/ledger?today=2024-02-30").status_code == 422


def test_unit_user_ledger_is_limited(seeded, client, auth):
    auth.login("jtj")
    html = client.get("/ledger").get_data(as_text=True)
    rows = html.count("<tr class=\"light-row")
    assert 0 < rows < 92
