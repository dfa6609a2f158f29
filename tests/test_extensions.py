"""Deadline extensions (SPEC 6.1): requests, decisions, direct changes; effective vs original deadline."""
from datetime import date
from io import BytesIO

import pytest
from sqlalchemy import func, select

from tests.conftest import PASSWORD, csrf_token_from, make_app
from tests.workflow import CO, LEAD, measure, set_task, task_row, token_for
from tracker.extensions import db
from tracker.models import AuditLog, DeadlineExtension, Notification, Task, TaskEvent

T = "?today=2024-07-01"
JUNE = date(2024, 6, 30)


@pytest.fixture
def api(seeded):
    """A lead measure of 区交通局 due 2024-06-30 (overdue on 2024-07-01) and tokens."""
    task_id = measure(seeded, "jtj", LEAD, not_of="scjgj")
    set_task(seeded, task_id, deadline=JUNE, deadline_text="2024年6月底前")
    with seeded.app_context():
        from tracker.supervision.overdue import check_overdue

        check_overdue(date(2024, 7, 1))
    return {"app": seeded, "task": task_id, "client": seeded.test_client(), "jtj": token_for(seeded, "jtj"),
            "bureau": token_for(seeded, "dubanke"), "viewer": token_for(seeded, "leader")}


def pin_today(api, today: str) -> None:
    """Writes use the app's clock (a ``?today=`` on a write is ignored): pin it."""
    api["app"].config["FIXED_TODAY"] = date.fromisoformat(today)


def ask(api, body, who="jtj", task=None, today="2024-07-01"):
    pin_today(api, today)
    return api["client"].post(f"/api/v1/tasks/{task or api['task']}/extensions", json=body,
                              headers=api[who])


def decide(api, ext_id, decision, comment="", who="bureau", today="2024-07-01"):
    pin_today(api, today)
    return api["client"].post(f"/api/v1/extensions/{ext_id}/decision",
                              json={"decision": decision, "comment": comment}, headers=api[who])


def task_json(api, today="2024-07-01"):
    rows = api["client"].get(f"/api/v1/tasks?today={today}", headers=api["bureau"]).get_json()
    return next(r for r in rows if r["id"] == api["task"])


def test_late_request_then_approve_moves_light_and_overdue_flag_at_once(api):
    app = api["app"]
    before = task_json(api)
    assert before["light"] == "red" and before["deadline"] == "2024-06-30" and before["original_deadline"] == "2024-06-30"
    assert before["extension_state"] is None
    r = ask(api, {"new_deadline": "2024-09-30", "reason": "需协调市级部门，延后一个季度"})
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert {k: body[k] for k in ("task_id", "new_deadline", "reason", "state", "late")} == {
        "task_id": api["task"], "new_deadline": "2024-09-30", "reason": "需协调市级部门，延后一个季度",
        "state": "pending", "late": True}
    assert task_json(api)["extension_state"] == "pending"
    assert task_json(api)["light"] == "red"  # nothing moves before the decision
    listed = api["client"].get("/api/v1/extensions?state=pending", headers=api["bureau"]).get_json()
    assert [e["id"] for e in listed] == [body["id"]]
    version = task_row(app, api["task"])["version"]

    r = decide(api, body["id"], "approve", "同意延期")
    assert r.status_code == 200 and r.get_json()["state"] == "approved"
    after = task_json(api)
    assert after["deadline"] == "2024-09-30" and after["original_deadline"] == "2024-06-30"
    assert after["deadline_text"] == "2024年6月底前" and after["extension_state"] == "approved"
    assert after["light"] != "red" and after["overdue_days"] == 0
    assert api["client"].get("/api/v1/overdue?today=2024-07-01", headers=api["bureau"]).get_json() == [] or \
        api["task"] not in [t["id"] for t in api["client"].get("/api/v1/overdue?today=2024-07-01",
                                                                headers=api["bureau"]).get_json()]
    with app.app_context():
        task = db.session.get(Task, api["task"])
        assert task.deadline == JUNE and task.extended_deadline == date(2024, 9, 30)  # original kept
        assert task.overdue_since is None and task.version == version + 1
        kinds = [e.kind for e in db.session.execute(select(TaskEvent).where(TaskEvent.task_id == task.id)).scalars()]
        assert "extension_request" in kinds and "extension_approved" in kinds and kinds[-1] == "overdue_cleared"
        actions = set(db.session.execute(select(AuditLog.action)).scalars())
        assert {"extension_request", "extension_approved"} <= actions
    # Past the new date the measure is overdue again, counted from the new date.
    later = task_json(api, "2024-10-05")
    assert later["light"] == "red" and later["overdue_days"] == 5


