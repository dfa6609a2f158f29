"""Reviews (待审核, 销号, 退回, reopen): full cycles through the web forms with CSRF on and the API."""
from datetime import date

import pytest
from sqlalchemy import select

from tests.conftest import PASSWORD, csrf_token_from, seeded_app
from tests.workflow import LEAD, counts, measure, set_task, task_row, token_for
from tracker.extensions import db
from tracker.models import AuditLog, Review, User


@pytest.fixture
def csrf_app(tmp_path, monkeypatch):
    with seeded_app(tmp_path, monkeypatch, WTF_CSRF_ENABLED=True) as app:
        yield app


def login(client, username):
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    r = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 302


def form_post(client, page_path, action, data, query="?today=2024-07-01"):
    """GET the page, take its CSRF token, POST the form like a browser would."""
    html = client.get(page_path + query).get_data(as_text=True)
    data = dict(data, csrf_token=csrf_token_from(html))
    return client.post(action + query, data=data, content_type="multipart/form-data")


def unit_claims(client, app, task_id, narrative="已全部完成，附佐证材料"):
    version = task_row(app, task_id)["version"]
    return form_post(client, f"/tasks/{task_id}", f"/tasks/{task_id}/updates", {
        "status": "pending_review", "progress": "90", "narrative": narrative, "version": str(version)})


def bureau_decides(client, app, task_id, decision, comment="", page="/review"):
    version = task_row(app, task_id)["version"]
    return form_post(client, page, f"/review/{task_id}",
                     {"decision": decision, "comment": comment, "version": str(version), "back": "list"})


def test_claim_then_approve_through_web_forms_with_csrf(csrf_app):
    task_id = measure(csrf_app, "jtj", LEAD)
    unit, bureau = csrf_app.test_client(), csrf_app.test_client()
    login(unit, "jtj")
    login(bureau, "dubanke")
    # Without the token the POST is refused and nothing is written.
    n = counts(csrf_app)
    r = unit.post(f"/tasks/{task_id}/updates", data={"status": "pending_review", "progress": "100",
                                                     "narrative": "x", "version": "1"})
    assert r.status_code == 400 and "CSRF" in r.get_data(as_text=True)
    r = unit.post(f"/tasks/{task_id}/updates", data={"status": "pending_review", "progress": "100",
                                                     "narrative": "x", "version": "1", "csrf_token": "wrong"})
    assert r.status_code == 400 and counts(csrf_app) == n

    assert unit_claims(unit, csrf_app, task_id).status_code == 302
    assert task_row(csrf_app, task_id)["status"] == "pending_review"
    listing = bureau.get("/review").get_data(as_text=True)
    assert f"/tasks/{task_id}" in listing and "已全部完成" in listing
    r = bureau_decides(bureau, csrf_app, task_id, "approve")
    assert r.status_code == 302 and r.headers["Location"].endswith("/review")
    row = task_row(csrf_app, task_id)
    assert row["status"] == "done" and row["progress"] == 100 and row["completed_on"] == date(2024, 7, 1)
    with csrf_app.app_context():
        dubanke = db.session.execute(select(User).where(User.username == "dubanke")).scalar_one()
        assert row["completed_by_id"] == dubanke.id
        actions = [a for (a,) in db.session.execute(select(AuditLog.action).where(AuditLog.target_id == task_id))]
        assert actions == ["progress_update", "review_approve"]
    assert f"/tasks/{task_id}" not in bureau.get("/review").get_data(as_text=True)
    # The unit sees it as done and can no longer report.
    page = unit.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "已完成" in page and "审核通过（销号）" in page and "进展报送" not in page


