"""Users and units administration, own password change: roles, bad input, audit, CSRF."""
import pytest
from sqlalchemy import func, select

from tests.conftest import PASSWORD, csrf_token_from, make_app
from tests.queries import count_statements
from tracker.accounts.users import create_token
from tracker.extensions import db
from tracker.models import AuditLog, Unit, User


def user_id(app, username):
    with app.app_context():
        return db.session.execute(select(User.id).where(User.username == username)).scalar_one()


def unit_id(app, short_name):
    with app.app_context():
        return db.session.execute(select(Unit.id).where(Unit.short_name == short_name)).scalar_one()


def get_user(app, username):
    with app.app_context():
        user = db.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
        if user is not None:
            db.session.expunge(user)
        return user


def audit_actions(app, action):
    with app.app_context():
        return list(db.session.execute(
            select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)).scalars())


def count(app, model, *where):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


NEW_USER = {"username": "newbie", "display_name": "新同事", "email": "newbie@example.cn", "role": "viewer",
            "unit": "", "password": "secret-123"}


# ----------------------------------------------------------------------------- routes x roles

def route_list(app):
    uid = user_id(app, "jtj")
    nid = unit_id(app, "区交通局")
    return [
        ("GET", "/admin/users", {"admin": 200, "supervisor": 403, "viewer": 403, "jtj": 403}),
        ("GET", "/admin/users/new", {"admin": 200, "supervisor": 403, "viewer": 403, "jtj": 403}),
        ("GET", f"/admin/users/{uid}/edit", {"admin": 200, "supervisor": 403, "viewer": 403, "jtj": 403}),
        ("POST", f"/admin/users/{uid}/password", {"admin": 422, "supervisor": 403, "viewer": 403, "jtj": 403}),
        ("POST", f"/admin/users/{uid}/active", {"admin": 302, "supervisor": 403, "viewer": 403, "jtj": 403}),
        ("GET", "/admin/units", {"admin": 200, "supervisor": 200, "viewer": 403, "jtj": 403}),
        ("GET", "/admin/units/new", {"admin": 200, "supervisor": 403, "viewer": 403, "jtj": 403}),
        ("GET", f"/admin/units/{nid}/edit", {"admin": 200, "supervisor": 403, "viewer": 403, "jtj": 403}),
        ("POST", f"/admin/units/{nid}/edit", {"admin": 422, "supervisor": 403, "viewer": 403, "jtj": 403}),
        ("GET", "/admin/audit", {"admin": 200, "supervisor": 200, "viewer": 403, "jtj": 403}),
        ("GET", "/account/password", {"admin": 200, "supervisor": 200, "viewer": 200, "jtj": 200}),
    ]


@pytest.mark.parametrize("username", ["admin", "dubanke", "leader", "jtj"])
def test_each_route_with_each_role(seeded, client, auth, username):
    role_key = {"dubanke": "supervisor", "leader": "viewer"}.get(username, username)
    routes = route_list(seeded)
    # Anonymous: every admin route sends to the login page.
    for method, path, _ in routes:
        r = client.open(path, method=method)
        assert r.status_code == 302 and "/login" in r.headers["Location"], path
    auth.login(username)
    for method, path, expected in routes:
        r = client.open(path, method=method, data={})
        assert r.status_code == expected[role_key], (username, method, path, r.status_code)


def test_nav_links_by_role(seeded, client, auth):
    auth.login("admin")
    html = client.get("/ledger").get_data(as_text=True)
    assert 'href="/admin/users"' in html and 'href="/admin/units"' in html and 'href="/admin/audit"' in html
    assert 'href="/account/password"' in html
    auth.logout()
    auth.login("dubanke")
    html = client.get("/ledger").get_data(as_text=True)
    assert 'href="/admin/users"' not in html and 'href="/admin/units"' in html and 'href="/admin/audit"' in html
    auth.logout()
    auth.login("jtj")
    html = client.get("/ledger").get_data(as_text=True)
    assert "/admin/" not in html and 'href="/account/password"' in html


def test_unknown_ids_are_404(seeded, client, auth):
    auth.login("admin")
    assert client.get("/admin/users/99999/edit").status_code == 404
    assert client.post("/admin/users/99999/active", data={"active": "0"}).status_code == 404
    assert client.get("/admin/units/99999/edit").status_code == 404


# ----------------------------------------------------------------------------- users

