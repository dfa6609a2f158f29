"""Finding plans, units and tasks, and who may see or lead what.

``get_task_for`` hands a writer (or the task page) the ``models.Task`` the actor may
read; whole-plan readers use ``rows.TaskRow`` instead (``view.load_plan_view``).
"""
from __future__ import annotations

from typing import Optional

from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from ..errors import Forbidden, NotFound
from ..extensions import db
from ..models import CO, LEAD, Plan, Task, TaskUnit, Unit, User
from ..validation import INT32_MAX


def task_query():
    """Tasks with their units joined in (one statement however many rows; call ``.unique()``)."""
    return select(Task).options(joinedload(Task.unit_links).joinedload(TaskUnit.unit))


def list_plans() -> list[Plan]:
    return list(db.session.execute(select(Plan).order_by(Plan.id)).scalars())


def plan_roots(plan_id: int) -> list:
    """First-level tasks of a plan (id, code, title), in order: one statement."""
    return list(db.session.execute(
        select(Task.id, Task.code, Task.title).where(Task.plan_id == plan_id, Task.parent_id.is_(None))
        .order_by(Task.position, Task.id)))


def get_plan(plan_id: Optional[int]) -> Plan:
    """The plan asked for, or the first one; NotFound when there is none."""
    if plan_id is None:
        plan = db.session.execute(select(Plan).order_by(Plan.id).limit(1)).scalar_one_or_none()
    else:
        plan = db.session.get(Plan, plan_id)
    if plan is None:
        raise NotFound("未找到该计划" if plan_id is not None else "尚未导入任何计划")
    return plan


def find_unit(name_or_id: str | int) -> Unit:
    """A unit by id, full name or short name."""
    text = str(name_or_id).strip()
    unit = None
    if text.isascii() and text.isdigit():
        unit = db.session.get(Unit, int(text)) if len(text) <= 10 and int(text) <= INT32_MAX else None
    if unit is None:
        unit = db.session.execute(
            select(Unit).where(or_(Unit.full_name == text, Unit.short_name == text))
        ).scalar_one_or_none()
    if unit is None:
        raise NotFound(f"未找到单位：{text}")
    return unit


def leads_measure(task, unit_id: int) -> bool:
    """The one definition of "a measure the unit leads" (牵头举措): a leaf where it is a lead unit.

    The units page (``measure_counts_by_unit``) and the dashboard's ranking both count this.
    """
    return task.is_leaf and any(link.unit_id == unit_id and link.role == LEAD for link in task.unit_links)


def measure_counts_by_unit() -> dict[tuple[int, str], int]:
    """(unit id, ``lead`` | ``co``) → number of measures (leaves); a unit that leads a measure
    is not counted again as co-operating on it. One statement."""
    rows = db.session.execute(
        select(TaskUnit.unit_id, TaskUnit.task_id, TaskUnit.role)
        .join(Task, Task.id == TaskUnit.task_id).where(Task.is_leaf.is_(True))
    ).all()
    roles: dict[tuple[int, int], str] = {}
    for unit_id, task_id, role in rows:
        if roles.get((unit_id, task_id)) != LEAD:
            roles[(unit_id, task_id)] = role
    counts: dict[tuple[int, str], int] = {}
    for (unit_id, _task_id), role in roles.items():
        counts[(unit_id, role)] = counts.get((unit_id, role), 0) + 1
    return counts


def get_task_for(actor: User, task_id: int) -> Task:
    """A task the actor may read; NotFound or Forbidden otherwise."""
    task = db.session.execute(task_query().where(Task.id == task_id)).scalars().unique().one_or_none()
    if task is None:
        raise NotFound("未找到该任务")
    if actor.can_read_all:
        return task
    if not actor.unit_id:
        raise Forbidden()
    if not can_unit_see(task, actor.unit_id):
        raise Forbidden("该任务不属于本单位")
    return task


def can_unit_see(task: Task, unit_id: int) -> bool:
    """A unit sees its own tasks and, for context, their ancestors."""
    if any(link.unit_id == unit_id for link in task.unit_links):
        return True
    # Ancestor of one of the unit's tasks?
    ids = [task.id]
    seen = set(ids)
    while ids:
        rows = db.session.execute(
            select(Task.id).where(Task.parent_id.in_(ids))
        ).scalars().all()
        if rows:
            hit = db.session.execute(
                select(TaskUnit.task_id).where(TaskUnit.task_id.in_(rows), TaskUnit.unit_id == unit_id).limit(1)
            ).first()
            if hit:
                return True
        ids = [r for r in rows if r not in seen]
        seen.update(ids)
    return False


def unit_role(task, unit_id: Optional[int]) -> Optional[str]:
    """``lead``, ``co`` or None for a unit on a task (a Task or a TaskRow)."""
    roles = {link.role for link in task.unit_links if link.unit_id == unit_id}
    if LEAD in roles:
        return LEAD
    if CO in roles:
        return CO
    return None


def ancestors(task: Task) -> list[Task]:
    chain: list[Task] = []
    node = task.parent
    while node is not None:
        chain.append(node)
        node = node.parent
    return list(reversed(chain))