def test_claim_return_reclaim_approve_through_web_forms_with_csrf(csrf_app):
    task_id = measure(csrf_app, "jtj", LEAD)
    unit, bureau = csrf_app.test_client(), csrf_app.test_client()
    login(unit, "jtj")
    login(bureau, "dubanke")
    assert unit_claims(unit, csrf_app, task_id).status_code == 302
    # Returning needs a comment: a field error, nothing written.
    n = counts(csrf_app)
    r = bureau_decides(bureau, csrf_app, task_id, "return", comment="")
    assert r.status_code == 422 and "必须填写审核意见" in r.get_data(as_text=True) and counts(csrf_app) == n
    r = bureau_decides(bureau, csrf_app, task_id, "return", comment="请补充执法案卷评查报告", page=f"/tasks/{task_id}")
    assert r.status_code == 302
    row = task_row(csrf_app, task_id)
    assert row["status"] == "in_progress" and row["return_comment"] == "请补充执法案卷评查报告"
    assert row["claimed_on"] is None
    # The unit sees the comment on its task page and in my tasks.
    assert "请补充执法案卷评查报告" in unit.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "请补充执法案卷评查报告" in unit.get("/my-tasks").get_data(as_text=True)
    # Re-claim, then approve.
    assert unit_claims(unit, csrf_app, task_id, narrative="已补充评查报告").status_code == 302
    assert task_row(csrf_app, task_id)["return_comment"] == ""
    assert bureau_decides(bureau, csrf_app, task_id, "approve", comment="材料齐全").status_code == 302
    assert task_row(csrf_app, task_id)["status"] == "done"
    with csrf_app.app_context():
        decisions = [d for (d,) in db.session.execute(
            select(Review.decision).where(Review.task_id == task_id).order_by(Review.id))]
    assert decisions == ["return", "approve"]
    history = unit.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert history.index("材料齐全") < history.index("已补充评查报告") < history.index("请补充执法案卷评查报告")


def test_reopen_by_supervisor_only(seeded, client, auth):
    task_id = measure(seeded, "jtj", LEAD)
    set_task(seeded, task_id, status="done", progress=100, completed_on=date(2024, 6, 1))
    version = task_row(seeded, task_id)["version"]
    auth.login("jtj")
    assert client.post(f"/review/{task_id}", data={"decision": "reopen", "version": version}).status_code == 403
    auth.logout()
    auth.login("dubanke")
    # Approving a done measure is not a valid transition.
    r = client.post(f"/review/{task_id}", data={"decision": "approve", "version": version})
    assert r.status_code == 422 and "不在“待审核”状态" in r.get_data(as_text=True)
    r = client.post(f"/review/{task_id}", data={"decision": "reopen", "comment": "发现问题需整改", "version": version})
    assert r.status_code == 302
    row = task_row(seeded, task_id)
    assert row["status"] == "in_progress" and row["completed_on"] is None and row["version"] == version + 1
    with seeded.app_context():
        assert db.session.execute(select(AuditLog.action).order_by(AuditLog.id.desc()).limit(1)).scalar() == "reopen"


def test_review_conflict_on_stale_version(seeded, client, auth):
    task_id = measure(seeded, "jtj", LEAD)
    set_task(seeded, task_id, status="pending_review", progress=100)
    stale = task_row(seeded, task_id)["version"]
    auth.login("dubanke")
    other = seeded.test_client()
    other.post("/login", data={"username": "admin", "password": PASSWORD})
    assert other.post(f"/review/{task_id}", data={"decision": "return", "comment": "再看看",
                                                  "version": stale}).status_code == 302
    r = client.post(f"/review/{task_id}", data={"decision": "approve", "version": stale})
    assert r.status_code == 409 and "数据冲突" in r.get_data(as_text=True)
    assert task_row(seeded, task_id)["status"] == "in_progress"


def test_review_bad_input(seeded, client, auth):
    task_id = measure(seeded, "jtj", LEAD)
    set_task(seeded, task_id, status="pending_review", progress=100)
    version = task_row(seeded, task_id)["version"]
    auth.login("dubanke")
    n = counts(seeded)
    for data, message in (({"decision": "maybe", "version": version}, "审核结论应为"),
                          ({"decision": "approve"}, "缺少版本号"),
                          ({"decision": "approve", "version": "x"}, "版本号应为整数"),
                          ({"decision": "return", "comment": "长" * 40_000, "version": version}, "审核意见过长"),
                          ({}, "审核结论应为")):
        r = client.post(f"/review/{task_id}", data=data)
        assert r.status_code == 422 and message in r.get_data(as_text=True), data
    assert counts(seeded) == n and task_row(seeded, task_id)["version"] == version
    assert client.post("/review/999999", data={"decision": "approve", "version": 1}).status_code == 404


