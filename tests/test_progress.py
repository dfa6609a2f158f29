"""Progress reports (进展报送): the web form, the API, bad input, conflicts, my tasks, escaping."""
import io
from datetime import date, datetime

import pytest
from sqlalchemy import select

from tests.conftest import TODAY
from tests.queries import count_statements
from tests.workflow import CO, LEAD, counts, measure, report, set_task, task_row, token_for
from tracker.extensions import db
from tracker.models import AuditLog, ProgressUpdate, TaskEvent

XSS = "<script>alert(1)</script>"


def test_unit_reports_progress_on_the_web_form(seeded, client, auth):
    task_id = measure(seeded, "jtj", LEAD)
    auth.login("jtj")
    page = client.get(f"/tasks/{task_id}?today=2024-07-01").get_data(as_text=True)
    assert "进展报送" in page and 'name="version"' in page
    before = task_row(seeded, task_id)
    r = report(client, task_id, before["version"], progress="40", narrative="完成方案起草",
               problems="人手不足", next_steps="征求意见", query="?today=2024-07-01")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/tasks/{task_id}")
    after = task_row(seeded, task_id)
    assert after["status"] == "in_progress" and after["progress"] == 40
    assert after["version"] == before["version"] + 1
    assert after["latest"] == "完成方案起草" and after["period"] == "2024-07"
    with seeded.app_context():
        upd = db.session.execute(select(ProgressUpdate).where(ProgressUpdate.task_id == task_id)).scalar_one()
        assert (upd.period, upd.report_date, upd.problems, upd.next_steps) == ("2024-07", TODAY, "人手不足", "征求意见")
        assert upd.user.username == "jtj" and upd.unit.short_name == "区交通局"
        audit = db.session.execute(select(AuditLog).order_by(AuditLog.id.desc()).limit(1)).scalar_one()
        assert audit.action == "progress_update" and audit.target_id == task_id and "40%" in audit.detail
    page = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "完成方案起草" in page and "人手不足" in page and "征求意见" in page and "2024-07 期" in page


def test_claiming_completion_sets_percent_to_100(seeded, client, auth):
    task_id = measure(seeded, "jtj", LEAD)
    auth.login("jtj")
    r = report(client, task_id, task_row(seeded, task_id)["version"], status="pending_review", progress="30",
               narrative="全部完成", query="?today=2024-07-01")
    assert r.status_code == 302
    row = task_row(seeded, task_id)
    assert row["status"] == "pending_review" and row["progress"] == 100 and row["claimed_on"] == TODAY
    # While the claim waits, the unit cannot report again; the form is gone.
    page = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "等待区司法局审核" in page and 'action="/tasks/%d/updates"' % task_id not in page
    r = report(client, task_id, row["version"])
    assert r.status_code == 422 and "等待审核" in r.get_data(as_text=True)
    assert task_row(seeded, task_id) == row


def test_co_operating_unit_reports_but_cannot_claim(seeded, client, auth):
    task_id = measure(seeded, "jtj", CO)
    auth.login("jtj")
    version = task_row(seeded, task_id)["version"]
    r = report(client, task_id, version, status="pending_review")
    assert r.status_code == 422 and "只有牵头单位可以申请销号" in r.get_data(as_text=True)
    assert task_row(seeded, task_id)["version"] == version
    assert report(client, task_id, version, progress="20").status_code == 302
    assert task_row(seeded, task_id)["progress"] == 20


BAD_FORM_INPUT = [
    ({"progress": "150"}, "进度应在 0–100 之间"),
    ({"progress": "-1"}, "进度应在 0–100 之间"),
    ({"progress": "abc"}, "进度应为整数"),
    ({"progress": ""}, "请填写进度"),
    ({"status": "finished"}, "未知状态"),
    ({"status": "done"}, "只能由督办人员审核销号"),
    ({"status": ""}, "请选择状态"),
    ({"narrative": ""}, "请填写进展情况"),
    ({"narrative": "很" * 400_000}, "进展情况过长"),
    ({"problems": "x" * (64 * 1024 + 1)}, "存在问题过长"),
    ({"version": ""}, "缺少版本号"),
    ({"version": "v2"}, "版本号应为整数"),
]


