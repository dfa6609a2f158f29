"""Journeys of issue 6: report → claim → return → re-claim → approve; urge an overdue unit;
import a plan with a dry run first (and a broken file); the liaison's pages at phone width.

Everything happens through clicks and typing in headless Chromium; the database is only read
to cross-check what the pages show."""
from __future__ import annotations

import re

from openpyxl import Workbook
from sqlalchemy import func, select

from tracker.extensions import db
from tracker.models import Notification, Plan, Task, TaskEvent

from .conftest import PHONE, login
from .test_login_ledger import OVERFLOW_JS

MINIMAL_PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
               b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
               b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
               b"trailer<</Root 1 0 R>>\n%%EOF\n")


def nav(page, label: str) -> None:
    """Follow a navbar entry (opening the collapsed menu first at phone width)."""
    link = page.locator("#mainnav .nav-link", has_text=label).first
    if not link.is_visible():
        page.locator(".navbar-toggler").click()
        link.wait_for(state="visible")
    with page.expect_navigation():
        link.click()


def submit(page, button) -> None:
    with page.expect_navigation():
        button.click()


def alert_text(page) -> str:
    return " ".join(page.locator(".alert").all_inner_texts())


def my_row(page, title: str):
    return page.locator("table.my-tasks-table tbody tr", has=page.locator("a", has_text=title))


def no_overflow(page) -> None:
    layout = page.evaluate(OVERFLOW_JS)
    assert layout["width"] == PHONE["width"], layout
    assert layout["bad"] == [], layout
    assert layout["scrollWidth"] <= PHONE["width"], layout


# --- 1. report, claim, return, re-claim, approve ------------------------------------------------

