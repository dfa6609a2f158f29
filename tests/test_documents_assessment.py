"""Assessment (考核) figures from hand-built histories, replayed; the API, the page, the weights."""
from __future__ import annotations

from datetime import date

import pytest

from tests import documents_history as H
from tracker.documents.assessment import ExtensionCounts, Weights, assess
from tracker.documents.periods import parse_period
from tracker.documents.service import assess_period, load_plan_data, resolve
from tracker.errors import Invalid
from tracker.extensions import db
from tracker.models import AuditLog

APRIL = date(2024, 4, 10)


@pytest.fixture
def history(app):
    with app.app_context():
        ids = H.build_plan()
        H.run(ids)
    return ids


def table(app, period: str, today: date) -> list[dict]:
    with app.app_context():
        plan, p = resolve(None, period)
        return [r.as_dict() for r in assess_period(load_plan_data(plan), p, today).units]


def by_unit(rows):
    return {r["unit"]: r for r in rows}


def test_quarter_figures_match_the_hand_built_history(app, history):
    rows = by_unit(table(app, "2024Q1", APRIL))
    a, b, c, d = rows["甲局"], rows["乙局"], rows["丙镇"], rows["丁局"]
    # 甲局: m1 on time, m2 late (claimed after its deadline) with one return; Feb report of m2 missing.
    assert (a["measures"], a["completed"], a["completed_on_time"], a["overdue"], a["returns"]) == (2, 2, 1, 0, 1)
    assert (a["reports_due"], a["reports_filed"], a["reports_on_time"], a["reports_missing"]) == (6, 5, 4, 1)
    assert a["score"] == 68.0  # 40×1/2 + 30×4/6 + 30×(1−0) − 2×1
    # 乙局: m3 overdue since Feb 15 (45 days on Mar 31), reported once; m4 ongoing, never overdue.
    assert (b["measures"], b["completed"], b["overdue"], b["overdue_days"]) == (2, 0, 1, 45)
    assert (b["reports_due"], b["reports_filed"], b["reports_on_time"], b["reports_missing"]) == (6, 4, 4, 2)
    assert b["score"] == 75.0  # 40×(none → 1) + 30×4/6 + 30×(1−1/2)
    # 丙镇 reported every month; the co-operating 甲局 is not charged with m5.
    assert (c["measures"], c["reports_due"], c["reports_on_time"], c["score"]) == (1, 3, 3, 100.0)
    # 丁局: awaiting review since December — nothing due in the quarter.
    assert (d["measures"], d["reports_due"], d["completed"], d["overdue"], d["score"]) == (1, 0, 0, 0, 100.0)
    # Ties share a rank, the next rank skips (1, 1, 3, 4).
    assert [(r["unit"], r["rank"]) for r in table(app, "2024Q1", APRIL)] == [
        ("丙镇", 1), ("丁局", 1), ("乙局", 3), ("甲局", 4)]


def test_months_and_original_deadline(app, history):
    feb = by_unit(table(app, "2024-02", APRIL))
    assert feb["甲局"]["reports_missing"] == 1 and feb["甲局"]["completed"] == 0
    assert feb["乙局"]["overdue"] == 1 and feb["乙局"]["overdue_days"] == 14  # Feb 29 − Feb 15
    march = by_unit(table(app, "2024-03", APRIL))
    assert march["甲局"]["completed"] == 2 and march["甲局"]["completed_on_time"] == 1
    assert march["甲局"]["returns"] == 1 and march["乙局"]["overdue_days"] == 45


def test_replaying_the_journal_gives_the_same_tables(app):
    """Each month's table computed at its end, during the history, equals the one computed later."""
    snapshots = {}
    with app.app_context():
        ids = H.build_plan()

        def snap(month_end: date) -> None:
            label = f"{month_end.year:04d}-{month_end.month:02d}"
            snapshots[label] = table(app, label, month_end)
            snapshots[label + "Q"] = table(app, "2024Q1", month_end)

        H.run(ids, on_day=snap)
    assert len(snapshots) == 6
    for label in ("2024-01", "2024-02", "2024-03"):
        assert table(app, label, APRIL) == snapshots[label], label
        assert table(app, label, date(2025, 6, 1)) == snapshots[label], label
    assert table(app, "2024Q1", APRIL) == snapshots["2024-03Q"]
    # A running period is taken as of today: the quarter at the end of January is January's figures.
    assert by_unit(snapshots["2024-01Q"])["甲局"]["reports_due"] == 2


def test_extensions_are_counted_and_weighted(app, history):
    with app.app_context():
        plan, period = resolve(None, "2024Q1")
        data = load_plan_data(plan)
        m5 = history["m5"]
        plain = assess(period, data.tasks, data.journal, APRIL, Weights(), plan_start=plan.start_date)
        extended = assess(period, data.tasks, data.journal, APRIL, Weights(), plan_start=plan.start_date,
                          extensions={m5: ExtensionCounts(requested=2, granted=1)})
    c0, c1 = by_unit([r.as_dict() for r in plain.units])["丙镇"], by_unit([r.as_dict() for r in extended.units])["丙镇"]
    assert (c1["extensions_requested"], c1["extensions_granted"]) == (2, 1)
    assert c1["score"] == c0["score"] - 1