def test_bad_form_input_gives_field_errors_and_writes_nothing(seeded, client, auth):
    task_id = measure(seeded, "jtj", LEAD)
    auth.login("jtj")
    before, n = task_row(seeded, task_id), counts(seeded)
    for fields, field_error in BAD_FORM_INPUT:
        data = {"status": "in_progress", "progress": "40", "narrative": "正常", "version": str(before["version"])}
        data.update(fields)
        r = client.post(f"/tasks/{task_id}/updates", data=data, content_type="multipart/form-data")
        html = r.get_data(as_text=True)
        assert r.status_code == 422, (fields, html[:300])
        assert field_error in html, fields
        assert 'is-invalid' in html or 'alert-danger' in html
    assert task_row(seeded, task_id) == before and counts(seeded) == n


def test_empty_form_gets_field_errors(seeded, client, auth):
    task_id = measure(seeded, "jtj", LEAD)
    auth.login("jtj")
    n = counts(seeded)
    r = client.post(f"/tasks/{task_id}/updates", data={})
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert "请选择状态" in html and "请填写进展情况" in html and "缺少版本号" in html
    assert counts(seeded) == n


def test_an_11_kb_narrative_is_fine(seeded, client, auth):
    task_id = measure(seeded, "jtj", LEAD)
    auth.login("jtj")
    text = "推进情况良好。" * 1600  # 11,200 characters, about 33 KB of UTF-8
    assert report(client, task_id, task_row(seeded, task_id)["version"], narrative=text).status_code == 302
    assert task_row(seeded, task_id)["latest"] == text


def test_stale_version_is_a_conflict_that_names_the_change(seeded, auth, client):
    """Two clients open the same task (same version); the second save gets a conflict."""
    task_id = measure(seeded, "jtj", LEAD)
    other = seeded.test_client()
    other.post("/login", data={"username": "dubanke", "password": "demo1234"})
    auth.login("jtj")
    version = task_row(seeded, task_id)["version"]
    assert report(other, task_id, version, progress="60", narrative="督办人员代报").status_code == 302
    n = counts(seeded)
    r = report(client, task_id, version, progress="10", narrative="我的版本")
    html = r.get_data(as_text=True)
    assert r.status_code == 409
    assert "数据冲突" in html and "督办" in html and "进度 60%" in html and "版本 " not in html
    assert "我的版本" in html  # what the user typed is kept in the form
    row = task_row(seeded, task_id)
    assert row["progress"] == 60 and row["latest"] == "督办人员代报" and counts(seeded) == n


def test_viewer_and_other_units_cannot_report(seeded, client, auth):
    task_id = measure(seeded, "jtj", LEAD, not_of="dktz")
    version = task_row(seeded, task_id)["version"]
    for username in ("leader", "dktz"):
        auth.login(username)
        assert report(client, task_id, version).status_code == 403
        auth.logout()
    assert task_row(seeded, task_id)["version"] == version


def test_unit_cannot_report_on_a_parent_task(seeded, client, auth):
    from tracker.models import Task

    task_id = measure(seeded, "jtj", LEAD)
    with seeded.app_context():
        parent_id = db.session.get(Task, task_id).parent_id
    auth.login("admin")
    r = report(client, parent_id, 1)
    assert r.status_code == 422 and "只能对具体工作举措报送" in r.get_data(as_text=True)


# --- API -------------------------------------------------------------------------

def test_api_update_201_and_shape(seeded, client):
    task_id = measure(seeded, "jtj", LEAD)
    headers = token_for(seeded, "jtj")
    version = task_row(seeded, task_id)["version"]
    r = client.post(f"/api/v1/tasks/{task_id}/updates?today=2024-07-01", headers=headers, json={
        "status": "in_progress", "progress": 55, "narrative": "API 报送", "problems": "", "next_steps": "继续",
        "version": version})
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["id"] == task_id and body["status"] == "in_progress" and body["progress"] == 55
    assert body["version"] == version + 1 and body["light"] in {"red", "yellow", "green"}