def test_user_list_shows_users(seeded, client, auth):
    auth.login("admin")
    html = client.get("/admin/users").get_data(as_text=True)
    for name in ("admin", "dubanke", "leader", "jtj", "区交通局", "责任单位联络员", "从未登录"):
        assert name in html


def test_create_user_and_log_in(seeded, client, auth):
    auth.login("admin")
    data = dict(NEW_USER, role="unit", unit=str(unit_id(seeded, "区交通局")))
    r = client.post("/admin/users/new", data=data)
    assert r.status_code == 302 and r.headers["Location"].endswith("/admin/users")
    user = get_user(seeded, "newbie")
    assert user.role == "unit" and user.email == "newbie@example.cn" and user.display_name == "新同事"
    assert [a.detail for a in audit_actions(seeded, "user_create")][-1].startswith("newbie")
    assert audit_actions(seeded, "user_create")[-1].username == "admin"
    auth.logout()
    assert auth.login("newbie", "secret-123").status_code == 302


@pytest.mark.parametrize("changes, field, message", [
    ({"username": "jtj"}, "username", "已存在"),
    ({"username": "a b"}, "username", "用户名只能包含"),
    ({"username": ""}, "username", "用户名只能包含"),
    ({"email": "not-an-email"}, "email", "邮箱格式不正确"),
    ({"role": "unit", "unit": ""}, "unit", "必须指定所属单位"),
    ({"role": "unit", "unit": "99999"}, "unit", "未找到该单位"),
    ({"role": "unit", "unit": "区交通局"}, "unit", "未找到该单位"),
    ({"role": "superuser"}, "role", "未知角色"),
    ({"password": "short"}, "password", "密码至少 8 位"),
])
def test_create_user_bad_input(seeded, client, auth, changes, field, message):
    auth.login("admin")
    before = count(seeded, User), count(seeded, AuditLog)
    r = client.post("/admin/users/new", data=dict(NEW_USER, **changes))
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert message in html and "invalid-feedback" in html
    assert (count(seeded, User), count(seeded, AuditLog)) == before


def test_create_user_markup_is_escaped(seeded, client, auth):
    auth.login("admin")
    r = client.post("/admin/users/new", data=dict(NEW_USER, display_name="<script>x</script>"))
    assert r.status_code == 302
    html = client.get("/admin/users").get_data(as_text=True)
    assert "<script>x</script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html


def test_edit_user(seeded, client, auth):
    auth.login("admin")
    uid = user_id(seeded, "leader")
    r = client.post(f"/admin/users/{uid}/edit", data={
        "display_name": "王领导", "email": "wang@example.cn", "role": "unit", "unit": str(unit_id(seeded, "区司法局"))})
    assert r.status_code == 302
    user = get_user(seeded, "leader")
    assert (user.display_name, user.email, user.role) == ("王领导", "wang@example.cn", "unit")
    detail = audit_actions(seeded, "user_update")[-1].detail
    assert "王领导" in detail and "角色" in detail and "区司法局" in detail


@pytest.mark.parametrize("changes, message", [
    ({"email": "bad@"}, "邮箱格式不正确"),
    ({"display_name": ""}, "请填写显示名称"),
    ({"role": "unit", "unit": ""}, "必须指定所属单位"),
    ({"unit": "424242"}, "未找到该单位"),
    ({"role": "god"}, "未知角色"),
])
def test_edit_user_bad_input(seeded, client, auth, changes, message):
    auth.login("admin")
    uid = user_id(seeded, "leader")
    before = get_user(seeded, "leader")
    data = dict({"display_name": "改名", "email": "", "role": "viewer", "unit": ""}, **changes)
    r = client.post(f"/admin/users/{uid}/edit", data=data)
    assert r.status_code == 422 and message in r.get_data(as_text=True)
    after = get_user(seeded, "leader")
    assert (after.display_name, after.role, after.email) == (before.display_name, before.role, before.email)
    assert audit_actions(seeded, "user_update") == []


def test_admin_cannot_demote_or_deactivate_self(seeded, client, auth):
    auth.login("admin")
    uid = user_id(seeded, "admin")
    r = client.post(f"/admin/users/{uid}/edit", data={"display_name": "管理员", "email": "", "role": "viewer",
                                                      "unit": ""})
    assert r.status_code == 422 and "不能修改自己的角色" in r.get_data(as_text=True)
    r = client.post(f"/admin/users/{uid}/active", data={"active": "0"})
    assert r.status_code == 422 and "不能停用自己的账号" in r.get_data(as_text=True)
    assert get_user(seeded, "admin").active and get_user(seeded, "admin").role == "admin"
    assert audit_actions(seeded, "user_deactivate") == []