def test_reject_changes_nothing_but_the_history(api):
    app = api["app"]
    ext = ask(api, {"new_deadline": "2024-08-31", "reason": "人员不足"}).get_json()
    before = task_row(app, api["task"])
    assert decide(api, ext["id"], "reject").status_code == 422  # a rejection needs a comment
    r = decide(api, ext["id"], "reject", "理由不充分，请按期完成")
    assert r.status_code == 200 and r.get_json()["state"] == "rejected"
    after = task_json(api)
    assert after["deadline"] == "2024-06-30" and after["light"] == "red" and after["extension_state"] == "rejected"
    assert task_row(app, api["task"])["version"] == before["version"]
    with app.app_context():
        task = db.session.get(Task, api["task"])
        assert task.extended_deadline is None and task.overdue_since == date(2024, 7, 1)
        kinds = [e.kind for e in db.session.execute(select(TaskEvent).where(TaskEvent.task_id == task.id)).scalars()]
        assert kinds.count("extension_rejected") == 1
    # After a rejection the unit may ask again.
    assert ask(api, {"new_deadline": "2024-08-15", "reason": "补充了理由"}).status_code == 201


def test_request_rules_403_409_422(api, seeded):
    co_task = measure(seeded, "jtj", CO)
    r = ask(api, {"new_deadline": "2025-01-31", "reason": "x"}, task=co_task)
    assert r.status_code == 403  # co-operating unit
    other = measure(seeded, "scjgj", LEAD, not_of="jtj")
    assert ask(api, {"new_deadline": "2025-01-31", "reason": "x"}, task=other).status_code == 403  # not its task
    assert ask(api, {"new_deadline": "2024-09-30", "reason": "x"}, who="bureau").status_code == 403
    assert ask(api, {"new_deadline": "2024-09-30", "reason": "x"}, who="viewer").status_code == 403
    for body, field in (({"new_deadline": "2024-06-30", "reason": "x"}, "new_deadline"),  # not after
                        ({"new_deadline": "2024-06-01", "reason": "x"}, "new_deadline"),
                        ({"new_deadline": "2024-13-01", "reason": "x"}, "new_deadline"),
                        ({"new_deadline": "2024-09-30", "reason": "  "}, "reason"),
                        ({"reason": "x"}, "new_deadline")):
        r = ask(api, body)
        assert r.status_code == 422 and field in r.get_json()["errors"], body
    assert api["client"].post(f"/api/v1/tasks/{api['task']}/extensions", data="[]", headers=api["jtj"]).status_code == 422
    first = ask(api, {"new_deadline": "2024-09-30", "reason": "原因一"})
    assert first.status_code == 201
    second = ask(api, {"new_deadline": "2024-10-31", "reason": "原因二"})
    assert second.status_code == 409
    ext_id = first.get_json()["id"]
    assert decide(api, ext_id, "approve", who="jtj").status_code == 403
    assert decide(api, ext_id, "maybe").status_code == 422
    assert decide(api, ext_id, "approve").status_code == 200
    again = decide(api, ext_id, "reject", "晚了")
    assert again.status_code == 409  # already decided
    assert decide(api, 99999, "approve").status_code == 404
    # The next request must be later than the new effective deadline.
    r = ask(api, {"new_deadline": "2024-09-30", "reason": "再延"})
    assert r.status_code == 422 and "2024-09-30" in r.get_json()["errors"]["new_deadline"][0]
    with api["app"].app_context():
        assert db.session.scalar(select(func.count()).select_from(DeadlineExtension)) == 1
    assert api["client"].get("/api/v1/extensions?state=later", headers=api["bureau"]).status_code == 422
    # A unit lists only its own measures' requests.
    assert [e["id"] for e in api["client"].get("/api/v1/extensions", headers=api["jtj"]).get_json()] == [ext_id]
    scjgj = token_for(api["app"], "scjgj")
    assert api["client"].get("/api/v1/extensions", headers=scjgj).get_json() == []