def test_report_claim_return_reclaim_approve(new_page, live_server, shot, tmp_path):
    evidence = tmp_path / "整改报告.pdf"
    evidence.write_bytes(MINIMAL_PDF)
    liaison = new_page()
    login(liaison, "jtj")
    nav(liaison, "本单位任务")
    assert liaison.url.endswith("/my-tasks")
    assert "区交通局" in liaison.locator("h1").inner_text() or "交通" in liaison.locator("h1").inner_text()
    shot(liaison, "1-my-tasks")

    # A measure where 区交通局 is the lead unit and that has a dated deadline (not 长期坚持).
    rows = liaison.locator("table.my-tasks-table tbody tr")
    target = None
    for i in range(rows.count()):
        cells = rows.nth(i).locator("td")
        if cells.nth(2).inner_text().strip() == "牵头" and "长期" not in cells.nth(3).inner_text():
            target = rows.nth(i)
            break
    assert target is not None, "jtj leads no dated measure"
    link = target.locator("td").nth(1).locator("a").first
    title = link.inner_text().strip()
    submit(liaison, link)
    task_id = int(re.search(r"/tasks/(\d+)$", liaison.url).group(1))
    assert "本单位为牵头单位" in liaison.locator(".task-facts").inner_text()
    form = liaison.locator(".report-card form")

    # Progress with an evidence file.
    form.locator("#status").select_option("in_progress")
    form.locator("#progress").fill("60")
    form.locator("#narrative").fill("已完成非现场执法设备选型，正在组织试点。")
    form.locator("#problems").fill("部分路段网络信号弱。")
    form.locator("#next_steps").fill("7月底前完成试点验收。")
    form.locator("#files").set_input_files(str(evidence))
    shot(liaison, "2-report-form")
    submit(liaison, form.locator("button[type=submit]"))
    assert "进展已报送" in alert_text(liaison)
    history = liaison.locator(".task-history")
    assert "已完成非现场执法设备选型" in history.inner_text()
    attachment = history.locator(".attachments a", has_text="整改报告.pdf")
    assert attachment.count() == 1
    with liaison.expect_download() as download:
        attachment.click()
    assert open(download.value.path(), "rb").read() == MINIMAL_PDF
    shot(liaison, "3-reported")

    # Claim completion (待审核).
    form.locator("#status").select_option("pending_review")
    form.locator("#narrative").fill("试点已完成，申请销号。")
    submit(liaison, form.locator("button[type=submit]"))
    assert "已申请销号" in alert_text(liaison)
    assert liaison.locator(".report-card").count() == 0
    assert "待审核" in liaison.locator(".task-facts").inner_text()
    shot(liaison, "4-claimed")

    # The supervisor, in a second browser context, returns it with a comment.
    supervisor = new_page()
    login(supervisor, "dubanke")
    nav(supervisor, "待审核")
    assert supervisor.url.endswith("/review")
    row = supervisor.locator("table.review-table tbody tr", has=supervisor.locator("a", has_text=title))
    assert row.count() == 1
    shot(supervisor, "5-review-list")
    comment = "请补充试点验收报告<b>及照片</b>。"
    row.locator("input[name=comment]").fill(comment)
    submit(supervisor, row.locator("button[value=return]"))
    assert "已退回" in alert_text(supervisor)
    assert supervisor.locator("table.review-table a", has_text=title).count() == 0
    shot(supervisor, "6-returned")

    # The liaison sees the comment on my tasks and on the task page (escaped, as typed), re-claims.
    nav(liaison, "本单位任务")
    returned = my_row(liaison, title)
    assert comment in returned.locator(".return-comment").inner_text()
    shot(liaison, "7-my-tasks-returned")
    submit(liaison, returned.locator("a", has_text=title).first)
    assert comment in liaison.locator(".alert.return-comment").inner_text()
    assert comment in liaison.locator(".task-history .history-review").first.inner_text()
    assert liaison.locator(".return-comment b").count() == 0  # shown as text, not markup
    shot(liaison, "8-task-returned")
    form = liaison.locator(".report-card form")
    form.locator("#status").select_option("pending_review")
    form.locator("#narrative").fill("已补充试点验收报告及照片，再次申请销号。")
    form.locator("#files").set_input_files(str(evidence))
    submit(liaison, form.locator("button[type=submit]"))
    assert "已申请销号" in alert_text(liaison)

    # The supervisor approves (销号) from the task page this time.
    supervisor.reload()
    row = supervisor.locator("table.review-table tbody tr", has=supervisor.locator("a", has_text=title))
    assert row.count() == 1
    submit(supervisor, row.locator("a", has_text=title))
    review = supervisor.locator(".review-card form")
    review.locator("textarea[name=comment]").fill("材料齐全，同意销号。")
    shot(supervisor, "9-approve")
    submit(supervisor, review.locator("button[value=approve]"))
    assert "已审核通过" in alert_text(supervisor)
    assert "已完成" in supervisor.locator(".task-facts").inner_text()

    # The ledger shows the measure done.
    nav(supervisor, "工作台账")
    with supervisor.expect_navigation():
        supervisor.select_option("#f-unit", "区交通局")
    ledger_row = supervisor.locator("table.ledger-table tbody tr", has=supervisor.locator("a", has_text=title))
    assert ledger_row.count() == 1
    assert "light-row-done" in ledger_row.get_attribute("class")
    assert ledger_row.locator("td.col-light").inner_text().strip().startswith("已完成")
    assert "已完成" in ledger_row.locator("td.col-status").inner_text()
    ledger_row.scroll_into_view_if_needed()
    shot(supervisor, "10-ledger-done")

    with live_server.app.app_context():
        task = db.session.get(Task, task_id)
        assert task.status == "done" and task.return_comment in (None, "")
        db.session.remove()


# --- 2. urge an overdue unit --------------------------------------------------------------------

