"""Dashboard (总览): totals and lights, first-level progress, unit ranking, charts, unit users."""
import re
from datetime import date, datetime

from sqlalchemy import select

from tracker.extensions import db
from tracker.models import LEAD, ProgressUpdate, Task, TaskUnit, Unit, User
from tracker.plans.tasks import get_plan, load_plan_view
from tracker.rules.lights import LightRules

from .conftest import TODAY


def ranking_rows(html):
    body = html.split('class="table table-sm table-hover unit-ranking"')[1].split("</tbody>")[0]
    rows = []
    for tr in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", tr, re.S)]
        if cells:
            rows.append(cells)
    return rows


def expected_counts(app, user_name="admin"):
    with app.app_context():
        user = db.session.execute(select(User).where(User.username == user_name)).scalar_one()
        view = load_plan_view(get_plan(None), user, TODAY, LightRules())
        counts = {"red": 0, "yellow": 0, "green": 0, "done": 0}
        for t in view.tasks:
            if t.is_leaf:
                counts[view.states[t.id].light] += 1
        return counts


def test_dashboard_totals_and_first_level_progress(seeded, client, auth):
    auth.login("leader")
    html = client.get(f"/?today={TODAY}").get_data(as_text=True)
    assert re.search(r"data-total>92<", html)
    for light, n in expected_counts(seeded).items():
        assert f'data-light-count="{light}">{n}<' in html
    assert html.count('href="/ledger?task=') == 20
    assert "总体进度" in html and "完成率" in html


def test_ranking_sorts_by_each_column(seeded, client, auth):
    auth.login("dubanke")
    columns = {"measures": 1, "done": 2, "overdue": 3, "due_soon": 4, "missing": 6}
    for key, index in columns.items():
        for direction in ("desc", "asc"):
            rows = ranking_rows(client.get(f"/?today={TODAY}&sort={key}&dir={direction}").get_data(as_text=True))
            values = [int(r[index]) for r in rows]
            assert values == sorted(values, reverse=direction == "desc"), (key, direction)
    rows = ranking_rows(client.get(f"/?today={TODAY}&sort=rate&dir=desc").get_data(as_text=True))
    rates = [int(r[5].rstrip("%")) for r in rows]
    assert rates == sorted(rates, reverse=True)
    # Unknown sort key falls back, never a 500.
    assert client.get(f"/?today={TODAY}&sort=drop%20table&dir=x").status_code == 200
    with seeded.app_context():
        led = db.session.execute(select(TaskUnit).join(Task).where(TaskUnit.role == LEAD, Task.is_leaf)).scalars().all()
        leads = {link.unit_id for link in led}
    assert len(rows) == len(leads)
    assert sum(int(r[1]) for r in rows) == len(led)


def test_reports_missing_this_month(seeded, client, auth):
    auth.login("admin")
    late = date(2024, 7, 26)  # after the report due day (25th)
    with seeded.app_context():
        sfj = db.session.execute(select(Unit).where(Unit.short_name == "区司法局")).scalar_one()
        led = db.session.execute(
            select(Task).join(TaskUnit).where(TaskUnit.unit_id == sfj.id, TaskUnit.role == LEAD, Task.is_leaf)
        ).scalars().all()
        for task in led[:2]:
            task.last_report_period = "2024-07"
        db.session.commit()
        open_led = len(led)
    rows = {r[0]: r for r in ranking_rows(client.get(f"/?today={late}&sort=name").get_data(as_text=True))}
    assert int(rows["区司法局"][6]) == open_led - 2
    # Before the due day nothing is missing yet.
    rows = {r[0]: r for r in ranking_rows(client.get(f"/?today={TODAY}").get_data(as_text=True))}
    assert int(rows["区司法局"][6]) == 0


def test_completion_chart_from_progress_updates(seeded, client, auth):
    auth.login("admin")
    html = client.get(f"/?today={TODAY}").get_data(as_text=True)
    assert "暂无进展报送数据" in html or "累计 0 项" in html
    with seeded.app_context():
        tasks = db.session.execute(select(Task).where(Task.is_leaf).order_by(Task.id).limit(3)).scalars().all()
        for task, period, status, progress in ((tasks[0], "2024-03", "pending_review", 100),
                                               (tasks[1], "2024-05", "in_progress", 100),
                                               (tasks[2], "2024-05", "in_progress", 50)):
            db.session.add(ProgressUpdate(task_id=task.id, period=period, status=status, progress=progress,
                                          report_date=date(int(period[:4]), int(period[5:]), 20),
                                          created_at=datetime(2024, 5, 20)))
        # A later report of the same task does not count twice.
        db.session.add(ProgressUpdate(task_id=tasks[0].id, period="2024-06", status="done", progress=100,
                                      report_date=date(2024, 6, 20)))
        db.session.commit()
    html = client.get(f"/?today={TODAY}").get_data(as_text=True)
    assert 'class="chart chart-line"' in html
    assert "2024-02：累计 0 项" in html
    assert "2024-03：累计 1 项" in html and "2024-05：累计 2 项" in html and "2024-07：累计 2 项" in html


def test_overdue_bar_chart_matches_ranking(seeded, client, auth):
    auth.login("admin")
    html = client.get(f"/?today={TODAY}").get_data(as_text=True)
    rows = ranking_rows(html)
    overdue = {r[0]: int(r[3]) for r in rows if int(r[3])}
    bars = dict((name, int(n)) for name, n in re.findall(r"<title>([^<：]+)：逾期 (\d+) 项</title>", html))
    if overdue:
        assert 'class="chart chart-bars"' in html
        assert bars == dict(sorted(overdue.items(), key=lambda kv: -kv[1])[:15]) or bars.items() <= overdue.items()
    else:
        assert "当前没有逾期事项" in html
    late = client.get("/?today=2026-01-01").get_data(as_text=True)
    assert 'class="chart chart-bars"' in late


def test_unit_user_sees_own_unit(seeded, client, auth):
    auth.login("sfj")
    html = client.get(f"/?today={TODAY}").get_data(as_text=True)
    rows = ranking_rows(html)
    assert [r[0] for r in rows] == ["区司法局"]
    with seeded.app_context():
        sfj = db.session.execute(select(Unit).where(Unit.short_name == "区司法局")).scalar_one()
        own = db.session.execute(
            select(Task.id).join(TaskUnit).where(TaskUnit.unit_id == sfj.id, Task.is_leaf).distinct()
        ).scalars().all()
    assert re.search(rf"data-total>{len(own)}<", html)
    assert "仅显示本单位负责的具体举措" in html


def test_dashboard_bad_today_is_not_500(seeded, client, auth):
    auth.login("admin")
    assert client.get("/?today=2024-02-30").status_code == 422
    assert client.get("/?plan=999").status_code == 404
