"""The bureau's lists: 逾期清单 (filters, Excel export, 催办), 未报送, the outbox page; access rules."""
from datetime import date
from io import BytesIO

from openpyxl import load_workbook
from sqlalchemy import func, select

from tests.conftest import csrf_token_from, make_app
from tests.queries import count_statements
from tracker.extensions import db
from tracker.models import AuditLog, Notification, ProgressUpdate, Task, TaskEvent, Unit
from tracker.operations.seed import seed

T = "today=2024-07-01"


def _unit(name):
    return db.session.execute(select(Unit).where(Unit.short_name == name)).scalar_one()


def _overdue_count(today=date(2024, 7, 1)):
    return db.session.scalar(select(func.count()).where(Task.is_leaf.is_(True), Task.deadline < today,
                                                        Task.status != "done"))


def test_access_rules(seeded, client, auth):
    auth.login("jtj")
    for url in ("/overdue", "/missing", "/outbox", "/overdue/export.xlsx"):
        assert client.get(url).status_code == 403, url
    assert client.post("/overdue/urge", data={"task_id": "1"}).status_code == 403
    auth.logout()
    auth.login("leader")  # viewer: reads the lists, cannot urge or see the outbox
    assert client.get(f"/overdue?{T}").status_code == 200
    assert client.get(f"/missing?{T}").status_code == 200
    assert "催办</button>" not in client.get(f"/overdue?{T}").text
    assert client.post("/overdue/urge", data={"task_id": "1"}).status_code == 403
    assert client.get("/outbox").status_code == 403
    auth.logout()
    assert client.get("/overdue").status_code in (302, 401)


def test_overdue_list_filters_and_export(seeded, client, auth):
    auth.login("dubanke")
    page = client.get(f"/overdue?{T}")
    assert page.status_code == 200 and "逾期清单" in page.text
    with seeded.app_context():
        total = _overdue_count()
        jtj = _unit("区交通局")
        jtj_tasks = [t for t in db.session.execute(select(Task).where(Task.is_leaf.is_(True), Task.deadline < date(2024, 7, 1))).scalars()
                     if any(link.unit_id == jtj.id for link in t.unit_links)]
        old = db.session.execute(select(Task).where(Task.deadline == date(2023, 11, 30))).scalars().first()
    assert f"共 {total} 项逾期具体举措" in page.text
    assert "214天" in page.text and old.title in page.text
    only = client.get(f"/overdue?{T}&unit={jtj.id}")
    assert f"共 {len(jtj_tasks)} 项" in only.text and "牵头的全部逾期任务" in only.text
    assert client.get(f"/overdue?{T}&unit=区交通局").status_code == 200
    long = client.get(f"/overdue?{T}&min_days=100")
    assert "214天" in long.text and "1天</td>" not in long.text
    assert client.get(f"/overdue?{T}&min_days=abc").status_code == 422
    assert client.get(f"/overdue?{T}&unit=不存在").status_code == 422
    assert client.get("/overdue?today=2024-02-30").status_code == 422

    export = client.get(f"/overdue/export.xlsx?{T}&min_days=100")
    assert export.status_code == 200 and export.mimetype.endswith("spreadsheetml.sheet")
    ws = load_workbook(BytesIO(export.data)).active
    assert ws["A2"].value == "序号" and ws["H2"].value == "逾期天数"
    data_rows = list(ws.iter_rows(min_row=3, values_only=True))
    assert data_rows and all(r[7] >= 100 for r in data_rows)
    assert data_rows[0][1] == old.title and data_rows[0][7] == 214
    assert ws.freeze_panes == "A3"


def test_overdue_list_first_level_filter(seeded, client, auth):
    auth.login("admin")
    with seeded.app_context():
        old = db.session.execute(select(Task).where(Task.deadline == date(2023, 11, 30))).scalars().first()
        root = old
        while root.parent is not None:
            root = root.parent
        root_id = root.id
    page = client.get(f"/overdue?{T}&task={root_id}")
    assert page.status_code == 200 and old.title in page.text
    # Every row belongs to that first-level task.
    assert page.text.count(f"{root.code} {root.title}") >= 1


