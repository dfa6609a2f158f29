"""Issue 14 journeys: a bad file shows its error at the top and keeps the typed text; the review
queue shows evidence at 1440 and 375 px; sorting and search; the liaison's pages at 375 px have no
sideways scrolling and no one-character columns (element widths are measured)."""
from __future__ import annotations

import re

from sqlalchemy import select

from tracker.extensions import db
from tracker.models import Task, TaskUnit, Unit

from .conftest import PHONE, login
from .test_journeys import alert_text, nav, no_overflow, submit

WIDE = {"width": 1440, "height": 900}
PNG_1PX = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360f8cfc0f01f0005000201a5f5a1b80000000049454e44ae426082")

# Visible table cells with some text that are narrower than three characters and wrap: the "one
# character per line" layout the issue found. Cells inside a horizontally scrolling wrapper count too.
NARROW_JS = """
() => {
  const bad = [];
  for (const td of document.querySelectorAll('main td, main th')) {
    const r = td.getBoundingClientRect();
    const text = td.innerText.trim();
    if (r.width === 0 || r.height === 0 || text.length < 2) continue;
    const style = getComputedStyle(td);
    const size = parseFloat(style.fontSize);
    const line = parseFloat(style.lineHeight) || size * 1.5;
    const pad = parseFloat(style.paddingTop) + parseFloat(style.paddingBottom);
    const lines = Math.round((r.height - pad) / line);
    // Narrower than three characters and wrapping: the text stands one or two characters a line.
    if (r.width < size * 3 && lines >= 2) bad.push(text.slice(0, 12) + ' [' + Math.round(r.width) + 'px]');
  }
  return bad.slice(0, 10);
}
"""
SCROLLERS_JS = """
() => Array.from(document.querySelectorAll('.table-responsive'))
  .filter(e => e.scrollWidth > e.clientWidth + 1)
  .map(e => (e.querySelector('table') || e).className)
"""


def lead_measure(app, short_name: str) -> tuple[int, str]:
    with app.app_context():
        unit = db.session.execute(select(Unit).where(Unit.short_name == short_name)).scalar_one()
        task = db.session.execute(
            select(Task).join(TaskUnit).where(Task.is_leaf.is_(True), Task.deadline.is_not(None),
                                              TaskUnit.unit_id == unit.id, TaskUnit.role == "lead")
            .order_by(Task.id)).scalars().first()
        return task.id, task.title


def test_bad_file_error_is_visible_at_the_top_and_text_is_kept(page, live_server, shot, tmp_path):
    task_id, _title = lead_measure(live_server.app, "区交通局")
    login(page, "jtj")
    page.goto(f"/tasks/{task_id}")
    fake = tmp_path / "现场照片.pdf"
    fake.write_bytes(b"<html>not a pdf</html>")
    form = page.locator(".report-card form")
    form.locator("#progress").fill("40")
    form.locator("#narrative").fill("完成路段排查，整改清单已报区政府。")
    form.locator("#problems").fill("个别路段施工影响。")
    form.locator("#files").set_input_files(str(fake))
    assert "现场照片.pdf" in form.locator(".file-names").inner_text()  # the Chinese file picker names it
    submit(page, form.locator("button[type=submit]"))
    summary = page.locator("#form-errors")
    assert summary.is_visible()
    box = summary.bounding_box()
    assert 0 <= box["y"] < 900 - box["height"], box  # on screen without scrolling
    text = summary.inner_text()
    assert "现场照片.pdf" in text and "重新选择文件" in text and "已保留" in text
    assert form.locator("#narrative").input_value() == "完成路段排查，整改清单已报区政府。"
    assert form.locator("#problems").input_value() == "个别路段施工影响。"
    assert form.locator("#progress").input_value() == "40"
    assert form.locator(".file-names").inner_text() == "未选择文件"
    shot(page, "1-error-on-top", full_page=False)


def _claim_with_evidence(new_page, live_server, tmp_path):
    task_id, title = lead_measure(live_server.app, "区交通局")
    image = tmp_path / "验收照片.png"
    image.write_bytes(PNG_1PX)
    liaison = new_page()
    login(liaison, "jtj")
    liaison.goto(f"/tasks/{task_id}")
    form = liaison.locator(".report-card form")
    form.locator("#status").select_option("pending_review")
    form.locator("#narrative").fill("已全部完成，附验收照片。")
    form.locator("#files").set_input_files(str(image))
    submit(liaison, form.locator("button[type=submit]"))
    assert "已申请销号" in alert_text(liaison)
    return task_id, title