def test_supervisor_urges_overdue_unit(page, live_server, shot):
    login(page, "dubanke")
    nav(page, "逾期清单")
    assert page.url.endswith("/overdue")
    rows = page.locator("table.overdue-table tbody tr")
    assert rows.count() > 0
    shot(page, "1-overdue")

    # Pick 区交通局 from the lead-unit links of the list.
    row = page.locator("table.overdue-table tbody tr",
                       has=page.locator("td:nth-child(4) a", has_text="区交通局")).first
    title = row.locator("td").nth(1).locator("a").inner_text().strip()
    unit_link = row.locator("td:nth-child(4) a", has_text="区交通局")
    submit(page, unit_link)
    assert "unit=" in page.url
    urge = page.locator("form.urge-unit")
    count = int(re.search(r"（(\d+)项）", urge.locator("button").inner_text()).group(1))
    assert 1 <= count <= page.locator("table.overdue-table tbody tr").count()  # the list also shows co-unit rows
    urge.locator("#urge-note").fill("请于本周内报送整改进展。")
    shot(page, "2-unit-filtered")
    submit(page, urge.locator("button[type=submit]"))
    # A bulk urge asks first: the confirmation page lists the measures and sends nothing yet.
    assert "/overdue/urge/confirm" in page.url
    assert page.locator("ol.urge-list li").count() == count
    with live_server.app.app_context():
        assert db.session.scalar(select(func.count(Notification.id)).where(Notification.kind == "urge")) == 0
    shot(page, "2b-confirm")
    submit(page, page.locator("form.urge-confirm button[type=submit]"))
    message = alert_text(page)
    assert "催办邮件已加入发送队列" in message, message
    shot(page, "3-urged")

    # The task history shows the urge.
    submit(page, page.locator("table.overdue-table a", has_text=title).first)
    event = page.locator(".task-history .history-event", has_text="催办").first
    assert "请于本周内报送整改进展。" in event.inner_text()
    shot(page, "4-task-history")

    # The outbox holds the queued email for that unit.
    nav(page, "发件箱")
    mail = page.locator("table.outbox-table tbody tr", has_text="【催办】")
    assert mail.count() == 1
    text = mail.inner_text()
    assert "【催办】区交通局" in text and "jtj@" in text and "待发送" in text, text
    shot(page, "5-outbox")
    with live_server.app.app_context():
        n = db.session.execute(select(Notification).where(Notification.kind == "urge")).scalar_one()
        assert n.state == "queued" and "区交通局" in n.subject
        assert db.session.scalar(select(func.count()).select_from(TaskEvent).where(TaskEvent.kind == "urge")) == count
        db.session.remove()


# --- 3. import a plan: dry run, confirm; a broken file ------------------------------------------

HEAD = ["序号", "一级任务", "二级任务", "具体工作举措", "牵头单位", "配合单位", "完成时限"]
PLAN_TITLE = "浏览器测试计划"  # the sheet's title row adds 工作台账, which the import strips
PLAN_ROWS = [
    ["1", "一、依法行政", "（一）制度建设", "清理规范性文件", "区司法局", "区交通局", "2024年9月底前"],
    ["2", "一、依法行政", "（一）制度建设", "公布权责清单", "区市场监管局", "", "2024年第四季度"],
    ["3", "一、依法行政", "（二）队伍建设", "开展执法人员培训", "区交通局", "区司法局、大口屯镇", "长期坚持"],
    ["4", "二、执法监督", "（三）监督检查", "开展案卷评查", "大口屯镇", "", "2024年12月底前"],
]


def ledger_xlsx(path, rows, title=PLAN_TITLE + "工作台账"):
    wb = Workbook()
    ws = wb.active
    ws.append([title])
    ws.append(HEAD)
    for row in rows:
        ws.append(row)
    wb.save(path)
    return str(path)


def counts(live_server):
    with live_server.app.app_context():
        out = (db.session.scalar(select(func.count()).select_from(Plan)),
               db.session.scalar(select(func.count()).select_from(Task)))
        db.session.remove()
        return out


