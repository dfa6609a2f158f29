"""Journeys of issue 11: a liaison asks for more time, the bureau approves, the liaison's to-do and the
ledger show it; the bureau returns a claim and the liaison's landing page shows it first, with the comment."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from tracker.extensions import db
from tracker.models import LEAD, Task, TaskUnit, Unit

from .conftest import PHONE, login


def _jtj_measure(app, deadline: date, text: str) -> tuple[int, str]:
    """A measure led by 区交通局 alone, given a deadline for the journey."""
    with app.app_context():
        jtj = db.session.execute(select(Unit).where(Unit.short_name == "区交通局")).scalar_one()
        tasks = db.session.execute(select(Task).join(TaskUnit).where(
            TaskUnit.unit_id == jtj.id, TaskUnit.role == LEAD, Task.is_leaf.is_(True)).order_by(Task.id)).scalars()
        task = next(t for t in tasks if [u.id for u in t.lead_units] == [jtj.id])
        task.deadline, task.deadline_text = deadline, text
        task.version += 1
        db.session.commit()
        return task.id, task.title


def submit(page, button) -> None:
    with page.expect_navigation():
        button.click()


def test_liaison_requests_extension_supervisor_approves(new_page, live_server, shot):
    task_id, title = _jtj_measure(live_server.app, date(2024, 6, 30), "2024年6月底前")
    liaison = new_page()
    login(liaison, "jtj")
    liaison.goto(f"/tasks/{task_id}")
    card = liaison.locator(".extension-card")
    assert "逾期申请" in card.inner_text()  # today (2024-07-01) is past the deadline
    liaison.fill("#new_deadline", "2024-09-30")
    liaison.fill("#reason", "涉及跨部门联合执法，需等待市级部门批复")
    submit(liaison, card.locator("button", has_text="申请延期"))
    assert "已提交逾期延期申请" in liaison.locator(".alert-success").inner_text()
    assert "延期申请待审批" in liaison.locator(".task-deadline").inner_text()
    shot(liaison, "1-requested")

    bureau = new_page()
    login(bureau, "dubanke")
    todo = bureau.locator("#todo")
    assert "延期申请待审批" in todo.inner_text() and title[:10] in todo.inner_text()
    assert int(bureau.locator(".todo-badge").inner_text()) >= 1
    shot(bureau, "1b-bureau-landing")
    bureau.locator("#mainnav .nav-link", has_text="延期申请").click()
    row = bureau.locator("tr.extension-row", has=bureau.locator("a", has_text=title[:10]))
    assert "逾期申请" in row.inner_text() and "2024-09-30" in row.inner_text()
    row.locator("input[name=comment]").fill("同意延期，请按新时限完成")
    shot(bureau, "2-queue")
    submit(bureau, row.locator("button", has_text="批准"))
    assert "已批准延期" in bureau.locator(".alert-success").inner_text()

    liaison.goto("/")
    item = liaison.locator("#todo .todo-extension_approved").first
    assert "延期已批准" in item.inner_text() and "2024-09-30" in item.inner_text()
    assert "同意延期，请按新时限完成" in item.inner_text()
    shot(liaison, "3-todo")
    liaison.goto(f"/tasks/{task_id}")
    facts = liaison.locator(".task-deadline").inner_text()
    assert "2024-09-30" in facts and "原完成时限：2024年6月底前" in facts
    liaison.goto("/ledger?extended=1")
    cell = liaison.locator("table.ledger-table td.col-deadline").first
    assert "2024年6月底前" in cell.inner_text() and "→ 延至 2024-09-30" in cell.inner_text()
    assert "逾期" not in liaison.locator("table.ledger-table td.col-light").first.inner_text()
    shot(liaison, "4-ledger")


def test_returned_claim_is_first_on_the_liaisons_landing_page(new_page, live_server, shot):
    task_id, title = _jtj_measure(live_server.app, date(2024, 9, 30), "2024年9月底前")
    liaison = new_page(PHONE)
    login(liaison, "jtj")
    liaison.goto(f"/tasks/{task_id}")
    liaison.select_option("#status", "pending_review")
    liaison.fill("#narrative", "已完成全部整改，附整改报告")
    submit(liaison, liaison.locator(".report-card button[type=submit]"))
    assert "已申请销号" in liaison.locator(".alert-success").inner_text()

    bureau = new_page()
    login(bureau, "dubanke")
    assert "待审核（申请销号）" in bureau.locator("#todo").inner_text()
    bureau.goto("/review")
    row = bureau.locator("table.review-table tbody tr", has=bureau.locator("a", has_text=title[:10]))
    row.locator("input[name=comment]").fill("缺少整改前后对比材料，请补充后重新申请")
    submit(bureau, row.locator("button", has_text="退回"))
    assert "待审核（申请销号）" not in bureau.locator("#todo").inner_text() if bureau.url.endswith("/") else True

    liaison.goto("/")
    first = liaison.locator("#todo .todo-item").first
    text = first.inner_text()
    assert "销号申请被退回" in text and title[:10] in text
    assert "缺少整改前后对比材料，请补充后重新申请" in text
    badge = int(liaison.locator(".todo-badge").get_attribute("data-todo-count"))
    assert badge >= 1
    shot(liaison, "landing-returned")
    first.locator("a").first.click()
    liaison.wait_for_url(f"**/tasks/{task_id}")
    assert "缺少整改前后对比材料" in liaison.locator(".return-comment").inner_text()
