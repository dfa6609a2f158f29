"""Issue 14, points 1-4: errors at the top, evidence in the review queue, a short task page,
least privilege for new users, inline preview of evidence with safe headers."""
from __future__ import annotations

import re

from tests.test_attachments import PDF, PNG, upload
from tests.workflow import LEAD, measure, task_row


def test_bad_file_error_is_at_the_top_and_text_fields_are_kept(seeded, client, auth):
    task_id = measure(seeded, "jtj", LEAD)
    auth.login("jtj")
    r = upload(client, seeded, task_id, [("fake.pdf", b"<html>x</html>")], narrative="本月完成三项整改")
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    summary = re.search(r'<div class="alert alert-danger form-errors".*?</div>', html, re.S).group(0)
    # The summary comes before the form, names the file and says the browser cannot keep it.
    assert html.index("form-errors") < html.index("report-card")
    assert "佐证材料：文件“fake.pdf”" in summary and "重新选择文件" in summary and "已保留" in summary
    assert "本月完成三项整改" in html[html.index("report-card"):]  # the typed text is kept


def test_new_user_form_defaults_to_least_privilege(seeded, client, auth):
    auth.login("admin")
    html = client.get("/admin/users/new").get_data(as_text=True)
    selected = re.search(r'<select[^>]*name="role".*?</select>', html, re.S).group(0)
    assert re.search(r'<option selected value="viewer">|<option value="viewer" selected>', selected), selected
    assert 'value="admin" selected' not in selected and '<option selected value="admin">' not in selected


def _claim_with_evidence(app, client, auth):
    task_id = measure(app, "jtj", LEAD, deadline="dated")
    auth.login("jtj")
    r = upload(client, app, task_id, [("现场照片.png", PNG), ("验收报告.pdf", PDF)],
               status="pending_review", progress="100", narrative="已完成，申请销号")
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    auth.logout()
    return task_id


def test_review_queue_shows_the_latest_evidence(seeded, client, auth):
    task_id = _claim_with_evidence(seeded, client, auth)
    auth.login("dubanke")
    html = client.get("/review").get_data(as_text=True)
    row = html[html.index(f"/tasks/{task_id}\""):]
    row = row[:row.index("</tr>")]
    assert "现场照片.png" in row and "验收报告.pdf" in row and "已完成，申请销号" in row
    assert "在浏览器中查看" in row


def test_preview_is_inline_only_for_images_and_pdf_with_a_sandbox(seeded, client, auth):
    from sqlalchemy import select

    from tracker.extensions import db
    from tracker.models import Attachment

    _claim_with_evidence(seeded, client, auth)
    auth.login("dubanke")
    with seeded.app_context():
        ids = {a.original_name: a.id for a in db.session.execute(select(Attachment)).scalars()}
    r = client.get(f"/attachments/{ids['现场照片.png']}?inline=1")
    assert r.status_code == 200 and r.headers["Content-Disposition"].startswith("inline")
    assert r.headers["Content-Type"] == "image/png" and "sandbox" in r.headers["Content-Security-Policy"]
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    r = client.get(f"/attachments/{ids['现场照片.png']}")
    assert r.headers["Content-Disposition"].startswith("attachment")


def test_preview_refuses_other_types_inline(seeded, client, auth):
    from tests.test_attachments import zipped

    task_id = measure(seeded, "jtj", LEAD)
    auth.login("jtj")
    upload(client, seeded, task_id, [("a.docx", zipped("[Content_Types].xml", "word/document.xml"))])
    from sqlalchemy import select

    from tracker.extensions import db
    from tracker.models import Attachment

    with seeded.app_context():
        att_id = db.session.execute(select(Attachment.id)).scalar_one()
    r = client.get(f"/attachments/{att_id}?inline=1")
    assert r.status_code == 200 and r.headers["Content-Disposition"].startswith("attachment")


