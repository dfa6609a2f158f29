"""To-do list (SPEC 6.2), its nav badge, event notices through the outbox, and the lists that must agree."""
import re
from datetime import date

import pytest
from sqlalchemy import func, select

from tests.conftest import PASSWORD
from tests.workflow import CO, LEAD, measure, set_task, task_row, token_for, unit_of
from tracker.extensions import db
from tracker.models import Notification, Task, TaskUnit, TodoRead, Unit

T = "?today=2024-07-01"


@pytest.fixture
def env(seeded):
    task_id = measure(seeded, "jtj", LEAD, not_of="scjgj")
    set_task(seeded, task_id, deadline=date(2024, 7, 10), deadline_text="2024年7月10日前")
    return {"app": seeded, "task": task_id, "client": seeded.test_client(), "jtj": token_for(seeded, "jtj"),
            "bureau": token_for(seeded, "dubanke")}


def jtj_id(app):
    with app.app_context():
        return unit_of("jtj")


def claim(env, narrative="已完成"):
    version = task_row(env["app"], env["task"])["version"]
    r = env["client"].post(f"/api/v1/tasks/{env['task']}/updates{T}", headers=env["jtj"], json={
        "status": "pending_review", "progress": 100, "narrative": narrative, "problems": "", "next_steps": "",
        "version": version})
    assert r.status_code == 201, r.get_json()


def review(env, decision, comment=""):
    r = env["client"].post(f"/api/v1/tasks/{env['task']}/review{T}", headers=env["bureau"],
                           json={"decision": decision, "comment": comment})
    assert r.status_code == 201, r.get_json()


def todo(env, who):
    return env["client"].get(f"/api/v1/todo{T}", headers=env[who]).get_json()


def events(app):
    with app.app_context():
        return [(n.dedupe_key, n.subject, n.body_text, n.recipients) for n in db.session.execute(
            select(Notification).where(Notification.kind == "event").order_by(Notification.id)).scalars()]


def test_claim_return_flow_to_do_and_notices(env):
    app = env["app"]
    claim(env)
    sup = todo(env, "bureau")
    assert set(sup) == {"items", "unread"}
    claims = [i for i in sup["items"] if i["kind"] == "claim"]
    assert [i["task_id"] for i in claims] == [env["task"]] and claims[0]["read"] is False
    assert set(claims[0]) >= {"kind", "task_id", "title", "text", "created_at", "read"}
    sent = events(app)
    assert len(sent) == 1 and sent[0][0].startswith("event:claim:") and sent[0][0].endswith(":bureau")
    assert "【待审核】" in sent[0][1] and "请在“待审核”页面" in sent[0][2]

    review(env, "return", "请补充整改前后对比照片")
    assert not [i for i in todo(env, "bureau")["items"] if i["kind"] == "claim"]  # acted on: gone
    unit = todo(env, "jtj")
    first = unit["items"][0]
    assert first["kind"] == "returned" and first["task_id"] == env["task"]
    assert "请补充整改前后对比照片" in first["text"] and unit["unread"] >= 1
    sent = events(app)
    assert len(sent) == 2
    key, subject, body, rcpt = sent[1]
    jtj = jtj_id(app)
    assert re.fullmatch(rf"event:returned:\d+:unit:{jtj}", key)
    assert subject.startswith("【退回】区交通局") and "审核意见：请补充整改前后对比照片" in body
    assert "下一步：请按审核意见补充佐证材料或整改" in body and f"/tasks/{env['task']}" in body
    assert "jtj@tjbd.example.cn" in rcpt

    # The landing page starts with it, with the comment; the badge counts it.
    client = app.test_client()
    client.post("/login", data={"username": "jtj", "password": PASSWORD})
    page = client.get(f"/{T}").get_data(as_text=True)
    assert page.index('id="todo"') < page.index("data-total")
    first_item = page[page.index('class="list-group-item'):][:1500]
    assert "销号申请被退回" in first_item and "请补充整改前后对比照片" in first_item
    badge = int(re.search(r'data-todo-count="(\d+)"', page).group(1))
    assert badge == unit["unread"]
    assert re.search(r'data-todo-count="%d"' % badge, client.get(f"/ledger{T}").get_data(as_text=True))

    # Marking read takes it out of the count (stored per user); claiming again removes it.
    r = client.post("/todo/read", data={"key": first["key"]})
    assert r.status_code == 302
    after = todo(env, "jtj")
    assert after["unread"] == unit["unread"] - 1
    assert next(i for i in after["items"] if i["key"] == first["key"])["read"] is True
    assert client.post("/todo/read", data={"key": "<script>"}).status_code == 422
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(TodoRead)) == 1
    claim(env, "已补充照片")
    assert not [i for i in todo(env, "jtj")["items"] if i["kind"] == "returned"]

    review(env, "approve")
    sent = events(app)
    assert [k.split(":")[1] for k, *_ in sent] == ["claim", "returned", "claim", "approved"]
    assert sent[3][1].startswith("【已销号】区交通局")