BAD_API_FIELDS = [
    ({"progress": 150}, "progress"),
    ({"progress": -1}, "progress"),
    ({"progress": "abc"}, "progress"),
    ({"progress": 50.5}, "progress"),
    ({"progress": True}, "progress"),
    ({"status": "finished"}, "status"),
    ({"status": "done"}, "status"),
    ({"status": 3}, "status"),
    ({"version": None}, "version"),
    ({"narrative": "长" * 30_000}, "narrative"),
    ({"narrative": ["not", "text"]}, "narrative"),
    ({"status": "pending_review", "progress": 150}, "progress"),
]


def test_api_bad_fields_are_422(seeded, client):
    task_id = measure(seeded, "jtj", LEAD)
    headers = token_for(seeded, "jtj")
    before, n = task_row(seeded, task_id), counts(seeded)
    for body, field in BAD_API_FIELDS:
        data = {"status": "in_progress", "progress": 40, "narrative": "x", "version": before["version"]}
        data.update(body)
        if data.get("version") is None:
            data.pop("version")
        r = client.post(f"/api/v1/tasks/{task_id}/updates", headers=headers, json=data)
        assert r.status_code == 422, (body, r.get_json())
        assert field in r.get_json()["errors"], body
    assert task_row(seeded, task_id) == before and counts(seeded) == n


def test_api_malformed_or_non_object_json_is_422(seeded, client):
    task_id = measure(seeded, "jtj", LEAD)
    headers = dict(token_for(seeded, "jtj"), **{"Content-Type": "application/json"})
    n = counts(seeded)
    for raw in (b"{not json", b"[1, 2]", b'"text"', b"", b"null", "{\"status\": \"\u00e9".encode()):
        r = client.post(f"/api/v1/tasks/{task_id}/updates", headers=headers, data=raw)
        assert r.status_code == 422 and r.is_json and "errors" in r.get_json(), raw
    assert counts(seeded) == n


def test_api_update_403_404_409(seeded, client):
    task_id = measure(seeded, "jtj", LEAD, not_of="dktz")
    version = task_row(seeded, task_id)["version"]
    body = {"status": "in_progress", "progress": 10, "narrative": "x", "version": version}
    assert client.post(f"/api/v1/tasks/{task_id}/updates", headers=token_for(seeded, "dktz"), json=body).status_code == 403
    assert client.post(f"/api/v1/tasks/{task_id}/updates", headers=token_for(seeded, "leader"), json=body).status_code == 403
    assert client.post("/api/v1/tasks/999999/updates", headers=token_for(seeded, "jtj"), json=body).status_code == 404
    jtj = token_for(seeded, "jtj")
    assert client.post(f"/api/v1/tasks/{task_id}/updates", headers=jtj, json=body).status_code == 201
    r = client.post(f"/api/v1/tasks/{task_id}/updates", headers=jtj, json=dict(body, progress=90))
    assert r.status_code == 409
    data = r.get_json()
    assert data["version"] == version + 1 and data["current"]["progress"] == 10 and "error" in data
    assert task_row(seeded, task_id)["progress"] == 10
    # Without a token: 401.
    assert client.post(f"/api/v1/tasks/{task_id}/updates", json=body).status_code == 401


def test_api_session_post_needs_csrf_header(seeded, client, auth):
    task_id = measure(seeded, "jtj", LEAD)
    auth.login("jtj")
    body = {"status": "in_progress", "progress": 10, "narrative": "x", "version": task_row(seeded, task_id)["version"]}
    assert client.post(f"/api/v1/tasks/{task_id}/updates", json=body).status_code == 400


# --- My tasks ----------------------------------------------------------------------

def test_my_tasks_lists_lead_and_co_measures_grouped(seeded, client, auth):
    lead, co = measure(seeded, "jtj", LEAD), measure(seeded, "jtj", CO)
    auth.login("jtj")
    r = client.get("/my-tasks?today=2024-07-01")
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert f"/tasks/{lead}" in html and f"/tasks/{co}" in html
    assert "牵头" in html and "配合" in html and "card-header" in html
    # Only the unit's own measures: 3 lead + 5 co-operating in the reference plan.
    assert html.count('<tr class="light-row-') == 8