def test_long_history_is_collapsed_and_shows_no_version(seeded, client, auth):
    task_id = measure(seeded, "jtj", LEAD)
    auth.login("jtj")
    for i in range(8):
        r = client.post(f"/tasks/{task_id}/updates", data={
            "status": "in_progress", "progress": str(10 + i), "narrative": f"第{i}次报送",
            "version": str(task_row(seeded, task_id)["version"])})
        assert r.status_code == 302
    html = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    before, _, after = html.partition('<details class="history-more')
    assert after, "no collapsed part"
    assert "第7次报送" in before and "第3次报送" in before and "第2次报送" in after and "第0次报送" in after
    assert "展开更早的 3 条记录" in html
    assert not re.search(r"版本\s*\d|<dt[^>]*>版本", html)


# --- points 5-7 ---------------------------------------------------------------------------------

T = "today=2024-07-01"


def _unit_id(app, short):
    from sqlalchemy import select

    from tracker.extensions import db
    from tracker.models import Unit

    with app.app_context():
        return db.session.execute(select(Unit.id).where(Unit.short_name == short)).scalar_one()


def test_overdue_list_tells_lead_from_co_and_filters_by_role(seeded, client, auth):
    auth.login("dubanke")
    sfj = _unit_id(seeded, "区司法局")
    both = client.get(f"/overdue?{T}&unit={sfj}").get_data(as_text=True)
    lead = client.get(f"/overdue?{T}&unit={sfj}&role=lead").get_data(as_text=True)
    co = client.get(f"/overdue?{T}&unit={sfj}&role=co").get_data(as_text=True)
    count = lambda html: int(re.search(r"共 (\d+) 项逾期具体举措", html).group(1))
    assert count(both) == count(lead) + count(co) and count(lead) > 0
    assert 'data-label="本单位"' in both and ">配合</span>" not in lead and ">牵头</span>" not in co
    assert client.get(f"/overdue?{T}&role=boss").status_code == 422


def test_overdue_list_sorts_by_column(seeded, client, auth):
    auth.login("dubanke")
    days = lambda html: [int(d) for d in re.findall(r'data-label="逾期">(\d+)天', html)]
    default = days(client.get(f"/overdue?{T}").get_data(as_text=True))
    assert default == sorted(default, reverse=True) and len(default) > 2
    asc = days(client.get(f"/overdue?{T}&sort=days&dir=asc").get_data(as_text=True))
    assert asc == sorted(default)
    html = client.get(f"/overdue?{T}&sort=deadline&dir=asc").get_data(as_text=True)
    assert 'aria-sort="ascending"' in html
    assert client.get(f"/overdue?{T}&sort=drop").status_code == 422


def test_bulk_urge_goes_through_a_confirmation_page(seeded, client, auth):
    from sqlalchemy import func, select

    from tracker.extensions import db
    from tracker.models import Notification, TaskEvent

    auth.login("dubanke")
    scj = _unit_id(seeded, "区市场监管局")
    resp = client.post(f"/overdue/urge?{T}", data={"unit_id": str(scj), "note": "本周内"})
    assert resp.status_code == 302 and "/overdue/urge/confirm" in resp.headers["Location"]
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "确认发送催办" in page and "本周内" in page and page.count("<li>") >= 1
    with seeded.app_context():
        assert db.session.scalar(select(func.count(Notification.id))) == 0
    done = client.post(f"/overdue/urge?{T}", data={"unit_id": str(scj), "confirmed": "1"}, follow_redirects=True)
    assert "催办邮件已加入发送队列" in done.get_data(as_text=True)
    with seeded.app_context():
        notes = db.session.execute(select(TaskEvent.note).where(TaskEvent.kind == "urge")).scalars().all()
        assert notes and all("已加入发送队列" in n and "已发送" not in n for n in notes)