def test_notices_are_queued_exactly_once_per_event(env):
    from tracker.models import Review
    from tracker.notify.events import notify_units

    claim(env)
    review(env, "return", "补充")
    with env["app"].app_context():
        rv = db.session.execute(select(Review).order_by(Review.id.desc())).scalars().first()
        task = db.session.get(Task, env["task"])
        assert notify_units("returned", rv.id, task, task.lead_units, comment="补充", actor_name="x") == 0
        db.session.commit()
    assert len(events(env["app"])) == 2


def test_supervisor_notices_can_be_switched_off(tmp_path, monkeypatch):
    from tests.conftest import make_app
    from tracker.operations.seed import seed

    app = make_app(tmp_path, monkeypatch, NOTIFY_SUPERVISORS_ON_EVENTS=False)
    with app.app_context():
        seed()
    task_id = measure(app, "jtj", LEAD)
    env = {"app": app, "task": task_id, "client": app.test_client(), "jtj": token_for(app, "jtj"),
           "bureau": token_for(app, "dubanke")}
    claim(env)
    assert events(app) == []
    review(env, "return", "补充")
    assert {k.split(":")[1] for k, *_ in events(app)} == {"returned"}  # units are always told


def test_extension_flow_to_do_and_notices(env):
    client = env["client"]
    r = client.post(f"/api/v1/tasks/{env['task']}/extensions{T}", headers=env["jtj"],
                    json={"new_deadline": "2024-09-30", "reason": "等待市级验收"})
    ext_id = r.get_json()["id"]
    sup = todo(env, "bureau")
    assert [i["task_id"] for i in sup["items"] if i["kind"] == "extension_request"] == [env["task"]]
    assert events(env["app"])[-1][0] == f"event:extension_request:{ext_id}:bureau"
    assert "【延期申请】" in events(env["app"])[-1][1]
    client.post(f"/api/v1/extensions/{ext_id}/decision{T}", headers=env["bureau"],
                json={"decision": "approve", "comment": "同意"})
    assert not [i for i in todo(env, "bureau")["items"] if i["kind"] == "extension_request"]
    unit = todo(env, "jtj")
    decided = [i for i in unit["items"] if i["kind"] == "extension_approved"]
    assert decided and "2024-09-30" in decided[0]["text"] and decided[0]["read"] is False
    # The measure was due within the warning window (07-10); with 09-30 it no longer is.
    assert not [i for i in unit["items"] if i["kind"] == "due_soon" and i["task_id"] == env["task"]]
    key, subject, body, _ = events(env["app"])[-1]
    assert key == f"event:extension_approved:{ext_id}:unit:{jtj_id(env['app'])}"
    assert "完成时限延至2024-09-30" in subject and "下一步：请在 2024-09-30 前完成" in body


def test_liaison_to_do_kinds(env):
    app = env["app"]
    unit = todo(env, "jtj")
    kinds = {i["kind"] for i in unit["items"]}
    assert "due_soon" in kinds  # due 07-10, warning window 15 days
    assert "report" not in kinds  # the report reminder day (20th) has not come
    late = env["client"].get("/api/v1/todo?today=2024-07-21", headers=env["jtj"]).get_json()
    assert {"report", "overdue"} <= {i["kind"] for i in late["items"]}
    # An urge shows until the unit reports.
    from tracker.accounts.users import get_user_by_name
    from tracker.supervision.urge import urge

    with app.app_context():
        urge(get_user_by_name("dubanke"), date(2024, 7, 21), task_id=env["task"], note="请本周内完成")
    urged = env["client"].get("/api/v1/todo?today=2024-07-21", headers=env["jtj"]).get_json()
    assert urged["items"][0]["kind"] == "urge" and "请本周内完成" in urged["items"][0]["text"]
    version = task_row(app, env["task"])["version"]
    env["app"].config["FIXED_TODAY"] = date(2024, 7, 21)  # writes use the app's clock
    env["client"].post(f"/api/v1/tasks/{env['task']}/updates", headers=env["jtj"], json={
        "status": "in_progress", "progress": 60, "narrative": "已推进", "version": version})
    after = env["client"].get("/api/v1/todo?today=2024-07-21", headers=env["jtj"]).get_json()
    assert "urge" not in {i["kind"] for i in after["items"]}
    assert not [i for i in after["items"] if i["kind"] == "report" and i["task_id"] == env["task"]]