def test_my_tasks_quick_filters(seeded, client, auth):
    overdue = measure(seeded, "jtj", LEAD, deadline="dated")  # 2023-12-31 in the reference plan
    auth.login("jtj")
    html = client.get("/my-tasks?today=2024-07-01&filter=overdue").get_data(as_text=True)
    assert f"/tasks/{overdue}" in html and "逾期" in html
    assert "light-row-green" not in html and "light-row-yellow" not in html
    soon = client.get("/my-tasks?today=2024-06-20&filter=due_soon").get_data(as_text=True)
    assert "light-row-red" not in soon
    # Not reported this month: everything at first; a report removes the measure from the list.
    before = client.get("/my-tasks?today=2024-07-01&filter=unreported").get_data(as_text=True)
    assert f"/tasks/{overdue}\"" in before
    report(client, overdue, task_row(seeded, overdue)["version"], query="?today=2024-07-01")
    after = client.get("/my-tasks?today=2024-07-01&filter=unreported").get_data(as_text=True)
    assert f"/tasks/{overdue}\"" not in after
    assert client.get("/my-tasks?filter=bogus").status_code == 422


def test_my_tasks_for_other_roles_redirects_to_ledger(seeded, client, auth):
    for username in ("admin", "dubanke", "leader"):
        auth.login(username)
        r = client.get("/my-tasks")
        assert r.status_code == 302 and r.headers["Location"].endswith("/ledger")
        auth.logout()


def test_markup_is_escaped_on_task_page_my_tasks_and_ledger(seeded, client, auth):
    task_id = measure(seeded, "jtj", LEAD)
    auth.login("jtj")
    r = report(client, task_id, task_row(seeded, task_id)["version"], narrative=XSS, problems=XSS, next_steps=XSS)
    assert r.status_code == 302
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    for path in (f"/tasks/{task_id}", "/my-tasks", "/ledger"):
        html = client.get(path).get_data(as_text=True)
        assert XSS not in html, path
        assert escaped in html, path
    # The review list and the reviewer's comment are escaped too.
    set_task(seeded, task_id, status="pending_review")
    auth.logout()
    auth.login("dubanke")
    html = client.get("/review").get_data(as_text=True)
    assert XSS not in html and "&lt;script&gt;" in html
    assert client.post(f"/review/{task_id}", data={"decision": "return", "comment": XSS,
                                                   "version": task_row(seeded, task_id)["version"]}).status_code == 302
    auth.logout()
    auth.login("jtj")
    for path in (f"/tasks/{task_id}", "/my-tasks"):
        html = client.get(path).get_data(as_text=True)
        assert XSS not in html and escaped in html


def test_task_page_shows_ancestors_units_deadline_and_events(seeded, client, auth):
    from tracker.models import Task, User

    task_id = measure(seeded, "jtj", LEAD, deadline="dated")
    with seeded.app_context():
        task = db.session.get(Task, task_id)
        parent_title = task.parent.title[:10]
        deadline_text = task.deadline_text
        admin = db.session.execute(select(User).where(User.username == "dubanke")).scalar_one()
        db.session.add(TaskEvent(task_id=task_id, kind="urge", actor_id=admin.id, event_date=TODAY, note="请尽快报送",
                                 created_at=datetime(2024, 7, 1, 2, 0)))
        db.session.add(TaskEvent(task_id=task_id, kind="overdue", event_date=date(2024, 1, 1),
                                 created_at=datetime(2024, 1, 1, 1, 0)))
        db.session.commit()
    auth.login("jtj")
    html = client.get(f"/tasks/{task_id}?today=2024-07-01").get_data(as_text=True)
    assert "breadcrumb" in html and parent_title in html
    assert deadline_text in html and "区交通局" in html
    assert "催办" in html and "请尽快报送" in html and "开始逾期" in html
    assert html.index("催办") < html.index("开始逾期")  # newest first
    assert "逾期" in html


def test_task_page_404_and_parent_page(seeded, client, auth):
    from tracker.models import Task

    auth.login("admin")
    assert client.get("/tasks/999999").status_code == 404
    with seeded.app_context():
        root = db.session.execute(select(Task).where(Task.parent_id.is_(None)).limit(1)).scalar_one()
    html = client.get(f"/tasks/{root.id}").get_data(as_text=True)
    assert "下级任务" in html and "进展报送" not in html