def test_liaison_rollups_count_only_own_measures(seeded, client, auth):
    auth.login("jtj")
    html = client.get(f"/ledger?{T}").get_data(as_text=True)
    shown = len(re.findall(r'<tr class="light-row-', html))
    cells = re.findall(r'<td rowspan="\d+" class="parent-cell" data-light="\w+">(.*?)</td>', html, re.S)
    roots = []
    for body in cells:
        counts = [int(n) for n in re.findall(r'class="badge[^"]*"[^>]*>[^<\d]+?\s*(\d+)</span>', body)]
        roots.append(sum(counts))
    # Every parent's counts add up to no more than the liaison's own rows (first-level cells add up exactly).
    assert roots and max(roots) <= shown


def test_audit_log_names_targets_and_roles_in_chinese(seeded, client, auth):
    auth.login("admin")
    client.post("/admin/users/new", data={"username": "newbie", "display_name": "新同事", "email": "n@example.cn",
                                          "role": "viewer", "unit": "", "password": "longpassword1"})
    html = client.get("/admin/audit?action=user_create").get_data(as_text=True)
    assert "newbie（领导（只读））" in html and "用户 新同事（newbie）" in html
    assert "user#" not in html and "（viewer" not in html
    assert 'type="date"' not in html and 'pattern="\\d{4}-\\d{2}-\\d{2}"' in html


def test_outbox_shows_rules_not_dedupe_keys(seeded, client, auth):
    from tracker.notify.outbox_labels import rule_label

    assert rule_label("bureau:digest:2024-07-01") == "督办日报（每天一封） · 2024-07-01"
    assert rule_label("urge:unit:3:2024-07-01").startswith("催办单位全部逾期任务")
    assert rule_label("something") == "其他规则"
    auth.login("dubanke")
    client.post(f"/overdue/urge?{T}", data={"unit_id": str(_unit_id(seeded, "区市场监管局")), "confirmed": "1"})
    html = client.get("/outbox").get_data(as_text=True)
    assert "催办单位全部逾期任务" in html and "urge:unit:" not in html.split("<tbody>")[1]


# --- point 8 ------------------------------------------------------------------------------------

def test_ledger_sorts_by_column_and_repeats_parents_where_groups_split(seeded, client, auth):
    auth.login("admin")
    plain = client.get(f"/ledger?{T}").get_data(as_text=True)
    html = client.get(f"/ledger?{T}&sort=deadline&dir=asc").get_data(as_text=True)
    dates = re.findall(r'<td class="col-deadline" title="([\d-]*)">', html)
    dated = [d for d in dates if d]
    assert dated == sorted(dated) and dates[-1] == ""  # 长期 measures (no date) last
    # Groups are split by the sort, so more parent cells start than in plan order.
    assert html.count('class="parent-cell"') > plain.count('class="parent-cell"')
    assert 'aria-sort="ascending"' in html
    assert "sort=deadline" in re.search(r'href="(/ledger/export\.xlsx\?[^"]+)"', html).group(1)
    assert client.get(f"/ledger?{T}&sort=nope").status_code == 422


def test_search_finds_by_title_code_unit_and_report_and_respects_units(seeded, client, auth):
    task_id = measure(seeded, "jtj", LEAD)
    auth.login("jtj")
    r = client.post(f"/tasks/{task_id}/updates", data={
        "status": "in_progress", "progress": "20", "narrative": "召开了专题推进会紫罗兰",
        "version": str(task_row(seeded, task_id)["version"])})
    assert r.status_code == 302
    html = client.get("/search?q=紫罗兰").get_data(as_text=True)
    assert f'/tasks/{task_id}"' in html and "报送内容" in html
    by_unit = client.get("/search?q=交通").get_data(as_text=True)
    assert f'/tasks/{task_id}"' in by_unit and "责任单位" in by_unit
    auth.logout()
    auth.login("dktz")  # another unit finds nothing of jtj's unless it shares the measure
    other = client.get("/search?q=紫罗兰").get_data(as_text=True)
    assert "没有找到" in other
    auth.logout()
    auth.login("leader")
    assert f'/tasks/{task_id}"' in client.get("/search?q=紫罗兰").get_data(as_text=True)
    assert client.get("/search?q=" + "%25_" * 80).status_code == 200
    assert 'id="nav-q"' in client.get("/ledger").get_data(as_text=True)