def test_supervisor_sees_new_overdue_and_failed_messages(env):
    app = env["app"]
    from tracker.supervision.overdue import check_overdue

    with app.app_context():
        check_overdue(date(2024, 7, 12))
        db.session.add(Notification(dedupe_key="x:1", recipients="a@b.cn", subject="【测试】失败的邮件",
                                    body_text="", state="failed", attempts=5))
        db.session.commit()
    items = env["client"].get("/api/v1/todo?today=2024-07-12", headers=env["bureau"]).get_json()["items"]
    assert env["task"] in [i["task_id"] for i in items if i["kind"] == "new_overdue"]
    assert [i["title"] for i in items if i["kind"] == "failed_message"] == ["【测试】失败的邮件"]
    week_later = env["client"].get("/api/v1/todo?today=2024-07-30", headers=env["bureau"]).get_json()["items"]
    assert env["task"] not in [i["task_id"] for i in week_later if i["kind"] == "new_overdue"]
    viewer = token_for(app, "leader")
    assert env["client"].get("/api/v1/todo", headers=viewer).get_json() == {"items": [], "unread": 0}
    assert env["client"].get("/api/v1/todo").status_code == 401
    assert env["client"].post("/api/v1/todo/read", headers=env["bureau"], json={"keys": "x"}).status_code == 422


# --- The lists that must agree ------------------------------------------------------------------

def test_missing_reports_and_unit_filter_are_the_same_set(env):
    app, client = env["app"], env["client"]
    claim(env)  # 待审核: no report form, so no report owed
    client.post("/login", data={"username": "jtj", "password": PASSWORD})
    mine = client.get("/my-tasks?filter=unreported&today=2024-07-28").get_data(as_text=True)
    mine_ids = set(int(i) for i in re.findall(r'href="/tasks/(\d+)"', mine))
    client.post("/logout")
    client.post("/login", data={"username": "dubanke", "password": PASSWORD})
    from tracker.supervision.service import missing_reports

    with app.app_context():
        groups = missing_reports("2024-07", unit_of("jtj"))
        bureau_ids = {t.id for g in groups for t in g.measures}
        led = set(db.session.execute(select(TaskUnit.task_id).join(Task).where(
            TaskUnit.unit_id == unit_of("jtj"), TaskUnit.role == LEAD, Task.is_leaf.is_(True))).scalars())
    assert env["task"] not in bureau_ids and env["task"] not in mine_ids
    assert bureau_ids == mine_ids & led
    page = client.get("/missing?today=2024-07-28").get_data(as_text=True)
    assert f'/tasks/{env["task"]}"' not in page


def test_measures_led_is_one_number_on_units_page_and_dashboard(seeded):
    client = seeded.test_client()
    client.post("/login", data={"username": "dubanke", "password": PASSWORD})
    units = client.get("/admin/units").get_data(as_text=True)
    dash = client.get(f"/{T}&sort=name").get_data(as_text=True)
    with seeded.app_context():
        sfj = db.session.execute(select(Unit).where(Unit.short_name == "区司法局")).scalar_one()
        leaves = db.session.scalar(select(func.count()).select_from(TaskUnit).join(Task).where(
            TaskUnit.unit_id == sfj.id, TaskUnit.role == LEAD, Task.is_leaf.is_(True)))
    row = units[units.index(">区司法局<"):][:600]
    cells = re.findall(r'<td class="text-end">(\d+)</td>', row)
    assert int(cells[0]) == leaves
    dash_row = dash[dash.index(">区司法局<"):][:400]
    assert re.findall(r"<td[^>]*>(\d+)</td>", dash_row)[0] == str(leaves)


def test_unit_overdue_email_counts_and_lists_all_overdue_measures(seeded):
    from tracker.notify.reminders import build_reminders

    with seeded.app_context():
        jtj = unit_of("jtj")
        led = db.session.execute(select(Task).join(TaskUnit).where(
            TaskUnit.unit_id == jtj, TaskUnit.role == LEAD, Task.is_leaf.is_(True)).order_by(Task.id)).scalars().all()
        for t in led:
            t.deadline, t.deadline_text = date(2025, 12, 31), "2025年12月底前"
        led[0].deadline = date(2024, 6, 30)  # first overdue day 07-01: triggers the email
        led[1].deadline = date(2024, 6, 20)  # overdue since 06-21: not a repeat day on 07-01
        db.session.commit()
        build_reminders(date(2024, 7, 1))
        mail = db.session.execute(select(Notification).where(
            Notification.dedupe_key == f"unit:{jtj}:daily:2024-07-01")).scalar_one()
        assert "2项任务已逾期" in mail.subject
        assert led[0].title in mail.body_text and led[1].title in mail.body_text
