"""The one read shape of a task: ``TaskRow`` (with ``UnitInfo`` units and ``PeriodRow`` periods).

The ledger, dashboard, export, API, my tasks, the bureau's lists and the reminders
read tasks as these plain, sealed rows; ``models.Task`` is for writing. Loading
~14,000 ORM objects (tasks and unit links) costs about a second for a
10,000-measure plan; plain rows with the same attribute names cost a tenth of
that. Every loader runs a fixed number of statements (tasks, units, unit links,
and periods when a recurring measure is among them), whatever the plan's size.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, Optional

from sqlalchemy import and_, select

from ..extensions import db
from ..models import Task, TaskPeriod, TaskReading, TaskUnit, Unit, UnitReading
from ..rules.status import DONE

_TASK_FIELDS = ("id", "plan_id", "parent_id", "level", "position", "code", "title", "description", "deadline",
                "deadline_text", "is_leaf", "status", "progress", "latest_progress", "last_reported_at",
                "last_report_period", "claimed_on", "completed_on", "completed_by_id", "return_comment",
                "overdue_since", "extended_deadline", "extension_state", "version", "updated_at",
                "recurrence_every", "recurrence_due", "current_period")
_PERIOD_FIELDS = ("task_id", "label", "position", "start", "deadline", "status", "progress", "claimed_on",
                  "completed_on")


@dataclass(frozen=True)
class UnitInfo(UnitReading):
    """A unit as plain data (safe to keep across requests in the read cache); ``name`` and
    ``email_list`` come from ``models.UnitReading``, as on ``models.Unit``."""

    id: int
    full_name: str
    short_name: str
    kind: str
    emails: str
    active: bool


class UnitLinkRow(NamedTuple):
    task_id: int
    unit_id: int
    role: str
    position: int
    unit: UnitInfo


class TaskRow(TaskReading):
    """A task as read-only plain data, duck-typed like ``models.Task`` for reading.

    Sealed once loaded (``seal``): it is shared by every reader of the read cache, so
    setting an attribute raises instead of changing what the next reader sees.
    """

    __slots__ = _TASK_FIELDS + ("unit_links", "periods", "_sealed")
    unit_links: tuple[UnitLinkRow, ...]
    periods: tuple["PeriodRow", ...]

    def __init__(self, values):
        for name, value in zip(_TASK_FIELDS, values):
            object.__setattr__(self, name, value)
        object.__setattr__(self, "unit_links", [])
        object.__setattr__(self, "periods", [])
        object.__setattr__(self, "_sealed", False)

    def seal(self) -> "TaskRow":
        object.__setattr__(self, "unit_links", tuple(self.unit_links))
        object.__setattr__(self, "periods", tuple(self.periods))
        object.__setattr__(self, "_sealed", True)
        return self

    def __setattr__(self, name, value):
        if self._sealed:
            raise AttributeError(f"TaskRow is read-only (shared by the read cache): {name}")
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        raise AttributeError(f"TaskRow is read-only (shared by the read cache): {name}")


class PeriodRow:
    """One period of a recurring measure as read-only plain data (like ``models.TaskPeriod``)."""

    __slots__ = _PERIOD_FIELDS
    _sealed = True  # read-only from birth (the read cache's immutability check looks for this)

    def __init__(self, values):
        for name, value in zip(_PERIOD_FIELDS, values):
            object.__setattr__(self, name, value)

    def __setattr__(self, name, value):
        raise AttributeError(f"PeriodRow is read-only (shared by the read cache): {name}")

    def __delattr__(self, name):
        raise AttributeError(f"PeriodRow is read-only (shared by the read cache): {name}")


def subtree_ids(root_id: int):
    """A SELECT of the ids of ``root_id`` and all its descendants (recursive CTE)."""
    sub = select(Task.id).where(Task.id == root_id).cte("subtree", recursive=True)
    sub = sub.union_all(select(Task.id).join(sub, Task.parent_id == sub.c.id))
    return select(sub.c.id)


def load_rows(*where) -> list[TaskRow]:
    """The tasks matching ``where`` (SQL conditions on ``Task``), in id order, with their
    units and periods, sealed: three statements (four with a recurring measure among them)."""
    condition = and_(*where)
    columns = [getattr(Task, name) for name in _TASK_FIELDS]
    rows = [TaskRow(values) for values in db.session.execute(select(*columns).where(condition).order_by(Task.id))]
    by_id = {row.id: row for row in rows}
    units = {row[0]: UnitInfo(*row) for row in db.session.execute(
        select(Unit.id, Unit.full_name, Unit.short_name, Unit.kind, Unit.emails, Unit.active))}
    links = db.session.execute(
        select(TaskUnit.task_id, TaskUnit.unit_id, TaskUnit.role, TaskUnit.position)
        .join(Task, Task.id == TaskUnit.task_id)
        .where(condition)
        .order_by(TaskUnit.task_id, TaskUnit.position, TaskUnit.unit_id)
    )
    for task_id, unit_id, role, position in links:
        by_id[task_id].unit_links.append(UnitLinkRow(task_id, unit_id, role, position, units[unit_id]))
    if any(row.recurrence_every for row in rows):
        periods = db.session.execute(
            select(*[getattr(TaskPeriod, name) for name in _PERIOD_FIELDS])
            .join(Task, Task.id == TaskPeriod.task_id).where(condition)
            .order_by(TaskPeriod.task_id, TaskPeriod.position))
        for values in periods:
            by_id[values[0]].periods.append(PeriodRow(values))
    return [row.seal() for row in rows]


def load_plan_rows(plan_id: int, root_id: Optional[int] = None) -> list[TaskRow]:
    """A plan's tasks (or one first-level task's subtree)."""
    where = [Task.plan_id == plan_id]
    if root_id is not None:
        where.append(Task.id.in_(subtree_ids(root_id)))
    return load_rows(*where)


def load_open_measures(*where) -> list[TaskRow]:
    """Every measure not done (of every plan), in id order; ``where`` narrows it further."""
    return load_rows(Task.is_leaf.is_(True), Task.status != DONE, *where)