def test_my_tasks_counts_and_attention_order(seeded, client, auth):
    auth.login("jtj")
    html = client.get(f"/my-tasks?{T}").get_data(as_text=True)
    counts = dict(re.findall(r'>(全部|已逾期|临近期限|本月未报送) <span class="badge[^"]*quick-count">(\d+)</span>', html))
    assert set(counts) == {"全部", "已逾期", "临近期限", "本月未报送"}
    rows = len(re.findall(r'<tr class="light-row-', html))
    assert int(counts["全部"]) == rows
    overdue = client.get(f"/my-tasks?{T}&filter=overdue").get_data(as_text=True)
    assert len(re.findall(r'<tr class="light-row-', overdue)) == int(counts["已逾期"])
    # Overdue rows come before the others in each group, and the first group holds the most urgent.
    lights = re.findall(r'<tr class="light-row-(\w+)"', html)
    order = {"red": 1, "yellow": 2, "green": 3, "done": 5}
    first_group = html.split('<div class="card mb-3">')[1]
    first = [order[x] for x in re.findall(r'<tr class="light-row-(\w+)"', first_group)]
    assert first == sorted(first) and min(order[x] for x in lights) == first[0]


# --- point 9 ------------------------------------------------------------------------------------

def _report(client, app, task_id, **fields):
    data = {"status": "in_progress", "progress": "50", "narrative": "进展",
            "version": str(task_row(app, task_id)["version"])}
    data.update(fields)
    return client.post(f"/tasks/{task_id}/updates", data=data)


def test_returned_claim_goes_back_to_the_progress_before_the_claim(seeded, client, auth):
    task_id = measure(seeded, "jtj", LEAD, deadline="dated")
    auth.login("jtj")
    assert _report(client, seeded, task_id, progress="70").status_code == 302
    assert _report(client, seeded, task_id, status="pending_review", progress="100").status_code == 302
    assert task_row(seeded, task_id)["progress"] == 100
    auth.logout()
    auth.login("dubanke")
    r = client.post(f"/review/{task_id}", data={"decision": "return", "comment": "缺验收材料",
                                                "version": str(task_row(seeded, task_id)["version"])})
    assert r.status_code == 302
    assert task_row(seeded, task_id)["progress"] == 70


def test_a_progress_drop_is_pointed_out(seeded, client, auth):
    task_id = measure(seeded, "jtj", LEAD)
    auth.login("jtj")
    assert _report(client, seeded, task_id, progress="70").status_code == 302
    r = _report(client, seeded, task_id, progress="10")
    assert r.status_code == 302 and task_row(seeded, task_id)["progress"] == 10
    html = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "完成进度由 70% 降为 10%" in html and "存在问题" in html


def test_ongoing_measure_offers_the_words_it_shows(seeded, client, auth):
    from sqlalchemy import select

    from tests.workflow import unit_of
    from tracker.extensions import db
    from tracker.models import Task, TaskUnit

    with seeded.app_context():
        unit = unit_of("jtj")
        task = db.session.execute(select(Task).join(TaskUnit).where(
            Task.is_leaf.is_(True), Task.deadline.is_(None), TaskUnit.unit_id == unit, TaskUnit.role == LEAD)
        ).scalars().first()
        assert task is not None and task.is_ongoing
        task_id = task.id
    auth.login("jtj")
    html = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    select_html = re.search(r'<select[^>]*name="status".*?</select>', html, re.S).group(0)
    assert "持续推进" in select_html and "推进中" not in select_html


def test_dashboard_shows_progress_and_completion_in_two_cards(seeded, client, auth):
    auth.login("leader")
    html = client.get(f"/?{T}").get_data(as_text=True)
    assert "data-percent" in html and "data-done-rate" in html and "总体进度 · 完成率" not in html
    assert "报送截止日" in html and "修改密码" in html