def test_request_in_time_is_not_late(api):
    r = ask(api, {"new_deadline": "2024-09-30", "reason": "提前申请"}, today="2024-06-20")
    assert r.status_code == 201 and r.get_json()["late"] is False


def test_one_pending_request_is_enforced_by_the_database(api):
    from sqlalchemy.exc import IntegrityError

    assert ask(api, {"new_deadline": "2024-09-30", "reason": "一"}).status_code == 201
    with api["app"].app_context():
        db.session.add(DeadlineExtension(task_id=api["task"], request_date=date(2024, 7, 1), new_deadline=date(2024, 12, 31),
                                         reason="绕过检查", state="pending"))
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()


def test_direct_deadline_change_by_a_supervisor(api):
    client, app = api["client"], api["app"]
    client.post("/login", data={"username": "jtj", "password": PASSWORD})
    r = client.post(f"/tasks/{api['task']}/deadline{T}", data={"new_deadline": "2024-12-31", "reason": "x",
                                                                "version": str(task_row(app, api['task'])["version"])})
    assert r.status_code == 403
    client.post("/logout")
    client.post("/login", data={"username": "dubanke", "password": PASSWORD})
    version = task_row(app, api["task"])["version"]
    r = client.post(f"/tasks/{api['task']}/deadline{T}", data={"new_deadline": "2024-12-31", "reason": "",
                                                                "version": str(version)})
    assert r.status_code == 422 and "请填写调整理由" in r.get_data(as_text=True)
    r = client.post(f"/tasks/{api['task']}/deadline{T}", data={"new_deadline": "2024-12-31", "reason": "区政府调整计划",
                                                                "version": str(version - 1 if version > 1 else 99)})
    assert r.status_code == 409
    r = client.post(f"/tasks/{api['task']}/deadline{T}", data={"new_deadline": "2024-12-31", "reason": "区政府调整计划",
                                                                "version": str(version)})
    assert r.status_code == 302
    page = client.get(f"/tasks/{api['task']}{T}").get_data(as_text=True)
    assert "2024-12-31" in page and "原完成时限：2024年6月底前" in page and "调整完成时限" in page
    assert task_json(api)["deadline"] == "2024-12-31"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "deadline_change")) == 1


def test_web_request_form_and_supervisor_queue(seeded, tmp_path, monkeypatch):
    from tracker.operations.seed import seed

    app = make_app(tmp_path / "csrf", monkeypatch, WTF_CSRF_ENABLED=True)
    with app.app_context():
        seed()
    task_id = measure(app, "jtj", LEAD, deadline="dated")
    set_task(app, task_id, deadline=JUNE, deadline_text="2024年6月底前")
    unit, bureau = app.test_client(), app.test_client()
    for client, name in ((unit, "jtj"), (bureau, "dubanke")):
        token = csrf_token_from(client.get("/login").get_data(as_text=True))
        client.post("/login", data={"username": name, "password": PASSWORD, "csrf_token": token})
    page = unit.get(f"/tasks/{task_id}{T}").get_data(as_text=True)
    assert "申请延期" in page and "逾期申请" in page
    data = {"new_deadline": "2024-09-30", "reason": "等待上级批复", "version": str(task_row(app, task_id)["version"])}
    assert unit.post(f"/tasks/{task_id}/extensions{T}", data=data).status_code == 400  # no CSRF token
    data["csrf_token"] = csrf_token_from(page)
    r = unit.post(f"/tasks/{task_id}/extensions{T}", data=data)
    assert r.status_code == 302
    page = unit.get(f"/tasks/{task_id}{T}").get_data(as_text=True)
    assert "延期申请待审批" in page and 'action="/tasks/%d/extensions"' % task_id not in page
    queue = bureau.get(f"/extensions{T}").get_data(as_text=True)
    assert "等待上级批复" in queue and "逾期申请" in queue
    with app.app_context():
        ext_id = db.session.scalar(select(DeadlineExtension.id))
    r = bureau.post(f"/extensions/{ext_id}/decision{T}", data={"decision": "approve", "comment": "同意", "back": "list",
                                                               "csrf_token": csrf_token_from(queue)})
    assert r.status_code == 302
    assert "目前没有待审批的延期申请" in bureau.get("/extensions").get_data(as_text=True)
    assert unit.get("/extensions").status_code == 403
    ledger = unit.get("/ledger?extended=1&today=2024-07-01").get_data(as_text=True)
    assert "2024年6月底前" in ledger and "→ 延至 2024-09-30" in ledger, ledger[ledger.find("<main"):][:1500]
    assert "共 1 项具体举措" in ledger
    assert bureau.get("/ledger?extended=maybe").status_code == 422


