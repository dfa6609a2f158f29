"""The ledger (工作台账) layout: one row per measure, parents spanning their rows.

Shared by the ledger page and the Excel export so both show the same thing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from ..lights import NodeState
from ..models import CO, LEAD, Task
from ..status import DONE as DONE_STATUS
from .tasks import PlanView

LEVEL_HEADERS = {1: "一级任务", 2: "二级任务", 3: "三级任务", 4: "四级任务"}


@dataclass
class ParentCell:
    task: Task
    state: NodeState
    rowspan: int


@dataclass
class LedgerRow:
    measure: Task
    state: NodeState
    # One entry per parent level (1 .. depth-1): a cell that starts here, or None
    # where a cell above spans this row, or "" where the measure has no such level.
    parents: list = field(default_factory=list)


@dataclass
class LedgerTable:
    depth: int
    level_headers: list[str]
    rows: list[LedgerRow]


def build_ledger(view: PlanView, tasks: list[Task]) -> LedgerTable:
    """Rows for the measures among ``tasks`` (tree order), with parent cells and spans.

    ``tasks`` is the already filtered list (measures and the ancestors to show).
    """
    by_id = view.by_id
    measures = [t for t in tasks if t.is_leaf]
    depth = max((t.level for t in view.tasks), default=1)
    depth = max(depth, 1)

    def chain(task: Task) -> list[Task]:
        result: list[Task] = []
        pid = task.parent_id
        while pid is not None and pid in by_id:
            result.append(by_id[pid])
            pid = by_id[pid].parent_id
        return list(reversed(result))

    chains = [chain(m) for m in measures]
    # Span of each parent cell: the run of consecutive rows sharing that ancestor
    # (computed backwards in one pass so a 10,000-row ledger stays linear).
    n = len(measures)
    spans: list[list[int]] = [[0] * (depth - 1) for _ in range(n)]
    for i in range(n - 1, -1, -1):
        anc = chains[i]
        nxt = chains[i + 1] if i + 1 < n else []
        for level in range(1, min(depth, len(anc) + 1)):
            same = len(nxt) >= level and nxt[level - 1].id == anc[level - 1].id
            spans[i][level - 1] = 1 + (spans[i + 1][level - 1] if same else 0)
    rows: list[LedgerRow] = []
    states = view.states
    for i, (m, anc) in enumerate(zip(measures, chains)):
        cells: list = []
        prev = chains[i - 1] if i > 0 else []
        for level in range(1, depth):
            if level - 1 >= len(anc):
                cells.append("")
                continue
            node = anc[level - 1]
            if len(prev) >= level and prev[level - 1].id == node.id:
                cells.append(None)
                continue
            cells.append(ParentCell(node, states[node.id], spans[i][level - 1]))
        rows.append(LedgerRow(m, states[m.id], cells))
    headers = [LEVEL_HEADERS.get(level, f"{level}级任务") for level in range(1, depth)]
    return LedgerTable(depth=depth, level_headers=headers, rows=rows)


def unit_names(task: Task, role: str, short: bool = True) -> str:
    units = task.lead_units if role == "lead" else task.co_units
    return "、".join(u.short_name if short else u.full_name for u in units)


__all__ = ["build_ledger", "LedgerTable", "LedgerRow", "ParentCell", "unit_names", "Optional"]


# --- Read-only rows for the big read pages -----------------------------------
# The ledger, the dashboard and the export read a whole plan. Loading ~14,000
# ORM objects (tasks and unit links) costs about a second for a 10,000-measure
# plan; plain rows with the same attribute names cost a tenth of that. Three
# statements in all (tasks, links, units), whatever the plan's size.

_TASK_FIELDS = ("id", "plan_id", "parent_id", "level", "position", "code", "title", "description", "deadline",
                "deadline_text", "is_leaf", "status", "progress", "latest_progress", "last_reported_at",
                "last_report_period", "claimed_on", "completed_on", "overdue_since", "version")


class UnitLinkRow:
    __slots__ = ("task_id", "unit_id", "role", "position", "unit")

    def __init__(self, task_id, unit_id, role, position, unit):
        self.task_id, self.unit_id, self.role, self.position, self.unit = task_id, unit_id, role, position, unit


class TaskRow:
    """A task as read-only plain data, duck-typed like ``models.Task`` for reading."""

    __slots__ = _TASK_FIELDS + ("unit_links",)

    def __init__(self, values):
        for name, value in zip(_TASK_FIELDS, values):
            setattr(self, name, value)
        self.unit_links = []

    @property
    def lead_units(self):
        return [link.unit for link in self.unit_links if link.role == LEAD]

    @property
    def co_units(self):
        return [link.unit for link in self.unit_links if link.role == CO]

    @property
    def is_ongoing(self) -> bool:
        return self.is_leaf and self.deadline is None

    @property
    def is_done(self) -> bool:
        return self.status == DONE_STATUS


def load_plan_rows(plan_id: int) -> list[TaskRow]:
    from sqlalchemy import select

    from ..extensions import db
    from ..models import TaskUnit, Unit

    columns = [getattr(Task, name) for name in _TASK_FIELDS]
    rows = [TaskRow(values) for values in db.session.execute(select(*columns).where(Task.plan_id == plan_id))]
    by_id = {row.id: row for row in rows}
    units = {u.id: u for u in db.session.execute(select(Unit)).scalars()}
    links = db.session.execute(
        select(TaskUnit.task_id, TaskUnit.unit_id, TaskUnit.role, TaskUnit.position)
        .join(Task, Task.id == TaskUnit.task_id)
        .where(Task.plan_id == plan_id)
        .order_by(TaskUnit.task_id, TaskUnit.position)
    )
    for task_id, unit_id, role, position in links:
        by_id[task_id].unit_links.append(UnitLinkRow(task_id, unit_id, role, position, units[unit_id]))
    return rows


def load_ledger_view(plan, actor, today, rules) -> PlanView:
    """Like ``tasks.load_plan_view`` but over read-only rows (fast for large plans)."""
    from .tasks import view_from_tasks

    return view_from_tasks(plan, actor, today, rules, load_plan_rows(plan.id))
