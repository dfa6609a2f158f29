"""Every route of the tasks, review and API blueprints × every role, with the expected status.

The routes are enumerated from ``app.url_map``: a new route in these blueprints
without a row in ``EXPECTED`` fails ``test_every_route_has_expectations``.
"""
import io

import pytest

from tests.workflow import LEAD, measure, set_task, task_row, token_for
from tracker.extensions import db

ROLES = {"admin": "admin", "supervisor": "dubanke", "viewer": "leader", "unit_own": "jtj", "unit_other": "dktz"}
BLUEPRINTS = ("tasks", "review", "api", "extensions")

# (endpoint, method) -> expected status per role; "anon" is not logged in.
EXPECTED = {
    ("tasks.mine", "GET"): dict(anon=302, admin=302, supervisor=302, viewer=302, unit_own=200, unit_other=200),
    ("tasks.detail", "GET"): dict(anon=302, admin=200, supervisor=200, viewer=200, unit_own=200, unit_other=403),
    ("tasks.report", "POST"): dict(anon=302, admin=302, supervisor=302, viewer=403, unit_own=302, unit_other=403),
    ("tasks.attachment", "GET"): dict(anon=302, admin=200, supervisor=200, viewer=200, unit_own=200, unit_other=403),
    ("review.pending", "GET"): dict(anon=302, admin=200, supervisor=200, viewer=403, unit_own=403, unit_other=403),
    ("review.decide", "POST"): dict(anon=302, admin=302, supervisor=302, viewer=403, unit_own=403, unit_other=403),
    ("api.plans", "GET"): dict(anon=401, admin=200, supervisor=200, viewer=200, unit_own=200, unit_other=200),
    ("api.units", "GET"): dict(anon=401, admin=200, supervisor=200, viewer=200, unit_own=200, unit_other=200),
    ("api.tasks", "GET"): dict(anon=401, admin=200, supervisor=200, viewer=200, unit_own=200, unit_other=200),
    ("api.overdue", "GET"): dict(anon=401, admin=200, supervisor=200, viewer=200, unit_own=200, unit_other=200),
    ("api.task_updates", "POST"): dict(anon=401, admin=201, supervisor=201, viewer=403, unit_own=201, unit_other=403),
    ("api.task_review", "POST"): dict(anon=401, admin=201, supervisor=201, viewer=403, unit_own=403, unit_other=403),
    # Deadline extensions and the to-do list (issue 11).
    ("api.task_extensions", "POST"): dict(anon=401, admin=403, supervisor=403, viewer=403, unit_own=201,
                                          unit_other=403),
    ("api.extension_decision", "POST"): dict(anon=401, admin=200, supervisor=200, viewer=403, unit_own=403,
                                             unit_other=403),
    ("api.extensions", "GET"): dict(anon=401, admin=200, supervisor=200, viewer=200, unit_own=200, unit_other=200),
    ("api.todo", "GET"): dict(anon=401, admin=200, supervisor=200, viewer=200, unit_own=200, unit_other=200),
    ("api.todo_read", "POST"): dict(anon=401, admin=200, supervisor=200, viewer=200, unit_own=200, unit_other=200),
    ("extensions.request_form", "POST"): dict(anon=302, admin=403, supervisor=403, viewer=403, unit_own=302,
                                              unit_other=403),
    ("extensions.deadline_form", "POST"): dict(anon=302, admin=302, supervisor=302, viewer=403, unit_own=403,
                                               unit_other=403),
    ("extensions.queue", "GET"): dict(anon=302, admin=200, supervisor=200, viewer=403, unit_own=403, unit_other=403),
    ("extensions.decide", "POST"): dict(anon=302, admin=302, supervisor=302, viewer=403, unit_own=403,
                                        unit_other=403),
    ("api.assessment", "GET"): dict(anon=401, admin=200, supervisor=200, viewer=200, unit_own=403, unit_other=403),
}


def reset_extensions(app, task_id, *, pending: bool) -> int | None:
    """The measure dated 2024-12-31 with no extension; with ``pending`` one request waiting."""
    from datetime import date

    from sqlalchemy import delete

    from tracker.models import DeadlineExtension

    set_task(app, task_id, deadline=date(2024, 12, 31), extended_deadline=None, extension_state=None)
    with app.app_context():
        db.session.execute(delete(DeadlineExtension).where(DeadlineExtension.task_id == task_id))
        ext_id = None
        if pending:
            ext = DeadlineExtension(task_id=task_id, request_date=date(2024, 7, 1), new_deadline=date(2025, 3, 31),
                                    reason="权限测试", state="pending")
            db.session.add(ext)
            db.session.flush()
            ext_id = ext.id
        db.session.commit()
        return ext_id


def routes(app):
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] in BLUEPRINTS:
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                found.add((rule.endpoint, method))
    return found


def test_every_route_has_expectations(app):
    missing = routes(app) - set(EXPECTED)
    assert not missing, f"routes without permission tests: {sorted(missing)}"
    assert set(EXPECTED) <= routes(app)


