"""Recurring measures (SPEC 6.6): periods, lights per period, 销号 per period, a fresh period with its
own reminders, replayed with --today; the API fields and the period rules."""
from datetime import date

import pytest
from sqlalchemy import select

from tests.workflow import token_for
from tracker.extensions import db
from tracker.models import Notification, Task, TaskEvent
from tracker.rules.deadlines import Recurrence, read_deadline
from tracker.rules.periods import build_periods, current_period, label_cn, period_deadline, title_recurrence

MEASURE_4 = "组织开展“执法为民”主题实践活动和典型案例警示教育，每年至少开展1次"


def measure4(app):
    with app.app_context():
        return db.session.execute(select(Task.id).where(Task.title == MEASURE_4)).scalar_one()


def api_task(client, headers, task_id, today):
    tasks = client.get(f"/api/v1/tasks?today={today}", headers=headers).get_json()
    return next(t for t in tasks if t["id"] == task_id)


def sweep(runner, today):
    for command in ("check-overdue", "send-reminders"):
        result = runner.invoke(args=[command, "--today", today] + (["--no-deliver"] if command == "send-reminders" else []))
        assert result.exit_code == 0, result.output


def unit_mails(app, day):
    with app.app_context():
        return [n.body_text for n in db.session.execute(
            select(Notification).where(Notification.dedupe_key.like(f"unit:%:daily:{day}"))).scalars()]


def test_a_year_replayed(seeded, client, runner):
    task_id = measure4(seeded)
    headers = token_for(seeded, "dubanke")
    first = api_task(client, headers, task_id, "2024-09-01")
    assert first["recurrence"] == {"every": "year", "due": "10-31"}
    assert first["current_period"] == "2024"
    assert [(p["label"], p["deadline"], p["status"]) for p in first["periods"]] == [
        ("2024", "2024-10-31", "not_started"), ("2025", "2025-10-31", "not_started")]

    # Green, then yellow with a due-soon reminder, then red and flagged overdue.
    sweep(runner, "2024-09-01")
    assert api_task(client, headers, task_id, "2024-09-01")["light"] == "green"
    sweep(runner, "2024-10-16")
    assert api_task(client, headers, task_id, "2024-10-16")["light"] == "yellow"
    assert any("2024年周期：距完成时限还有15天" in body and "执法为民" in body for body in unit_mails(seeded, "2024-10-16"))
    sweep(runner, "2024-11-01")
    now = api_task(client, headers, task_id, "2024-11-01")
    assert (now["light"], now["overdue_days"]) == ("red", 1)
    assert [p["light"] for p in now["periods"]] == ["red", "green"]
    with seeded.app_context():
        assert db.session.get(Task, task_id).overdue_since == date(2024, 11, 1)

    # The bureau claims and approves (销号) the 2024 round.
    seeded.config["FIXED_TODAY"] = date(2024, 11, 4)  # writes use the app clock
    r = client.post(f"/api/v1/tasks/{task_id}/updates", headers=headers, json={
        "status": "pending_review", "progress": 100, "narrative": "2024年活动已开展", "version": now["version"]})
    assert r.status_code == 201, r.get_json()
    seeded.config["FIXED_TODAY"] = date(2024, 11, 5)  # writes use the app clock
    r = client.post(f"/api/v1/tasks/{task_id}/review", headers=headers,
                    json={"decision": "approve", "comment": "2024年度已完成"})
    assert r.status_code in (200, 201), r.get_json()
    done = api_task(client, headers, task_id, "2024-11-05")
    assert (done["status"], done["light"], done["current_period"]) == ("done", "done", "2024")
    assert [(p["label"], p["status"], p["light"]) for p in done["periods"]] == [
        ("2024", "done", "done"), ("2025", "not_started", "green")]
    sweep(runner, "2024-12-20")
    assert api_task(client, headers, task_id, "2024-12-20")["light"] == "done"

    # A fresh 2025 period: its own deadline, status, light and reminders.
    sweep(runner, "2025-01-01")
    fresh = api_task(client, headers, task_id, "2025-01-01")
    assert (fresh["current_period"], fresh["deadline"], fresh["status"], fresh["light"]) == (
        "2025", "2025-10-31", "not_started", "green")
    with seeded.app_context():
        task = db.session.get(Task, task_id)
        assert task.overdue_since is None and task.completed_on is None
        notes = [e.note for e in db.session.execute(select(TaskEvent).where(
            TaskEvent.task_id == task_id, TaskEvent.kind == "period")).scalars()]
        assert notes == ["进入2025年周期（上一周期：2024年）"]
    sweep(runner, "2025-10-16")
    assert api_task(client, headers, task_id, "2025-10-16")["light"] == "yellow"
    assert any("2025年周期：距完成时限还有15天" in body for body in unit_mails(seeded, "2025-10-16"))
    sweep(runner, "2025-11-01")
    late = api_task(client, headers, task_id, "2025-11-01")
    assert late["light"] == "red" and [p["light"] for p in late["periods"]] == ["done", "red"]


