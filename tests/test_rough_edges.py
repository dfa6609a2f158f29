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
    from tracker.extensions import db
    from tracker.models import Attachment
    from sqlalchemy import select

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
    from tracker.extensions import db
    from tracker.models import Attachment
    from sqlalchemy import select

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