@pytest.fixture
def world(seeded):
    """A measure of jtj's unit (not dktz's) with one evidence file."""
    from sqlalchemy import select

    from tracker.models import User
    from tracker.reporting.progress import record_update

    task_id = measure(seeded, "jtj", LEAD, not_of="dktz")
    with seeded.app_context():
        jtj = db.session.execute(select(User).where(User.username == "jtj")).scalar_one()
        upload = type("F", (), {"filename": "证明.pdf", "stream": io.BytesIO(b"%PDF-1.4 x")})()
        record_update(task_id, jtj, {"status": "in_progress", "progress": 10, "narrative": "x", "version": 1},
                      __import__("datetime").date(2024, 7, 1), [upload])
        from tracker.models import Attachment

        att_id = db.session.execute(select(Attachment.id)).scalar_one()
    return seeded, task_id, att_id


def call(app, client, endpoint, method, role, task_id, att_id):
    headers = {}
    if endpoint.startswith("api.") and role != "anon":
        headers = token_for(app, ROLES[role])
    version = task_row(app, task_id)["version"]
    if endpoint in ("review.decide", "api.task_review"):
        set_task(app, task_id, status="pending_review", progress=100)
        version = task_row(app, task_id)["version"]
    ext_id = None
    if endpoint in ("api.task_extensions", "extensions.request_form", "extensions.deadline_form",
                    "api.extension_decision", "extensions.decide"):
        ext_id = reset_extensions(app, task_id, pending=endpoint in ("api.extension_decision", "extensions.decide"))
        version = task_row(app, task_id)["version"]
    path = {
        "api.task_extensions": f"/api/v1/tasks/{task_id}/extensions",
        "api.extension_decision": f"/api/v1/extensions/{ext_id}/decision",
        "api.extensions": "/api/v1/extensions?state=pending",
        "api.todo": "/api/v1/todo",
        "api.todo_read": "/api/v1/todo/read",
        "extensions.request_form": f"/tasks/{task_id}/extensions",
        "extensions.deadline_form": f"/tasks/{task_id}/deadline",
        "extensions.queue": "/extensions",
        "extensions.decide": f"/extensions/{ext_id}/decision",
        "tasks.mine": "/my-tasks",
        "tasks.detail": f"/tasks/{task_id}",
        "tasks.report": f"/tasks/{task_id}/updates",
        "tasks.attachment": f"/attachments/{att_id}",
        "review.pending": "/review",
        "review.decide": f"/review/{task_id}",
        "api.plans": "/api/v1/plans",
        "api.units": "/api/v1/units",
        "api.tasks": "/api/v1/tasks",
        "api.overdue": "/api/v1/overdue",
        "api.task_updates": f"/api/v1/tasks/{task_id}/updates",
        "api.task_review": f"/api/v1/tasks/{task_id}/review",
        "api.assessment": "/api/v1/assessment?period=2024&today=2024-07-01",
    }[endpoint]
    if method == "GET":
        return client.get(path, headers=headers)
    if endpoint == "tasks.report":
        return client.post(path, data={"status": "in_progress", "progress": "20", "narrative": "y",
                                       "version": str(version)})
    if endpoint == "review.decide":
        return client.post(path, data={"decision": "approve", "version": str(version)})
    if endpoint == "api.task_updates":
        return client.post(path, headers=headers, json={"status": "in_progress", "progress": 20, "narrative": "y",
                                                        "version": version})
    if endpoint == "api.task_review":
        return client.post(path, headers=headers, json={"decision": "approve", "version": version})
    if endpoint == "api.task_extensions":
        return client.post(path, headers=headers, json={"new_deadline": "2025-06-30", "reason": "权限测试"})
    if endpoint == "api.extension_decision":
        return client.post(path, headers=headers, json={"decision": "approve", "comment": ""})
    if endpoint == "api.todo_read":
        return client.post(path, headers=headers, json={"keys": ["claim:1:2024-07-01"]})
    if endpoint in ("extensions.request_form", "extensions.deadline_form"):
        return client.post(path, data={"new_deadline": "2025-06-30", "reason": "权限测试", "version": str(version)})
    if endpoint == "extensions.decide":
        return client.post(path, data={"decision": "approve", "comment": ""})
    raise AssertionError(f"no call for {endpoint} {method}")


@pytest.mark.parametrize("role", ["anon", *ROLES])
def test_role_route_matrix(world, role):
    app, task_id, att_id = world
    client = app.test_client()
    if role != "anon":
        assert client.post("/login", data={"username": ROLES[role], "password": "demo1234"}).status_code == 302
    failures = []
    for (endpoint, method), expected in sorted(EXPECTED.items()):
        if endpoint in ("review.decide", "api.task_review", "tasks.report", "api.task_updates"):
            set_task(app, task_id, status="in_progress")
        r = call(app, client, endpoint, method, role, task_id, att_id)
        if r.status_code != expected[role]:
            failures.append(f"{method} {endpoint}: {r.status_code} != {expected[role]}")
        if role == "anon" and r.status_code == 302:
            assert "/login" in r.headers["Location"]
    assert not failures, failures


def test_unit_cannot_see_other_units_task_pages_or_evidence(world):
    app, task_id, att_id = world
    client = app.test_client()
    client.post("/login", data={"username": "dktz", "password": "demo1234"})
    html = client.get("/my-tasks").get_data(as_text=True)
    assert f"/tasks/{task_id}\"" not in html
    assert client.get(f"/tasks/{task_id}").status_code == 403
    assert client.get(f"/attachments/{att_id}").status_code == 403
    headers = token_for(app, "dktz")
    ids = {t["id"] for t in client.get("/api/v1/tasks", headers=headers).get_json()}
    assert task_id not in ids