def test_an_unfinished_past_period_keeps_the_measure_overdue(seeded, client, runner):
    task_id = measure4(seeded)
    headers = token_for(seeded, "dubanke")
    sweep(runner, "2025-02-01")
    late = api_task(client, headers, task_id, "2025-02-01")
    assert (late["current_period"], late["light"], late["deadline"]) == ("2024", "red", "2024-10-31")
    assert [p["light"] for p in late["periods"]] == ["red", "green"]
    seeded.config["FIXED_TODAY"] = date(2025, 2, 2)  # writes use the app clock
    r = client.post(f"/api/v1/tasks/{task_id}/updates", headers=headers, json={
        "status": "pending_review", "progress": 100, "narrative": "补开展", "version": late["version"]})
    assert r.status_code == 201
    seeded.config["FIXED_TODAY"] = date(2025, 2, 2)  # writes use the app clock
    assert client.post(f"/api/v1/tasks/{task_id}/review", headers=headers,
                       json={"decision": "approve"}).status_code in (200, 201)
    # 2025 had already started: the measure moves on at once.
    now = api_task(client, headers, task_id, "2025-02-02")
    assert (now["current_period"], now["status"], now["light"]) == ("2025", "not_started", "green")


def test_non_recurring_tasks_have_null_fields(seeded, client):
    headers = token_for(seeded, "dubanke")
    tasks = client.get("/api/v1/tasks?today=2024-07-01&level=3", headers=headers).get_json()
    task = next(t for t in tasks if t["code"] == "3")
    assert (task["recurrence"], task["periods"], task["current_period"]) == (None, [], None)
    assert sum(1 for t in tasks if t["recurrence"]) >= 3


@pytest.mark.parametrize("text, every, span, labels, deadlines", [
    ("每年12月底前", "year", (date(2023, 11, 1), date(2025, 12, 31)), ["2023", "2024", "2025"],
     [date(2023, 12, 31), date(2024, 12, 31), date(2025, 12, 31)]),
    ("每半年", "half", (date(2024, 1, 1), date(2024, 12, 31)), ["2024-H1", "2024-H2"],
     [date(2024, 6, 30), date(2024, 12, 31)]),
    ("每季度末", "quarter", (date(2024, 1, 1), date(2024, 12, 31)), ["2024-Q1", "2024-Q2", "2024-Q3", "2024-Q4"],
     [date(2024, 3, 31), date(2024, 6, 30), date(2024, 9, 30), date(2024, 12, 31)]),
    ("每月25日前", "month", (date(2024, 1, 1), date(2024, 3, 31)), ["2024-01", "2024-02", "2024-03"],
     [date(2024, 1, 25), date(2024, 2, 25), date(2024, 3, 25)]),
    ("每月", "month", (date(2024, 1, 1), date(2024, 2, 28)), ["2024-01", "2024-02"],
     [date(2024, 1, 31), date(2024, 2, 29)]),
])
def test_periods_cover_the_span(text, every, span, labels, deadlines):
    periods = build_periods(read_deadline(text).recurrence, *span)
    assert [p.label for p in periods] == labels and [p.deadline for p in periods] == deadlines


def test_title_recurrence_and_labels():
    reading = read_deadline("2024年10月")
    assert title_recurrence(MEASURE_4, reading) == Recurrence("year", "10-31")
    assert title_recurrence("每季度至少开展1次专项检查", read_deadline("2024年5月15日")) == Recurrence("quarter", "02-15")
    assert title_recurrence("制定实施办法", reading) is None
    assert title_recurrence(MEASURE_4, read_deadline("长期坚持")) is None
    assert period_deadline(date(2024, 1, 1), Recurrence("year", "02-28")) == date(2024, 2, 29)
    assert [label_cn(x) for x in ("2024", "2024-H2", "2024-Q3", "2024-05")] == [
        "2024年", "2024年下半年", "2024年第三季度", "2024年5月"]


class P:
    def __init__(self, label, start, status):
        self.label, self.start, self.status, self.deadline, self.claimed_on = label, start, status, start, None