@pytest.mark.parametrize("text, message", [
    ("2024-13", "月份应为 01–12"), ("2024Q5", "季度应为 Q1–Q4"), ("24-1", "格式"), ("", "请填写")])
def test_bad_periods_are_refused(text, message):
    with pytest.raises(Invalid) as err:
        parse_period(text)
    assert message in err.value.errors["period"][0]


def test_cli_assessment_and_bad_periods(app, history, tmp_path):
    runner = app.test_cli_runner()
    out = tmp_path / "a.xlsx"
    result = runner.invoke(args=["report", "assessment", "--period", "2024Q1", str(out), "--today", "2024-04-10"])
    assert result.exit_code == 0, result.output
    from openpyxl import load_workbook

    ws = load_workbook(out).active
    rows = {ws.cell(row=r, column=2).value: [c.value for c in ws[r]] for r in range(3, ws.max_row + 1)
            if isinstance(ws.cell(row=r, column=1).value, int)}
    assert rows["甲局"][0] == 4 and rows["甲局"][-1] == 68.0 and ws.cell(row=3, column=2).data_type == "s"
    for bad, needle in (("2024-13", "月份应为"), ("2024Q5", "季度应为"), ("2031", "不在计划")):
        result = runner.invoke(args=["report", "assessment", "--period", bad, str(tmp_path / "x.xlsx")])
        assert result.exit_code == 1, (bad, result.output)
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("错误：") and needle in lines[0], (bad, result.output)
    assert not (tmp_path / "x.xlsx").exists()


def login(client, username: str):
    assert client.post("/login", data={"username": username, "password": "demo12345"}).status_code == 302


def test_api_shape_permissions_and_errors(app, history, client):
    login(client, "boss")
    body = client.get("/api/v1/assessment?period=2024Q1&today=2024-04-10").get_json()
    assert body["period"] == "2024Q1" and "formula" in body["rules"] and body["rules"]["weights"]["on_time"] == 40
    first = body["units"][0]
    assert {"unit", "score", "rank", "measures", "completed", "completed_on_time", "overdue", "overdue_days",
            "reports_due", "reports_on_time", "returns", "extensions_granted"} <= set(first)
    assert by_unit(body["units"])["甲局"]["score"] == 68.0
    for bad in ("2024-13", "2024Q5", "2031", ""):
        r = client.get(f"/api/v1/assessment?period={bad}")
        assert r.status_code == 422 and r.get_json()["errors"]["period"], bad
    client.post("/logout")
    login(client, "u_jia")
    assert client.get("/api/v1/assessment?period=2024").status_code == 403


def test_page_sorting_field_errors_and_roles(app, history, client):
    login(client, "watcher")
    html = client.get("/reports?period=2024Q1&today=2024-04-10").get_data(as_text=True)
    assert "2024年第一季度考核" in html and "计分方法" in html and "<svg" in html
    assert html.index('data-unit="丙镇"') < html.index('data-unit="甲局"')  # by rank
    html = client.get("/reports?period=2024Q1&today=2024-04-10&sort=overdue_days&dir=desc").get_data(as_text=True)
    assert html.index('data-unit="乙局"') < html.index('data-unit="丙镇"')
    for bad, needle in (("2024-13", "月份应为"), ("2024Q5", "季度应为"), ("2031", "不在计划")):
        html = client.get(f"/reports?period={bad}").get_data(as_text=True)
        assert 'data-error="period"' in html and needle in html, bad
    assert "保存权重" not in html  # only admins edit weights
    client.post("/logout")
    login(client, "u_jia")
    assert client.get("/reports").status_code == 403
    assert client.get("/reports/assessment.xlsx?period=2024").status_code == 403


def test_admin_changes_weights(app, history, client):
    with app.app_context():
        from tracker.accounts.users import create_user

        create_user("root", "admin", "demo12345")
        db.session.commit()
    login(client, "boss")
    assert client.post("/reports/weights", data={"on_time": "50"}).status_code == 403
    client.post("/logout")
    login(client, "root")
    bad = client.post("/reports/weights", data={"on_time": "50", "reporting": "30", "overdue": "30",
                                                 "per_return": "x", "per_extension": "1"})
    assert bad.status_code == 422 and "每次退回扣分应为" in bad.get_data(as_text=True)
    assert "三项比率权重之和应为 100" in bad.get_data(as_text=True)
    ok = client.post("/reports/weights", data={"on_time": "50", "reporting": "30", "overdue": "20",
                                                "per_return": "5", "per_extension": "0"})
    assert ok.status_code == 302
    rows = by_unit(client.get("/api/v1/assessment?period=2024Q1&today=2024-04-10").get_json()["units"])
    assert rows["甲局"]["score"] == 60.0  # 50×1/2 + 30×4/6 + 20 − 5
    assert "50×按期完成率" in client.get("/reports?period=2024Q1").get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(db.select(AuditLog).where(AuditLog.action == "assessment_weights")).scalar_one()