def test_deactivated_user_loses_login_session_and_token_for_good(seeded, app):
    with app.app_context():
        token = create_token(db.session.execute(select(User).where(User.username == "jtj")).scalar_one())
        db.session.commit()
    victim = app.test_client()
    assert victim.post("/login", data={"username": "jtj", "password": PASSWORD}).status_code == 302
    assert victim.get("/ledger").status_code == 200
    headers = {"Authorization": f"Bearer {token}"}
    assert victim.get("/api/v1/plans", headers=headers).status_code == 200

    admin = app.test_client()
    admin.post("/login", data={"username": "admin", "password": PASSWORD})
    uid = user_id(app, "jtj")
    assert admin.post(f"/admin/users/{uid}/active", data={"active": "0"}).status_code == 302
    assert not get_user(app, "jtj").active
    assert audit_actions(app, "user_deactivate")[-1].target_id == uid

    # The existing session stops working, the token too, and a new login fails.
    r = victim.get("/ledger")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    assert app.test_client().get("/api/v1/plans", headers=headers).status_code == 401
    r = app.test_client().post("/login", data={"username": "jtj", "password": PASSWORD})
    assert r.status_code == 200 and "用户名或密码错误" in r.get_data(as_text=True)
    assert audit_actions(app, "login_failed")[-1].detail == "账号已停用"

    # Reactivation restores login, but neither the old session nor the old token: both were ended.
    assert admin.post(f"/admin/users/{uid}/active", data={"active": "1"}).status_code == 302
    assert audit_actions(app, "user_reactivate")
    assert victim.get("/ledger").status_code == 302
    assert app.test_client().get("/api/v1/plans", headers=headers).status_code == 401
    assert app.test_client().post("/login", data={"username": "jtj", "password": PASSWORD}).status_code == 302


def test_password_reset(seeded, client, auth):
    auth.login("admin")
    uid = user_id(seeded, "scjgj")
    r = client.post(f"/admin/users/{uid}/password", data={"password": "short", "confirm": "short"})
    assert r.status_code == 422 and "密码至少 8 位" in r.get_data(as_text=True)
    r = client.post(f"/admin/users/{uid}/password", data={"password": "brand-new-pw", "confirm": "other-pw-1"})
    assert r.status_code == 422 and "两次输入的密码不一致" in r.get_data(as_text=True)
    assert audit_actions(seeded, "password_reset") == []
    r = client.post(f"/admin/users/{uid}/password", data={"password": "brand-new-pw", "confirm": "brand-new-pw"})
    assert r.status_code == 302
    entry = audit_actions(seeded, "password_reset")[-1]
    assert entry.username == "admin" and entry.target_id == uid and "brand-new-pw" not in entry.detail
    auth.logout()
    assert auth.login("scjgj", PASSWORD).status_code == 200  # old password no longer works
    assert auth.login("scjgj", "brand-new-pw").status_code == 302


def test_password_reset_lifts_login_throttle(seeded, client, auth):
    for _ in range(6):
        auth.login("scjgj", "wrong-password")
    assert auth.login("scjgj").status_code == 429
    auth.login("admin")  # same address, other account: not throttled
    uid = user_id(seeded, "scjgj")
    assert client.post(f"/admin/users/{uid}/password",
                       data={"password": "brand-new-pw", "confirm": "brand-new-pw"}).status_code == 302
    auth.logout()
    assert auth.login("scjgj", "brand-new-pw").status_code == 302


# ----------------------------------------------------------------------------- units

NEW_UNIT = {"full_name": "区测试局", "short_name": "测试局", "kind": "区直部门",
            "emails": "a@example.cn; b@example.cn,\nc@example.cn", "active": "y"}


def test_units_list_counts(seeded, client, auth):
    auth.login("dubanke")
    html = client.get("/admin/units").get_data(as_text=True)
    assert "区交通局" in html and "大口屯镇" in html and "牵头举措" in html
    assert "新建单位" not in html and "/edit" not in html  # supervisors read only
    with seeded.app_context():
        from tracker.accounts.admin import list_units
        rows = {r.unit.short_name: r for r in list_units()}
    assert rows["区司法局"].led > 0 and rows["区交通局"].users == 1
    assert sum(r.led for r in rows.values()) > 0 and sum(r.co for r in rows.values()) > 0


