"""The per-process read cache never serves stale data: every committed change to the
plan data bumps the data revision, through the web, the API, services, bulk
updates and other processes (another app on the same database)."""
from sqlalchemy import select, update

from tests.conftest import TODAY, base_config
from tests.workflow import measure, report, task_row, token_for
from tracker import create_app
from tracker.cache.revision import current_revision
from tracker.extensions import db
from tracker.models import Task, Unit


def revision(app):
    with app.app_context():
        return current_revision(db.session)


def ledger(client, query=""):
    r = client.get(f"/ledger?today={TODAY.isoformat()}{query}")
    assert r.status_code == 200
    return r.get_data(as_text=True)


def rows(page: str) -> str:
    """The ledger's rows (the rest of the page carries a CSRF token signed with the time)."""
    return page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]


def test_report_shows_on_the_cached_ledger_at_once(seeded, client, auth):
    task_id = measure(seeded, "jtj")
    auth.login("jtj")
    before = ledger(client)
    assert "路警协作推进情况甲乙丙" not in before
    assert rows(ledger(client)) == rows(before)  # served from the cache: the same rows
    version = task_row(seeded, task_id)["version"]
    r = report(client, task_id, version, narrative="路警协作推进情况甲乙丙", progress="55")
    assert r.status_code in (302, 303), r.status_code
    assert "路警协作推进情况甲乙丙" in ledger(client)
    tasks = client.get(f"/api/v1/tasks?level=3&today={TODAY.isoformat()}").get_json()
    assert next(t for t in tasks if t["id"] == task_id)["progress"] == 55


def test_each_commit_that_changes_plan_data_bumps_the_revision(seeded):
    r0 = revision(seeded)
    assert r0 is not None
    with seeded.app_context():
        db.session.execute(select(Task.id)).all()  # a read
        db.session.commit()
    assert revision(seeded) == r0  # reads don't bump
    with seeded.app_context():
        db.session.execute(update(Task).where(Task.level == 3).values(progress=Task.progress))  # bulk statement
        db.session.commit()
    r1 = revision(seeded)
    assert r1[1] == r0[1] + 1 and r1[0] == r0[0]
    with seeded.app_context():
        t = db.session.execute(select(Task).where(Task.level == 3).limit(1)).scalar_one()
        t.title = t.title + "（修订）"
        db.session.rollback()  # a rolled-back change doesn't count
    assert revision(seeded) == r1


def test_unit_rename_shows_in_the_ledger(seeded, client, auth):
    auth.login("leader")
    assert "区交通局" in ledger(client)
    with seeded.app_context():
        unit = db.session.execute(select(Unit).where(Unit.short_name == "区交通局")).scalar_one()
        unit.short_name = "区交通运输局（改）"
        db.session.commit()
    page = ledger(client)
    assert "区交通运输局（改）" in page


def test_bulk_overdue_flagging_and_day_change(seeded, client, auth, runner):
    auth.login("leader")
    first = client.get("/api/v1/overdue?today=2024-07-01").get_json()
    later = client.get("/api/v1/overdue?today=2025-07-01").get_json()
    assert len(later) > len(first)  # the day is part of the key
    result = runner.invoke(args=["check-overdue", "--today", "2024-07-01"])
    assert result.exit_code == 0


def test_another_process_write_is_seen(seeded, client, auth, tmp_path, monkeypatch):
    """A second app on the same database (as another gunicorn worker would be) writes; this one sees it."""
    auth.login("leader")
    task_id = measure(seeded, "scjgj")
    before = client.get(f"/api/v1/tasks?level=3&today={TODAY.isoformat()}").get_json()
    assert next(t for t in before if t["id"] == task_id)["status"] == "not_started"
    config = base_config(tmp_path)
    config["SQLALCHEMY_DATABASE_URI"] = seeded.config["SQLALCHEMY_DATABASE_URI"]
    other = create_app(config)  # no schema preparation: same database, as another worker
    other_client = other.test_client()
    headers = token_for(other, "scjgj")
    r = other_client.post(f"/api/v1/tasks/{task_id}/updates", headers=headers,
                          json={"status": "in_progress", "progress": 30, "narrative": "另一进程写入",
                                "problems": "", "next_steps": "", "version": 1})
    assert r.status_code == 201, r.get_json()
    after = client.get(f"/api/v1/tasks?level=3&today={TODAY.isoformat()}").get_json()
    row = next(t for t in after if t["id"] == task_id)
    assert row["status"] == "in_progress" and row["progress"] == 30


def test_first_level_subtree_view_matches_the_full_view(seeded):
    from tracker.accounts.users import get_user_by_name
    from tracker.plans.tasks import TaskFilter, filter_with_context, get_plan, load_plan_view
    from tracker.rules.lights import LightRules

    with seeded.app_context():
        user, plan = get_user_by_name("dubanke"), get_plan(None)
        full = load_plan_view(plan, user, TODAY, LightRules())
        roots = [t for t in full.tasks if t.parent_id is None]
        assert len(roots) == 20
        for root in roots:
            sub = load_plan_view(plan, user, TODAY, LightRules(), root_id=root.id)
            f = TaskFilter(root_id=root.id)
            expected = [(t.id, full.states[t.id].light, full.states[t.id].percent, full.states[t.id].counts)
                        for t in filter_with_context(full, f)]
            got = [(t.id, sub.states[t.id].light, sub.states[t.id].percent, sub.states[t.id].counts)
                   for t in filter_with_context(sub, f)]
            assert got == expected and len(got) >= 3
            assert len(sub.tasks) < len(full.tasks)