def test_export_shows_both_dates_and_reimport_keeps_the_original(api):
    from openpyxl import load_workbook

    ext = ask(api, {"new_deadline": "2024-09-30", "reason": "延期"}).get_json()
    decide(api, ext["id"], "approve", "同意")
    client = api["client"]
    client.post("/login", data={"username": "admin", "password": PASSWORD})
    data = client.get(f"/ledger/export.xlsx{T}").data
    ws = load_workbook(BytesIO(data)).active
    texts = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert "2024年6月底前 → 延至 2024-09-30" in texts
    from tracker.plans.excel_import import read_ledger

    with api["app"].app_context():
        parsed = read_ledger(data)
        assert not parsed.problems, parsed.problems[:3]
        spec = parsed.spec
        deadlines = []
        stack = list(spec.tasks)
        while stack:
            node = stack.pop()
            deadlines.append(node.deadline_text)
            stack.extend(node.children)
        assert "2024年6月底前" in deadlines and not any("延至" in (d or "") for d in deadlines)


def test_extension_counts_and_deadline_records_for_the_assessment(api):
    from tests.workflow import unit_of
    from tracker.reporting.extensions import deadline_records, extension_counts

    first = ask(api, {"new_deadline": "2024-09-30", "reason": "一"}).get_json()
    decide(api, first["id"], "reject", "不同意")
    second = ask(api, {"new_deadline": "2024-08-31", "reason": "二"}).get_json()
    decide(api, second["id"], "approve", "同意")
    with api["app"].app_context():
        jtj = unit_of("jtj")
        counts = extension_counts([jtj], date(2024, 7, 1), date(2024, 7, 31))[jtj]
        assert (counts.requested, counts.approved, counts.rejected, counts.late, counts.pending) == (2, 1, 1, 2, 0)
        assert extension_counts([jtj], date(2024, 8, 1), date(2024, 8, 31)) == {}
        record = deadline_records([api["task"]])[api["task"]]
        assert (record.original_deadline, record.effective_deadline, record.original_text) == (
            JUNE, date(2024, 8, 31), "2024年6月底前")
        assert record.extended and record.approved_extensions == 1


def test_assessment_counts_extensions_and_measures_on_time_against_the_original_deadline(api):
    """SPEC 6.4 with 6.1: the assessment counts extension requests and grants from the journal,
    and an approved extension does not make a late completion count as on time."""
    ext_id = ask(api, {"new_deadline": "2024-09-30", "reason": "需协调市级部门"}).get_json()["id"]
    assert decide(api, ext_id, "approve", "同意").status_code == 200
    body = api["client"].get("/api/v1/assessment?period=2024Q3&today=2024-07-02", headers=api["bureau"]).get_json()
    row = next(u for u in body["units"] if u["unit"] in ("区交通局", "天津市宝坻区交通运输局"))
    assert (row["extensions_requested"], row["extensions_granted"]) == (1, 1)
    with api["app"].app_context():
        task = db.session.get(Task, api["task"])
        assert (task.deadline, task.effective_deadline) == (JUNE, date(2024, 9, 30))