def test_units_page_fixed_query_count(seeded, client, auth):
    auth.login("admin")
    client.get("/admin/units")
    first = count_statements(seeded, client, "/admin/units")
    client.post("/admin/units/new", data=NEW_UNIT)
    client.post("/admin/users/new", data=dict(NEW_USER, role="unit", unit=str(unit_id(seeded, "测试局"))))
    assert count_statements(seeded, client, "/admin/units") == first
    assert first <= 6


def test_create_unit(seeded, client, auth):
    auth.login("admin")
    r = client.post("/admin/units/new", data=NEW_UNIT)
    assert r.status_code == 302
    with seeded.app_context():
        unit = db.session.execute(select(Unit).where(Unit.short_name == "测试局")).scalar_one()
        assert unit.email_list == ["a@example.cn", "b@example.cn", "c@example.cn"] and unit.active
    assert "区测试局" in audit_actions(seeded, "unit_create")[-1].detail
    assert "区测试局" in client.get("/admin/units").get_data(as_text=True)


@pytest.mark.parametrize("changes, field_message", [
    ({"full_name": ""}, "请填写单位全称"),
    ({"short_name": "  "}, "请填写单位简称"),
    ({"full_name": "北京市通州区司法局"}, "已被"),
    ({"short_name": "区交通局"}, "已被"),
    ({"short_name": "区司法局"}, "已被"),
    ({"full_name": "区交通局"}, "已被"),  # another unit's short name
    ({"short_name": "123"}, "不能全为数字"),
    ({"kind": "外星"}, "类别应为"),
    ({"emails": "ok@example.cn; not-an-email"}, "not-an-email"),
])
def test_create_unit_bad_input(seeded, client, auth, changes, field_message):
    with seeded.app_context():
        full = db.session.execute(select(Unit.full_name).where(Unit.short_name == "区司法局")).scalar_one()
    if changes.get("full_name") == "北京市通州区司法局":
        changes = {"full_name": full}
    auth.login("admin")
    before = count(seeded, Unit)
    r = client.post("/admin/units/new", data=dict(NEW_UNIT, **changes))
    assert r.status_code == 422, changes
    assert field_message in r.get_data(as_text=True)
    assert count(seeded, Unit) == before and audit_actions(seeded, "unit_create") == []


def test_edit_unit_emails_names_and_active(seeded, client, auth):
    auth.login("admin")
    nid = unit_id(seeded, "区交通局")
    page = client.get(f"/admin/units/{nid}/edit").get_data(as_text=True)
    assert "区交通局" in page
    with seeded.app_context():
        unit = db.session.get(Unit, nid)
        full = unit.full_name
    data = {"full_name": full, "short_name": "区交通局", "kind": "区直部门",
            "emails": "x@example.cn\ny@example.cn，x@example.cn", "active": ""}
    assert client.post(f"/admin/units/{nid}/edit", data=data).status_code == 302
    with seeded.app_context():
        unit = db.session.get(Unit, nid)
        assert unit.emails == "x@example.cn;y@example.cn" and not unit.active
    detail = audit_actions(seeded, "unit_update")[-1].detail
    assert "联络邮箱" in detail and "停用" in detail
    # Keeping its own names is fine; taking another unit's name is not.
    data.update(short_name="区司法局", active="y")
    r = client.post(f"/admin/units/{nid}/edit", data=data)
    assert r.status_code == 422 and "已被" in r.get_data(as_text=True)
    data.update(short_name="区交通局", emails="bad@@example")
    r = client.post(f"/admin/units/{nid}/edit", data=data)
    assert r.status_code == 422 and "邮箱格式不正确" in r.get_data(as_text=True)
    with seeded.app_context():
        assert db.session.get(Unit, nid).emails == "x@example.cn;y@example.cn"
    assert len(audit_actions(seeded, "unit_update")) == 1


