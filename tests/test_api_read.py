"""Read API: shapes of SPEC 3, filters, today, bearer tokens, unit visibility, bad input."""
from datetime import date

import pytest
from sqlalchemy import select

from tests.conftest import TODAY
from tracker.accounts.users import create_token, get_user_by_name
from tracker.extensions import db
from tracker.models import Task, Unit

TASK_KEYS = {"id", "plan_id", "parent_id", "level", "code", "title", "lead_units", "co_units", "deadline",
             "deadline_text", "status", "progress", "light", "overdue_days", "version",
             "recurrence", "periods", "current_period",
             "original_deadline", "extension_state"}  # SPEC 6.1, 6.6


def token_for(app, username):
    with app.app_context():
        token = create_token(get_user_by_name(username))
        db.session.commit()
        return token


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_unauthenticated_is_401_json(seeded, client):
    for path in ("/api/v1/plans", "/api/v1/units", "/api/v1/tasks", "/api/v1/overdue"):
        r = client.get(path)
        assert r.status_code == 401 and r.is_json and "error" in r.get_json()
    assert client.get("/api/v1/tasks", headers=bearer("apt_wrong")).status_code == 401


def test_plans_and_units(seeded, client):
    token = token_for(seeded, "dubanke")
    plans = client.get("/api/v1/plans", headers=bearer(token)).get_json()
    assert len(plans) == 1 and "行动计划" in plans[0]["title"]
    units = client.get("/api/v1/units", headers=bearer(token)).get_json()
    assert len(units) >= 56
    assert {"id", "full_name", "short_name", "kind"} <= set(units[0])


def test_tasks_shape_and_filters(seeded, client):
    token = token_for(seeded, "dubanke")
    r = client.get("/api/v1/tasks?today=2024-07-01", headers=bearer(token))
    assert r.status_code == 200
    tasks = r.get_json()
    assert len(tasks) == 175
    assert set(tasks[0]) == TASK_KEYS
    assert {t["level"] for t in tasks} == {1, 2, 3}
    assert all(t["status"] in {"not_started", "in_progress", "pending_review", "done"} for t in tasks)
    assert all(t["light"] in {"red", "yellow", "green", "done"} for t in tasks)
    leaves = client.get("/api/v1/tasks?level=3&today=2024-07-01", headers=bearer(token)).get_json()
    assert len(leaves) == 92
    for t in leaves:
        if t["deadline"]:
            d = date.fromisoformat(t["deadline"])
            if d < TODAY:
                assert t["light"] == "red" and t["overdue_days"] == (TODAY - d).days
        else:
            assert t["deadline_text"] in ("长期坚持", "持续推进") and t["overdue_days"] == 0
    red = client.get("/api/v1/tasks?level=3&light=red&today=2024-07-01", headers=bearer(token)).get_json()
    overdue = client.get("/api/v1/overdue?today=2024-07-01", headers=bearer(token)).get_json()
    assert red and {t["id"] for t in red} == {t["id"] for t in overdue}
    # Replaying an earlier day gives fewer overdue items.
    early = client.get("/api/v1/overdue?today=2024-01-01", headers=bearer(token)).get_json()
    assert len(early) < len(overdue)
    by_unit = client.get("/api/v1/tasks?unit=区交通局&level=3", headers=bearer(token)).get_json()
    assert by_unit and all("区交通局" in t["lead_units"] + t["co_units"] for t in by_unit)
    full_name = client.get("/api/v1/tasks?unit=天津市宝坻区交通运输局&level=3", headers=bearer(token)).get_json()
    assert {t["id"] for t in full_name} == {t["id"] for t in by_unit}
    status = client.get("/api/v1/tasks?status=not_started&level=3", headers=bearer(token)).get_json()
    assert status and all(t["status"] == "not_started" for t in status)


def test_parent_rollup_in_api(seeded, client):
    token = token_for(seeded, "dubanke")
    tasks = client.get("/api/v1/tasks?today=2024-07-01", headers=bearer(token)).get_json()
    by_parent = {}
    for t in tasks:
        by_parent.setdefault(t["parent_id"], []).append(t)
    severity = {"done": 0, "green": 1, "yellow": 2, "red": 3}
    for t in tasks:
        kids = by_parent.get(t["id"])
        if kids:
            assert severity[t["light"]] == max(severity[k["light"]] for k in kids)


def test_unit_user_sees_only_own_tasks_with_ancestors(seeded, client):
    token = token_for(seeded, "jtj")
    tasks = client.get("/api/v1/tasks", headers=bearer(token)).get_json()
    leaves = [t for t in tasks if t["level"] == 3]
    assert leaves and all("区交通局" in t["lead_units"] + t["co_units"] for t in leaves)
    ids = {t["id"] for t in tasks}
    for t in tasks:
        assert t["parent_id"] is None or t["parent_id"] in ids
    with seeded.app_context():
        unit = db.session.execute(select(Unit).where(Unit.short_name == "区交通局")).scalar_one()
        own = {t.id for t in db.session.execute(select(Task).where(Task.is_leaf)).scalars()
               if any(link.unit_id == unit.id for link in t.unit_links)}
    assert {t["id"] for t in leaves} == own
    # Filtering for another unit does not leak.
    other = client.get("/api/v1/tasks?unit=区市场监管局&level=3", headers=bearer(token)).get_json()
    assert all("区交通局" in t["lead_units"] + t["co_units"] for t in other)


def test_session_auth_works_for_api(seeded, client, auth):
    auth.login("leader")
    assert client.get("/api/v1/plans").status_code == 200


@pytest.mark.parametrize("query, field", [
    ("level=abc", "level"), ("level=0", "level"), ("today=2024-13-45", "today"), ("today=yesterday", "today"),
    ("status=finished", "status"), ("light=blue", "light"), ("unit=不存在", "unit"), ("plan=x", "plan"),
])
def test_bad_filters_are_422_json(seeded, client, query, field):
    token = token_for(seeded, "dubanke")
    r = client.get(f"/api/v1/tasks?{query}", headers=bearer(token))
    assert r.status_code == 422, r.data
    body = r.get_json()
    assert field in body["errors"]


def test_unknown_plan_is_404_and_unknown_route_json(seeded, client):
    token = token_for(seeded, "dubanke")
    assert client.get("/api/v1/tasks?plan=999", headers=bearer(token)).status_code == 404
    r = client.get("/api/v1/nothing", headers=bearer(token))
    assert r.status_code == 404 and r.is_json
