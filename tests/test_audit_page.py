"""The audit log page: roles, filters, validation, paging, escaping, fixed query count."""
from datetime import datetime

import pytest

from tests.queries import count_statements
from tracker.audit import ACTION_LABELS
from tracker.extensions import db
from tracker.models import AuditLog


def add_entries(app, entries):
    with app.app_context():
        for e in entries:
            db.session.add(AuditLog(**e))
        db.session.commit()


def rows(html):
    return html.count('<tr class="audit-row">')


@pytest.mark.parametrize("username, status", [("admin", 200), ("dubanke", 200), ("leader", 403), ("jtj", 403)])
def test_roles(seeded, client, auth, username, status):
    auth.login(username)
    assert client.get("/admin/audit").status_code == status


def test_shows_logins_and_changes_newest_first(seeded, client, auth):
    auth.login("admin", "wrong-password")
    auth.login("admin")
    client.post("/admin/units/new", data={"full_name": "区新单位", "short_name": "新单位", "kind": "其他",
                                          "emails": "", "active": "y"})
    html = client.get("/admin/audit").get_data(as_text=True)
    # Action select lists every Chinese label.
    for label in ACTION_LABELS.values():
        assert f">{label}</option>" in html
    first_unit = html.index("新建单位</td>")
    first_login = html.index(">登录</td>")
    first_failed = html.index("登录失败</td>")
    assert first_unit < first_login < first_failed
    assert "区新单位" in html and "127.0.0.1" in html


def test_filters(seeded, client, auth):
    add_entries(seeded, [
        dict(action="review_return", username="dubanke", detail="退回：材料不全 100%_done",
             created_at=datetime(2024, 6, 30, 15, 30)),  # 2024-06-30 23:30 in Shanghai
        dict(action="review_return", username="dubanke", detail="退回：缺少附件",
             created_at=datetime(2024, 6, 30, 16, 30)),  # 2024-07-01 00:30 in Shanghai
        dict(action="progress_update", username="jtj", detail="报送进展 100%",
             created_at=datetime(2024, 7, 2, 2, 0)),
    ])
    auth.login("dubanke")
    get = lambda q: client.get("/admin/audit" + q)  # noqa: E731
    assert rows(get("?action=review_return").get_data(as_text=True)) == 2
    assert rows(get("?username=jtj").get_data(as_text=True)) == 1
    assert rows(get("?username=JT").get_data(as_text=True)) == 1  # case-insensitive part of a name
    assert rows(get("?q=材料").get_data(as_text=True)) == 1
    # LIKE wildcards typed by the user are matched literally.
    assert rows(get("?q=%25_").get_data(as_text=True)) == 1
    assert rows(get("?q=_").get_data(as_text=True)) == 1
    # Dates are local (Asia/Shanghai) calendar days, both ends inclusive.
    assert rows(get("?date_from=2024-06-30&date_to=2024-06-30").get_data(as_text=True)) == 1
    assert rows(get("?date_from=2024-07-01&date_to=2024-07-02").get_data(as_text=True)) == 2
    assert rows(get("?action=review_return&date_from=2024-07-01&date_to=2024-07-01").get_data(as_text=True)) == 1
    html = get("?username=nobody").get_data(as_text=True)
    assert rows(html) == 0 and "没有符合条件的记录" in html


@pytest.mark.parametrize("query, message", [
    ("?date_from=2024-02-30", "日期格式应为 YYYY-MM-DD"),
    ("?date_to=yesterday", "日期格式应为 YYYY-MM-DD"),
    ("?date_from=2024-07-02&date_to=2024-07-01", "结束日期不能早于开始日期"),
    ("?action=drop_tables", "未知的操作类型"),
])
def test_bad_filters_are_field_errors(seeded, client, auth, query, message):
    auth.login("admin")
    r = client.get("/admin/audit" + query)
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert message in html and "invalid-feedback" in html and rows(html) == 0


def test_detail_markup_is_escaped(seeded, client, auth):
    add_entries(seeded, [dict(action="user_update", username="<b>x</b>", detail="<script>alert(1)</script>")])
    auth.login("admin")
    html = client.get("/admin/audit").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>x</b>" not in html


def test_paging_50_per_page_keeps_filters(seeded, client, auth):
    add_entries(seeded, [dict(action="urge", username="dubanke", detail=f"催办 #{i:03d}") for i in range(120)])
    auth.login("admin")
    html = client.get("/admin/audit?action=urge").get_data(as_text=True)
    assert rows(html) == 50 and "共 120 条" in html
    assert "催办 #119" in html and "催办 #069" not in html  # newest first
    assert "page=2" in html and "action=urge" in html
    html = client.get("/admin/audit?action=urge&page=3").get_data(as_text=True)
    assert rows(html) == 20 and "催办 #000" in html
    assert rows(client.get("/admin/audit?action=urge&page=99").get_data(as_text=True)) == 0
    for junk in ("abc", "²", "0", "9223372036854775808"):  # issue 9: a clear field error, never a 500
        r = client.get(f"/admin/audit?action=urge&page={junk}")
        assert r.status_code == 422 and "页码" in r.get_data(as_text=True), junk


def test_fixed_number_of_queries(seeded, client, auth):
    auth.login("dubanke")
    add_entries(seeded, [dict(action="urge", username="dubanke", detail="x")])
    small = count_statements(seeded, client, "/admin/audit")
    add_entries(seeded, [dict(action="urge", username=f"u{i}", detail="y") for i in range(200)])
    assert count_statements(seeded, client, "/admin/audit") == small
    assert count_statements(seeded, client, "/admin/audit?action=urge&q=y&page=2") == small
    # the user with its session, the page of entries, their count, the target names (users, then tasks and
    # units) and the navigation bar's to-do badge
    assert small <= 6