def test_parse_emails():
    from tracker.accounts.admin import parse_emails

    assert parse_emails("a@x.cn;b@x.cn , c@x.cn\r\nA@x.cn；d@x.cn") == (
        ["a@x.cn", "b@x.cn", "c@x.cn", "d@x.cn"], [])
    assert parse_emails("a@x.cn; @x.cn; foo") == (["a@x.cn"], ["@x.cn", "foo"])
    assert parse_emails("") == ([], [])


# ----------------------------------------------------------------------------- own password

def test_change_own_password(seeded, client, auth):
    auth.login("jtj")
    r = client.post("/account/password", data={"current": "wrong-one", "new": "new-pass-1", "confirm": "new-pass-1"})
    assert r.status_code == 422 and "当前密码不正确" in r.get_data(as_text=True)
    r = client.post("/account/password", data={"current": PASSWORD, "new": "short", "confirm": "short"})
    assert r.status_code == 422 and "密码至少 8 位" in r.get_data(as_text=True)
    r = client.post("/account/password", data={"current": PASSWORD, "new": "new-pass-1", "confirm": "new-pass-2"})
    assert r.status_code == 422 and "两次输入的密码不一致" in r.get_data(as_text=True)
    assert audit_actions(seeded, "password_change") == []
    r = client.post("/account/password", data={"current": PASSWORD, "new": "new-pass-1", "confirm": "new-pass-1"})
    assert r.status_code == 302
    assert audit_actions(seeded, "password_change")[-1].username == "jtj"
    auth.logout()
    assert auth.login("jtj", PASSWORD).status_code == 200
    assert auth.login("jtj", "new-pass-1").status_code == 302


def test_guessing_current_password_is_throttled(seeded, client, auth):
    auth.login("jtj")
    for _ in range(5):
        client.post("/account/password", data={"current": "guess", "new": "new-pass-1", "confirm": "new-pass-1"})
    r = client.post("/account/password", data={"current": PASSWORD, "new": "new-pass-1", "confirm": "new-pass-1"})
    assert r.status_code == 429 and "分钟后再试" in r.get_data(as_text=True)
    assert len(audit_actions(seeded, "login_failed")) == 5


# ----------------------------------------------------------------------------- CSRF

def test_admin_forms_need_csrf(tmp_path, monkeypatch):
    from tracker.operations.seed import seed

    app = make_app(tmp_path, monkeypatch, WTF_CSRF_ENABLED=True)
    with app.app_context():
        seed()
    client = app.test_client()
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    assert client.post("/login", data={"username": "admin", "password": PASSWORD, "csrf_token": token}).status_code == 302
    uid = user_id(app, "jtj")
    nid = unit_id(app, "区交通局")
    posts = [
        ("/admin/users/new", dict(NEW_USER)),
        (f"/admin/users/{uid}/edit", {"display_name": "x", "email": "", "role": "viewer", "unit": ""}),
        (f"/admin/users/{uid}/password", {"password": "brand-new-pw", "confirm": "brand-new-pw"}),
        (f"/admin/users/{uid}/active", {"active": "0"}),
        ("/admin/units/new", dict(NEW_UNIT)),
        (f"/admin/units/{nid}/edit", dict(NEW_UNIT)),
        ("/account/password", {"current": PASSWORD, "new": "new-pass-1", "confirm": "new-pass-1"}),
    ]
    for path, data in posts:
        r = client.post(path, data=data)
        assert r.status_code == 400, path
        assert "CSRF" in r.get_data(as_text=True)
    assert get_user(app, "jtj").active and get_user(app, "newbie") is None
    # With the token from the page the same form works.
    page = client.get("/admin/users/new").get_data(as_text=True)
    r = client.post("/admin/users/new", data=dict(NEW_USER, csrf_token=csrf_token_from(page)))
    assert r.status_code == 302 and get_user(app, "newbie") is not None
    page = client.get(f"/admin/users/{uid}/edit").get_data(as_text=True)
    r = client.post(f"/admin/users/{uid}/active", data={"active": "0", "csrf_token": csrf_token_from(page)})
    assert r.status_code == 302 and not get_user(app, "jtj").active


def test_users_page_fixed_query_count(seeded, client, auth):
    auth.login("admin")
    client.get("/admin/users")
    first = count_statements(seeded, client, "/admin/users")
    for i in range(3):
        client.post("/admin/users/new", data=dict(NEW_USER, username=f"extra{i}", role="unit",
                                                  unit=str(unit_id(seeded, "大口屯镇"))))
    assert count_statements(seeded, client, "/admin/users") == first