def test_pending_list_oldest_claim_first(seeded, client, auth):
    a = measure(seeded, "jtj", LEAD)
    b = measure(seeded, "scjgj", LEAD, not_of="jtj")
    set_task(seeded, a, status="pending_review", claimed_on=date(2024, 6, 20))
    set_task(seeded, b, status="pending_review", claimed_on=date(2024, 5, 2))
    auth.login("admin")
    html = client.get("/review").get_data(as_text=True)
    assert html.index(f"/tasks/{b}\"") < html.index(f"/tasks/{a}\"")
    assert "2024-05-02" in html


# --- API ---------------------------------------------------------------------------

def api_claim(client, app, task_id, headers):
    return client.post(f"/api/v1/tasks/{task_id}/updates?today=2024-07-01", headers=headers, json={
        "status": "pending_review", "progress": 100, "narrative": "完成", "problems": "", "next_steps": "",
        "version": task_row(app, task_id)["version"]})


def test_api_claim_approve_and_claim_return_reclaim_approve(seeded, client):
    unit, bureau = token_for(seeded, "jtj"), token_for(seeded, "dubanke")
    first = measure(seeded, "jtj", LEAD)
    r = api_claim(client, seeded, first, unit)
    assert r.status_code == 201 and r.get_json()["status"] == "pending_review" and r.get_json()["progress"] == 100
    r = client.post(f"/api/v1/tasks/{first}/review?today=2024-07-01", headers=bureau, json={"decision": "approve"})
    assert r.status_code == 201 and r.get_json()["status"] == "done" and r.get_json()["light"] == "done"

    second = measure(seeded, "jtj", LEAD, status="not_started")
    if second == first:
        pytest.skip("reference plan changed")
    assert api_claim(client, seeded, second, unit).status_code == 201
    r = client.post(f"/api/v1/tasks/{second}/review", headers=bureau, json={"decision": "return"})
    assert r.status_code == 422 and "comment" in r.get_json()["errors"]
    r = client.post(f"/api/v1/tasks/{second}/review", headers=bureau,
                    json={"decision": "return", "comment": "缺少佐证", "version": task_row(seeded, second)["version"]})
    assert r.status_code == 201 and r.get_json()["status"] == "in_progress"
    assert task_row(seeded, second)["return_comment"] == "缺少佐证"
    assert api_claim(client, seeded, second, unit).status_code == 201
    r = client.post(f"/api/v1/tasks/{second}/review", headers=bureau, json={"decision": "approve", "comment": "好"})
    assert r.status_code == 201 and task_row(seeded, second)["status"] == "done"
    # A unit cannot report on a done measure: 422, nothing written.
    r = client.post(f"/api/v1/tasks/{second}/updates", headers=unit, json={
        "status": "in_progress", "progress": 10, "narrative": "x", "version": task_row(seeded, second)["version"]})
    assert r.status_code == 422 and "status" in r.get_json()["errors"]


def test_api_review_codes(seeded, client):
    task_id = measure(seeded, "jtj", LEAD)
    set_task(seeded, task_id, status="pending_review", progress=100)
    version = task_row(seeded, task_id)["version"]
    for username in ("jtj", "leader", "dktz"):
        r = client.post(f"/api/v1/tasks/{task_id}/review", headers=token_for(seeded, username),
                        json={"decision": "approve"})
        assert r.status_code == 403, username
    bureau = token_for(seeded, "dubanke")
    assert client.post("/api/v1/tasks/999999/review", headers=bureau, json={"decision": "approve"}).status_code == 404
    for body in ({"decision": "yes"}, {"decision": "approve", "version": "abc"}, [1], {"comment": "x"}):
        r = client.post(f"/api/v1/tasks/{task_id}/review", headers=bureau, json=body)
        assert r.status_code == 422, body
    r = client.post(f"/api/v1/tasks/{task_id}/review", headers=bureau, data=b"{oops",
                    content_type="application/json")
    assert r.status_code == 422
    r = client.post(f"/api/v1/tasks/{task_id}/review", headers=bureau, json={"decision": "approve", "version": version - 1})
    assert r.status_code == 409 and r.get_json()["version"] == version
    assert task_row(seeded, task_id)["status"] == "pending_review"
    admin = token_for(seeded, "admin")
    assert client.post(f"/api/v1/tasks/{task_id}/review", headers=admin,
                       json={"decision": "approve", "version": version}).status_code == 201
    # Approving again: not pending any more.
    assert client.post(f"/api/v1/tasks/{task_id}/review", headers=admin,
                       json={"decision": "approve"}).status_code == 422