def test_admin_imports_plan_with_dry_run(page, live_server, shot, tmp_path):
    good = ledger_xlsx(tmp_path / "plan.xlsx", PLAN_ROWS)
    broken_rows = [list(r) for r in PLAN_ROWS]
    broken_rows[0][4] = "区司法局、火星局"  # row 3, column E: unknown unit
    broken_rows[3][6] = "明年春天"  # row 6, column G: unreadable deadline
    broken = ledger_xlsx(tmp_path / "broken.xlsx", broken_rows)
    before = counts(live_server)

    login(page, "admin")
    nav(page, "导入")
    assert page.url.endswith("/import")

    # A broken file: row/column errors, nothing imported, no confirm button.
    page.set_input_files("#file", broken)
    shot(page, "1-upload-broken")
    submit(page, page.locator("form button[type=submit]", has_text="上传并检查"))
    errors = page.locator("table.import-errors")
    text = errors.inner_text()
    assert "第3行 E列" in text and "火星局" in text, text
    assert "第6行 G列" in text and "明年春天" in text, text
    assert "未写入任何数据" in alert_text(page)
    assert page.locator("button", has_text="确认导入").count() == 0
    shot(page, "2-broken-errors")
    assert counts(live_server) == before

    # A valid file: dry-run preview with counts, then confirm.
    with page.expect_navigation():
        page.click("a.btn:has-text('重新上传')")
    page.set_input_files("#file", good)
    submit(page, page.locator("form button[type=submit]", has_text="上传并检查"))
    assert "检查通过，尚未写入任何数据" in alert_text(page)
    assert page.locator("table.import-errors").count() == 0
    badges = " ".join(page.locator(".list-inline .badge").all_inner_texts())
    assert "一级任务 2 项" in badges and "二级任务 3 项" in badges and "具体举措 4 项" in badges, badges
    assert "开展案卷评查" in page.locator(".table-responsive table").inner_text()
    shot(page, "3-dry-run")
    assert counts(live_server) == before  # the dry run writes nothing

    submit(page, page.locator("button", has_text="确认导入"))
    assert "已导入计划" in alert_text(page)
    assert "/ledger" in page.url
    selected = page.locator("#f-plan option:checked").inner_text()
    assert PLAN_TITLE in selected
    assert page.locator("table.ledger-table tbody tr[class^='light-row-']").count() == 4
    shot(page, "4-imported-ledger")
    assert counts(live_server) == (before[0] + 1, before[1] + 2 + 3 + 4)

    # The plan selector offers both plans; switching back shows the seeded plan.
    options = page.locator("#f-plan option").all_inner_texts()
    assert len(options) == before[0] + 1 and any(PLAN_TITLE in o for o in options), options


# --- 4. phone width ------------------------------------------------------------------------------

def test_phone_report_form_my_tasks_and_dashboard(phone_page, live_server, shot):
    page = phone_page
    login(page, "jtj")
    page.goto("/")
    assert page.locator("h1").count() >= 1
    no_overflow(page)
    shot(page, "1-dashboard")

    nav(page, "本单位任务")
    assert page.url.endswith("/my-tasks")
    no_overflow(page)
    shot(page, "2-my-tasks")
    # Each measure's title gets (nearly) the whole width and the row needs no sideways scrolling.
    titles = page.locator("table.my-tasks-table td.c-title").evaluate_all(
        "cells => cells.map(c => Math.round(c.getBoundingClientRect().width))")
    assert titles and min(titles) >= 250, titles
    for box in page.locator(".table-responsive").evaluate_all(
            "els => els.map(e => ({scroll: e.scrollWidth, client: e.clientWidth}))"):
        assert box["scroll"] <= box["client"], box

    lead = page.locator("table.my-tasks-table tbody tr", has=page.locator("td:nth-child(3)", has_text="牵头")).first
    link = lead.locator("td").nth(1).locator("a").first
    link.scroll_into_view_if_needed()
    submit(page, link)
    no_overflow(page)
    form = page.locator(".report-card form")
    for selector in ("#status", "#progress", "#narrative", "#problems", "#next_steps", "#files"):
        box = form.locator(selector).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (selector, box)
    button = form.locator("button[type=submit]")
    button.scroll_into_view_if_needed()
    assert button.is_visible() and button.is_enabled()
    box = button.bounding_box()
    assert box["width"] >= 44 or box["height"] >= 36, box  # a usable touch target
    shot(page, "3-task-form")

    form.locator("#status").select_option("in_progress")
    form.locator("#progress").tap()
    form.locator("#progress").fill("30")
    form.locator("#narrative").fill("手机端报送：已启动。")
    with page.expect_navigation():
        button.tap()
    assert "进展已报送" in alert_text(page)
    assert "手机端报送：已启动。" in page.locator(".task-history").inner_text()
    no_overflow(page)
    shot(page, "4-reported")