def test_review_queue_shows_evidence_at_1440_and_375(new_page, live_server, shot, tmp_path):
    task_id, title = _claim_with_evidence(new_page, live_server, tmp_path)
    for name, viewport in (("1440", WIDE), ("375", PHONE)):
        page = new_page(viewport)
        login(page, "dubanke")
        nav(page, "待审核")
        row = page.locator("table.review-table tbody tr", has=page.locator("a", has_text=title))
        assert row.count() == 1
        evidence = row.locator(".review-evidence a", has_text="验收照片.png")
        assert evidence.is_visible()
        assert "已全部完成，附验收照片。" in row.inner_text()
        if viewport is PHONE:
            no_overflow(page)
            assert page.evaluate(NARROW_JS) == []
            assert page.evaluate(SCROLLERS_JS) == []
            title_box = row.locator("td.c-title").bounding_box()
            assert title_box["width"] >= 250, title_box
        shot(page, f"queue-{name}")
        preview = row.locator("a.preview-link").first
        with page.expect_popup() as popup:
            preview.click()
        shown = popup.value
        shown.wait_for_load_state()
        assert "inline=1" in shown.url
        response = shown.request.get(shown.url)
        assert response.headers["content-type"] == "image/png"
        assert response.headers["content-disposition"].startswith("inline")
        assert "sandbox" in response.headers["content-security-policy"]
        shown.close()


def test_sorting_the_ledger_and_the_overdue_list(page, live_server, shot):
    login(page, "dubanke")
    page.goto("/ledger")
    with page.expect_navigation():
        page.locator("table.ledger-table th a", has_text="完成时限").click()
    assert "sort=deadline" in page.url
    dates = [d for d in page.locator("table.ledger-table td.col-deadline").evaluate_all(
        "cells => cells.map(c => c.getAttribute('title'))") if d]
    assert dates == sorted(dates) and len(dates) > 10
    with page.expect_navigation():
        page.locator("table.ledger-table th a", has_text="完成时限").click()
    assert "dir=desc" in page.url
    shot(page, "1-ledger-sorted", full_page=False)
    nav(page, "逾期清单")
    with page.expect_navigation():
        page.locator("table.overdue-table th a", has_text="逾期天数").click()
    days = [int(t.rstrip("天")) for t in page.locator("table.overdue-table td.c-days").all_inner_texts()]
    assert days == sorted(days)  # the second click on the default column turns it around
    for text in page.locator("table.overdue-table td.c-urge button").all_inner_texts():
        assert text.strip() == "催办"
    heights = page.locator("table.overdue-table td.c-urge button").evaluate_all(
        "els => els.map(e => e.getBoundingClientRect().height)")
    assert heights and max(heights) < 40  # 催办 on one line
    shot(page, "2-overdue-sorted", full_page=False)


def test_search_from_the_navbar_on_desktop_and_phone(new_page, live_server, shot):
    _task_id, title = lead_measure(live_server.app, "区交通局")
    words = title[2:8]
    for name, viewport in (("desktop", WIDE), ("phone", PHONE)):
        page = new_page(viewport)
        login(page, "jtj")
        box = page.locator("#nav-q")
        if not box.is_visible():
            page.locator(".navbar-toggler").click()
            box.wait_for(state="visible")
        box.fill(words)
        with page.expect_navigation():
            box.press("Enter")
        assert "/search?q=" in page.url
        link = page.locator("table.search-table a", has_text=title).first
        assert link.is_visible()
        if viewport is PHONE:
            no_overflow(page)
            assert page.evaluate(NARROW_JS) == []
        shot(page, f"search-{name}")
        submit(page, link)
        assert re.search(r"/tasks/\d+$", page.url)


def test_liaison_pages_on_a_phone(phone_page, live_server, shot):
    page = phone_page
    login(page, "jtj")
    task_id, _title = lead_measure(live_server.app, "区交通局")
    for name, url in (("dashboard", "/"), ("my-tasks", "/my-tasks"), ("my-tasks-overdue", "/my-tasks?filter=overdue"),
                      ("task", f"/tasks/{task_id}"), ("search", "/search?q=执法"), ("password", "/account/password"),
                      ("ledger", "/ledger")):
        page.goto(url)
        no_overflow(page)
        assert page.evaluate(NARROW_JS) == [], name
        if name != "ledger":  # the ledger is the Excel sheet; it scrolls inside its own frame
            assert page.evaluate(SCROLLERS_JS) == [], name
        shot(page, f"phone-{name}")
    page.goto("/my-tasks")
    counts = page.locator(".quick-filters .quick-count").all_inner_texts()
    assert len(counts) == 4 and all(c.isdigit() for c in counts)