def test_urge_one_measure_and_double_click(seeded, client, auth):
    auth.login("dubanke")
    with seeded.app_context():
        task = db.session.execute(select(Task).where(Task.deadline == date(2024, 6, 30), Task.code == "13")).scalar_one()
        task_id = task.id
    data = {"task_id": str(task_id), "note": "<b>请本周内完成</b>"}
    first = client.post(f"/overdue/urge?{T}", data=data, follow_redirects=True)
    assert first.status_code == 200 and "催办邮件已加入发送队列：区司法局" in first.text
    second = client.post(f"/overdue/urge?{T}", data=data, follow_redirects=True)
    assert "今日已向 区司法局 催办过" in second.text
    with seeded.app_context():
        rows = db.session.execute(select(Notification)).scalars().all()
        assert len(rows) == 1
        n = rows[0]
        assert n.dedupe_key == f"urge:task:{task_id}:unit:{_unit('区司法局').id}:2024-07-01"
        assert n.subject == "【催办】区司法局：请尽快办理1项逾期任务"
        assert n.recipients == "sfj@tjbd.example.cn;sfjzfjdk@tjbd.example.cn"
        assert "&lt;b&gt;请本周内完成&lt;/b&gt;" in n.body_html and "<b>请本周内完成" not in n.body_html
        events = db.session.execute(select(TaskEvent).where(TaskEvent.kind == "urge")).scalars().all()
        assert [(e.task_id, e.event_date) for e in events] == [(task_id, date(2024, 7, 1))]
        assert "请本周内完成" in events[0].note
        assert db.session.scalar(select(func.count()).where(AuditLog.action == "urge")) == 1
    # The next day (by the app's clock; ``?today=`` is not honoured on a write) a new urge is allowed.
    seeded.config["FIXED_TODAY"] = date(2024, 7, 2)
    client.post("/overdue/urge", data=data)
    with seeded.app_context():
        assert db.session.scalar(select(func.count(Notification.id))) == 2


def test_urge_email_text_whole(seeded, client, auth):
    """The urge e-mail's text, line by line (composed once in notify/compose.py, laid out by templates/email/)."""
    auth.login("dubanke")
    with seeded.app_context():
        task = db.session.execute(select(Task).where(Task.deadline == date(2024, 6, 30), Task.code == "13")).scalar_one()
        task_id, title = task.id, task.title
    client.post(f"/overdue/urge?{T}", data={"task_id": str(task_id), "note": "请本周内完成"})
    with seeded.app_context():
        n = db.session.execute(select(Notification)).scalar_one()
        assert n.body_text == (
            "天津市宝坻区司法局联络员：\n\n"
            "区司法局督办提醒（催办）：以下事项已逾期或亟需推进，请尽快办理并在系统中报送进展。\n\n"
            "督办意见：请本周内完成\n\n"
            f"  1. 13 {title}\n"
            "     完成时限：2024年6月底前；已逾期1天\n"
            f"     查看：http://127.0.0.1:5000/tasks/{task_id}\n\n"
            "催办人：区司法局督办科（2024-07-01）\n"
            "行动计划督办台账")


def test_urge_all_overdue_of_a_unit(seeded, client, auth):
    auth.login("dubanke")
    with seeded.app_context():
        scj = _unit("区市场监管局")
        led = [t for t in db.session.execute(select(Task).where(Task.is_leaf.is_(True), Task.deadline < date(2024, 7, 1))).scalars()
               if scj in t.lead_units]
        scj_id = scj.id
    resp = client.post(f"/overdue/urge?{T}", data={"unit_id": str(scj_id), "confirmed": "1"}, follow_redirects=True)
    assert f"（{len(led)}项任务" in resp.text
    with seeded.app_context():
        n = db.session.execute(select(Notification)).scalar_one()
        assert n.dedupe_key == f"urge:unit:{scj_id}:2024-07-01"
        assert all(t.title in n.body_text for t in led)
        assert db.session.scalar(select(func.count()).where(TaskEvent.kind == "urge")) == len(led)


