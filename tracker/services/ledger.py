"""The ledger (工作台账) layout: one row per measure, parents spanning their rows.

Shared by the ledger page and the Excel export so both show the same thing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from ..lights import NodeState
from ..models import Task
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
    rows: list[LedgerRow] = []
    for i, (m, anc) in enumerate(zip(measures, chains)):
        cells: list = []
        for level in range(1, depth):
            if level - 1 >= len(anc):
                cells.append("")
                continue
            node = anc[level - 1]
            prev = chains[i - 1] if i > 0 else []
            if i > 0 and len(prev) >= level and prev[level - 1].id == node.id:
                cells.append(None)
                continue
            span = 1
            for later in chains[i + 1:]:
                if len(later) >= level and later[level - 1].id == node.id:
                    span += 1
                else:
                    break
            cells.append(ParentCell(node, view.states[node.id], span))
        rows.append(LedgerRow(m, view.states[m.id], cells))
    headers = [LEVEL_HEADERS.get(level, f"{level}级任务") for level in range(1, depth)]
    return LedgerTable(depth=depth, level_headers=headers, rows=rows)


def unit_names(task: Task, role: str, short: bool = True) -> str:
    units = task.lead_units if role == "lead" else task.co_units
    return "、".join(u.short_name if short else u.full_name for u in units)


__all__ = ["build_ledger", "LedgerTable", "LedgerRow", "ParentCell", "unit_names", "Optional"]