# --- Constant number of SQL statements per page ------------------------------------

def test_pages_run_a_fixed_number_of_queries(seeded, auth, client):
    # My tasks: a unit with 8 measures and one with 70 cost the same.
    auth.login("jtj")
    small = count_statements(seeded, client, "/my-tasks")
    auth.logout()
    auth.login("sfj")
    large = count_statements(seeded, client, "/my-tasks")
    assert small == large
    auth.logout()
    # Task page: one report, review and file cost the same as many.
    quiet, busy = measure(seeded, "jtj", LEAD), measure(seeded, "scjgj", LEAD, not_of="jtj")
    auth.login("admin")

    def activity(rounds):
        for i in range(rounds):
            files = {"files": [(io.BytesIO(b"%PDF-1.4 " + bytes([65 + i])), f"f{i}.pdf")]}
            r = report(client, busy, task_row(seeded, busy)["version"], progress=str(10 + i), **files)
            assert r.status_code == 302
        set_task(seeded, busy, status="pending_review")
        r = client.post(f"/review/{busy}", data={"decision": "return", "comment": "补充",
                                                 "version": task_row(seeded, busy)["version"]})
        assert r.status_code == 302

    activity(1)
    before = count_statements(seeded, client, f"/tasks/{busy}")
    activity(4)
    assert count_statements(seeded, client, f"/tasks/{busy}") == before
    # Review list: one claim or five.
    set_task(seeded, quiet, status="pending_review")
    one = count_statements(seeded, client, "/review")
    from tracker.models import Task

    with seeded.app_context():
        more = db.session.execute(select(Task.id).where(Task.is_leaf.is_(True), Task.status == "not_started")
                                  .order_by(Task.id.desc()).limit(4)).scalars().all()
    for task_id in more:
        set_task(seeded, task_id, status="pending_review")
    assert count_statements(seeded, client, "/review") == one


def test_co_unit_form_offers_no_claim(seeded, client, auth):
    co, lead = measure(seeded, "jtj", CO), measure(seeded, "jtj", LEAD)
    auth.login("jtj")
    assert 'value="pending_review"' not in client.get(f"/tasks/{co}").get_data(as_text=True)
    assert 'value="pending_review"' in client.get(f"/tasks/{lead}").get_data(as_text=True)


def test_record_update_service_checks_version_atomically(seeded):
    """The guarded UPDATE refuses a save whose version was bumped after the task was loaded."""
    from tracker.errors import Conflict
    from tracker.models import Task
    from tracker.reporting.writing import bump_version

    task_id = measure(seeded, "jtj", LEAD)
    with seeded.app_context():
        task = db.session.get(Task, task_id)
        version = task.version
        # Another transaction saves in between (simulated with a direct UPDATE).
        with db.engine.begin() as conn:
            conn.exec_driver_sql("UPDATE tasks SET version = version + 1 WHERE id = %d" % task_id)
        with pytest.raises(Conflict) as exc:
            bump_version(task, version)
        assert exc.value.changes["version"] == version + 1


def test_writes_cannot_backdate(tmp_path, monkeypatch):
    """``?today=`` replays a day for reading; a report records the app clock's date (the real one here)."""
    from tests.conftest import make_app
    from tracker.clock import local_today
    from tracker.operations.seed import seed

    app = make_app(tmp_path, monkeypatch, TESTING=False, FIXED_TODAY=None)
    with app.app_context():
        seed()
    client = app.test_client()
    client.post("/login", data={"username": "jtj", "password": "demo1234"})
    task_id = measure(app, "jtj", LEAD)
    r = report(client, task_id, task_row(app, task_id)["version"], status="pending_review", query="?today=2020-01-01")
    assert r.status_code == 302
    with app.app_context():
        real = local_today(app.config["TIMEZONE"])
    row = task_row(app, task_id)
    assert row["claimed_on"] == real and row["period"] == f"{real.year:04d}-{real.month:02d}"