def test_current_period_rule():
    ps = [P("2024", date(2024, 1, 1), "done"), P("2025", date(2025, 1, 1), "not_started")]
    assert current_period(ps, date(2023, 6, 1)).label == "2024"     # nothing started: the first
    assert current_period(ps, date(2024, 12, 1)).label == "2024"    # done, next not started
    assert current_period(ps, date(2025, 1, 1)).label == "2025"
    ps[0].status = "in_progress"
    assert current_period(ps, date(2025, 6, 1)).label == "2024"     # an unfinished past period first


def _recurring_of(app, plan_title=None):
    from tracker.models import Plan
    with app.app_context():
        stmt = select(Task).join(Plan).where(Task.recurrence_every != "").order_by(Task.id)
        if plan_title:
            stmt = stmt.where(Plan.title == plan_title)
        else:
            stmt = stmt.where(Plan.id == db.session.execute(select(Plan.id).order_by(Plan.id)).scalars().first())
        return [(t.code, t.title, t.recurrence_every, t.recurrence_due,
                 [(p.label, p.deadline) for p in t.periods]) for t in db.session.execute(stmt).scalars()]


def test_excel_export_and_import_round_trip_the_recurrence(seeded, runner, tmp_path):
    original = _recurring_of(seeded)
    assert len(original) >= 2 and any(t[1] == MEASURE_4 for t in original)
    path = tmp_path / "ref.xlsx"
    assert runner.invoke(args=["export-ledger", str(path), "--today", "2024-07-01"]).exit_code == 0
    result = runner.invoke(args=["import-plan", str(path), "--title", "副本"])
    assert result.exit_code == 0, result.output
    assert _recurring_of(seeded, "副本") == original


def test_task_page_shows_period_cards_and_ledger_the_current_period(seeded, client, auth, runner):
    task_id = measure4(seeded)
    sweep(runner, "2024-11-01")
    auth.login("dubanke")
    html = client.get(f"/tasks/{task_id}?today=2024-11-01").get_data(as_text=True)
    assert html.count('class="card period-card') == 2
    assert "2024年" in html and "（当前）" in html and "2025-10-31" in html
    headers = token_for(seeded, "dubanke")
    version = api_task(client, headers, task_id, "2024-11-01")["version"]
    seeded.config["FIXED_TODAY"] = date(2024, 11, 2)  # writes use the app clock
    assert client.post(f"/api/v1/tasks/{task_id}/updates", headers=headers, json={
        "status": "in_progress", "progress": 50, "narrative": "筹备中", "version": version}).status_code == 201
    html = client.get(f"/tasks/{task_id}?today=2024-11-02").get_data(as_text=True)
    assert '<span class="task-period">2024年周期</span>' in html
    ledger = client.get("/ledger?today=2024-11-01").get_data(as_text=True)
    assert "2024年 · 0/1 年度" in ledger
    ledger = client.get("/ledger?today=2025-03-01").get_data(as_text=True)
    assert "2024年 · 0/2 年度" in ledger  # 2024 still open: it stays current (and red)


def test_an_extension_belongs_to_its_period(seeded, client, runner):
    """A deadline moved for the 2024 period does not carry over to the 2025 period (SPEC 6.1 with 6.6)."""
    from tracker.models import User
    from tracker.reporting.extensions import set_deadline

    task_id = measure4(seeded)
    headers = token_for(seeded, "dubanke")
    sweep(runner, "2024-10-20")
    with seeded.app_context():
        bureau = db.session.execute(select(User).where(User.username == "dubanke")).scalar_one()
        set_deadline(task_id, bureau, {"new_deadline": "2024-12-15", "reason": "活动延至年底"}, date(2024, 10, 20))
    moved = api_task(client, headers, task_id, "2024-11-01")
    assert (moved["current_period"], moved["deadline"], moved["original_deadline"], moved["light"]) == (
        "2024", "2024-12-15", "2024-10-31", "green")
    sweep(runner, "2025-01-01")  # 2024 still open: it stays current, overdue against its extended date
    assert api_task(client, headers, task_id, "2025-01-01")["overdue_days"] == 17
    with seeded.app_context():
        version = db.session.get(Task, task_id).version
    seeded.config["FIXED_TODAY"] = date(2025, 1, 2)  # writes use the app clock
    assert client.post(f"/api/v1/tasks/{task_id}/updates", headers=headers, json={
        "status": "pending_review", "progress": 100, "narrative": "已开展", "version": version}).status_code == 201
    assert client.post(f"/api/v1/tasks/{task_id}/review", headers=headers,
                       json={"decision": "approve"}).status_code in (200, 201)
    fresh = api_task(client, headers, task_id, "2025-01-02")
    assert (fresh["current_period"], fresh["deadline"], fresh["original_deadline"], fresh["extension_state"]) == (
        "2025", "2025-10-31", "2025-10-31", None)
