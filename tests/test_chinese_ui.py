"""Issue 14, point 7: no English in the visible text of any page, for any role.

Walks every GET page (ids filled in from the seeded plan after a report, a claim and an urge) as
admin, supervisor, viewer and a liaison, extracts the text a user sees (no tags, attributes,
scripts or styles) and fails on English words outside an allow-list of proper nouns, file types
and the data itself (user names, e-mail addresses)."""
from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from tests.test_attachments import PNG, upload
from tests.workflow import LEAD, measure
from tracker.extensions import db

T = "today=2024-07-01"
ALLOWED = {
    "excel", "wps", "api", "pdf", "jpg", "jpeg", "png", "doc", "docx", "xls", "xlsx", "zip", "csv", "mb", "kb",
    "smtp", "url", "id", "yyyy", "mm", "dd", "yyyyqn", "ctrl", "cn", "https", "http", "ip",
    "webhook", "sec",  # the robots' settings: the vendors' own names (Webhook address, a SEC… signing secret)
    # demo user names and other data shown as entered
    "admin", "dubanke", "leader", "sfj", "jtj", "scjgj", "dktz",
}
SKIP_ENDPOINTS = {"static", "auth.logout", "ledger.export", "bureau.overdue_export", "tasks.attachment"}
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+|https?://\S+")  # addresses and links are data
WORD = re.compile(r"[A-Za-z]{2,}")


class VisibleText(HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "title", "code", "kbd"):  # commands, headers and keys are not UI words
            self._skip += 1
        if tag == "input":
            attrs = dict(attrs)
            if attrs.get("type") in ("submit", "button") and attrs.get("value"):
                self.parts.append(attrs["value"])
            if attrs.get("placeholder"):
                self.parts.append(attrs["placeholder"])

    def handle_endtag(self, tag):
        if tag in ("script", "style", "title", "code", "kbd") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def english_words(html: str) -> set[str]:
    parser = VisibleText()
    parser.feed(html)
    text = EMAIL.sub(" ", " ".join(parser.parts))
    return {w for w in WORD.findall(text) if w.lower() not in ALLOWED}


def _ids(app):
    from tracker.models import Attachment, Notification, Plan, Task, Unit, User

    with app.app_context():
        first = lambda stmt: db.session.execute(stmt.limit(1)).scalar_one()
        return {
            "task_id": first(select(Task.id).where(Task.is_leaf.is_(True)).order_by(Task.id)),
            "plan_id": first(select(Plan.id)),
            "unit_id": first(select(Unit.id).where(Unit.short_name == "区市场监管局")),
            "user_id": first(select(User.id).where(User.username == "jtj")),
            "notification_id": first(select(Notification.id)),
            "attachment_id": first(select(Attachment.id)),
        }


def _pages(app, ids) -> list[str]:
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint in SKIP_ENDPOINTS or rule.rule.startswith("/api/"):
            continue
        try:
            values = {arg: ids[arg] for arg in rule.arguments}
        except KeyError:
            continue
        with app.test_request_context():
            from flask import url_for

            url = url_for(rule.endpoint, **values)
        urls.append(url)
    extra = ["/search?q=执法", f"/overdue?unit={ids['unit_id']}", f"/overdue/urge/confirm?unit={ids['unit_id']}",
             "/my-tasks?filter=overdue", f"/tasks/{ids['task_id']}"]
    return sorted(set(urls)) + extra


@pytest.fixture
def walked(seeded):
    """A plan with a report with evidence, a claim and an urge in the outbox."""
    client = seeded.test_client()
    client.post("/login", data={"username": "jtj", "password": "demo1234"})
    task_id = measure(seeded, "jtj", LEAD, deadline="dated")
    assert upload(client, seeded, task_id, [("照片.png", PNG)], status="pending_review", progress="100").status_code == 302
    client.post("/logout")
    client.post("/login", data={"username": "dubanke", "password": "demo1234"})
    from tracker.models import Unit

    with seeded.app_context():
        unit_id = db.session.execute(select(Unit.id).where(Unit.short_name == "区市场监管局")).scalar_one()
    client.post(f"/overdue/urge?{T}", data={"unit_id": str(unit_id), "confirmed": "1"})
    client.post("/logout")
    return seeded


@pytest.mark.parametrize("username", ["admin", "dubanke", "leader", "jtj"])
def test_no_english_in_visible_text(walked, username):
    app = walked
    ids = _ids(app)
    client = app.test_client()
    login = client.post("/login", data={"username": username, "password": "demo1234"})
    assert login.status_code == 302
    found = {}
    for url in _pages(app, ids):
        sep = "&" if "?" in url else "?"
        r = client.get(url + sep + T)
        if r.status_code in (302, 403, 404) or not r.mimetype == "text/html":
            continue
        words = english_words(r.get_data(as_text=True))
        if words:
            found[url] = sorted(words)
    assert not found, found


def test_the_detector_finds_english():
    assert english_words("<p>角色 viewer</p><script>var x</script><input placeholder='mm/dd/yyyy'>") == {"viewer"}
    assert english_words("<td>sfj@tjbd.example.cn；Excel</td>") == set()
