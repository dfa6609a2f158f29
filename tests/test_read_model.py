"""The one read shape of a task (``plans.rows.TaskRow``): the reminders' loader of open measures
returns it with its units, at a fixed number of statements; units read as ``UnitInfo`` name and
address themselves exactly like ``models.Unit``."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from bench.synth import populate
from tests.queries import counting
from tracker.extensions import db
from tracker.models import LEAD, Task, Unit
from tracker.plans.rows import TaskRow, UnitInfo, load_open_measures, load_plan_rows
from tracker.rules.status import DONE


def test_open_measures_are_sealed_rows_with_their_units(seeded):
    with seeded.app_context():
        task = db.session.execute(select(Task).where(Task.is_leaf.is_(True)).order_by(Task.id)).scalars().first()
        task.status = DONE
        db.session.commit()
        open_ids = set(db.session.execute(
            select(Task.id).where(Task.is_leaf.is_(True), Task.status != DONE)).scalars())
        rows = load_open_measures()
        assert {r.id for r in rows} == open_ids and task.id not in open_ids
        assert [r.id for r in rows] == sorted(open_ids)  # id order
        row = rows[0]
        assert isinstance(row, TaskRow) and row.is_leaf and row.status != DONE
        model = db.session.get(Task, row.id)
        assert [u.name for u in row.lead_units] == [u.name for u in model.lead_units]
        assert [u.id for u in row.co_units] == [u.id for u in model.co_units]
        assert all(isinstance(u, UnitInfo) for u in row.lead_units + row.co_units)
        assert row.effective_deadline == model.effective_deadline and row.deadline_label == model.deadline_label
        with pytest.raises(AttributeError):
            row.status = DONE


def test_open_measures_can_be_narrowed(seeded):
    with seeded.app_context():
        unit = db.session.execute(select(Unit).where(Unit.short_name == "区交通局")).scalar_one()
        rows = load_open_measures(Task.unit_links.any(unit_id=unit.id, role=LEAD))
        assert rows and all(unit.id in {u.id for u in r.lead_units} for r in rows)


def test_loaders_run_a_fixed_number_of_statements(seeded):
    with seeded.app_context():
        plan_id = db.session.execute(select(Task.plan_id).limit(1)).scalar_one()
    counts = []
    for extra in (0, 300):
        if extra:
            with seeded.app_context():
                populate(extra, seed=3)
        with counting(seeded) as statements, seeded.app_context():
            load_open_measures()
            load_plan_rows(plan_id)
        counts.append(len(statements))
    assert counts[0] == counts[1] <= 8, counts


def test_unit_info_names_and_addresses_itself_like_the_model(seeded):
    with seeded.app_context():
        unit = db.session.execute(select(Unit).order_by(Unit.id)).scalars().first()
        unit.emails = " a@x.cn; ;b@x.cn ;"
        unit.short_name = ""
        info = UnitInfo(unit.id, unit.full_name, unit.short_name, unit.kind, unit.emails, unit.active)
        assert info.email_list == unit.email_list == ["a@x.cn", "b@x.cn"]
        assert info.name == unit.name == unit.full_name
        db.session.rollback()
