"""The ledger, dashboard and task list run a fixed number of SQL statements, whatever the plan's size."""
from __future__ import annotations

from sqlalchemy import select

from tests.queries import counting
from tracker.extensions import db
from tracker.models import LEAD, Task, TaskUnit, Unit

PAGES = ["/ledger", "/", "/api/v1/tasks?today=2024-07-01", "/ledger?unit=区交通局"]


def page_counts(app, client) -> dict[str, int]:
    counts = {}
    for path in PAGES:
        client.get(path)  # warm-up (first request)
        with counting(app) as statements:
            assert client.get(path).status_code == 200, path
        counts[path] = len(statements)
    return counts


def add_measures(app, n: int) -> None:
    with app.app_context():
        parent = db.session.execute(select(Task).where(Task.level == 2).order_by(Task.id)).scalars().first()
        units = db.session.execute(select(Unit).order_by(Unit.id).limit(3)).scalars().all()
        for i in range(n):
            t = Task(plan_id=parent.plan_id, parent_id=parent.id, level=3, position=100 + i, code=f"X{i}",
                     title=f"新增举措{i}", is_leaf=True, deadline_text="2024年12月底前")
            t.unit_links = [TaskUnit(unit=u, role=LEAD, position=j) for j, u in enumerate(units)]
            db.session.add(t)
        db.session.commit()


def test_pages_run_a_fixed_number_of_statements(seeded, client, auth):
    auth.login("dubanke")
    before = page_counts(seeded, client)
    assert all(n <= 8 for n in before.values()), before  # no statement per row
    add_measures(seeded, 40)
    assert page_counts(seeded, client) == before


def test_unit_user_pages_run_a_fixed_number_of_statements(seeded, client, auth):
    auth.login("jtj")
    before = page_counts(seeded, client)
    assert all(n <= 8 for n in before.values()), before
    add_measures(seeded, 40)
    assert page_counts(seeded, client) == before