def test_urge_bad_input_is_a_message(seeded, client, auth):
    auth.login("dubanke")
    with seeded.app_context():
        unit = _unit("大口屯镇")
        unit.emails = ""
        db.session.commit()
        unit_id = unit.id
        done = db.session.execute(select(Task).where(Task.is_leaf.is_(True)).limit(1)).scalar_one()
        done.status = "done"
        db.session.commit()
        done_id = done.id
    cases = [({"unit_id": str(unit_id), "confirmed": "1"}, "未设置联络邮箱"), ({"task_id": str(done_id)}, "已销号"),
             ({"task_id": "999999"}, "未找到"), ({"task_id": "abc"}, "催办任务应为整数"), ({}, "请选择催办的任务或单位")]
    for data, message in cases:
        resp = client.post(f"/overdue/urge?{T}", data=data, follow_redirects=True)
        assert resp.status_code in (200, 404), data
        assert message in resp.text, (data, message)
    with seeded.app_context():
        assert db.session.scalar(select(func.count(Notification.id))) == 0


def test_urge_needs_csrf(tmp_path, monkeypatch):
    app = make_app(tmp_path, monkeypatch, WTF_CSRF_ENABLED=True)
    with app.app_context():
        seed()
    client = app.test_client()
    page = client.get("/login")
    client.post("/login", data={"username": "dubanke", "password": "demo1234", "csrf_token": csrf_token_from(page.text)})
    assert client.post(f"/overdue/urge?{T}", data={"task_id": "1"}).status_code == 400
    listing = client.get(f"/overdue?{T}")
    token = csrf_token_from(listing.text)
    with app.app_context():
        task_id = db.session.execute(select(Task.id).where(Task.deadline == date(2024, 6, 30))).scalars().first()
    resp = client.post(f"/overdue/urge?{T}", data={"task_id": str(task_id), "csrf_token": token}, follow_redirects=True)
    assert "催办邮件已加入发送队列" in resp.text


def test_missing_reports_per_month(seeded, client, auth):
    auth.login("dubanke")
    with seeded.app_context():
        jtj = _unit("区交通局")
        led = [t for t in db.session.execute(select(Task).where(Task.is_leaf.is_(True))).scalars() if jtj in t.lead_units]
        # 区交通局 reported June for all its measures.
        for t in led:
            db.session.add(ProgressUpdate(task_id=t.id, unit_id=jtj.id, report_date=date(2024, 6, 22), period="2024-06",
                                          status="in_progress", progress=10))
            t.last_report_period = "2024-06"
        db.session.commit()
        title = led[0].title
    june = client.get("/missing?period=2024-06&today=2024-06-28")
    assert june.status_code == 200 and "2024-06" in june.text
    assert "区交通局</td>" not in june.text and "区司法局</td>" in june.text
    may = client.get("/missing?period=2024-05&today=2024-06-28")
    assert "区交通局</td>" in may.text and title in may.text
    current = client.get("/missing?today=2024-07-10")
    assert "2024-07" in current.text and "尚未到期" in current.text
    assert client.get("/missing?period=2024-13").status_code == 422
    assert client.get("/missing?period=June").status_code == 422


def test_outbox_filters(seeded, client, auth):
    from tracker.notify.reminders import send_reminders

    with seeded.app_context():
        send_reminders(date(2024, 7, 1), deliver=False)
    auth.login("dubanke")
    page = client.get("/outbox")
    assert page.status_code == 200 and "【督办日报】2024-07-01" in page.text and "待发送" in page.text
    digest_only = client.get("/outbox?kind=bureau_digest")
    assert "【督办日报】" in digest_only.text and "【逾期提醒】" not in digest_only.text
    assert "【逾期提醒】区交通局" in client.get("/outbox?q=区交通局").text
    assert client.get("/outbox?state=lost").status_code == 422
    with seeded.app_context():
        n_id = db.session.execute(select(Notification.id).where(Notification.kind == "bureau_digest")).scalar_one()
    detail = client.get(f"/outbox/{n_id}")
    assert detail.status_code == 200 and "bureau:digest:2024-07-01" in detail.text
    assert client.get("/outbox/999999").status_code == 404


def test_lists_run_a_fixed_number_of_queries(seeded, client, auth):
    auth.login("dubanke")
    result = {url: count_statements(seeded, client, url)
              for url in ("/overdue?today=2024-01-15", "/overdue?today=2025-12-31",
                          "/missing?period=2024-06&today=2024-06-30", "/missing?period=2025-12&today=2025-12-31")}
    assert result["/overdue?today=2024-01-15"] == result["/overdue?today=2025-12-31"], result
    assert result["/missing?period=2024-06&today=2024-06-30"] == result["/missing?period=2025-12&today=2025-12-31"]
