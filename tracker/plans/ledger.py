"""The ledger (工作台账) layout: one row per measure, parents spanning their rows.

Shared by the ledger page and the Excel export so both show the same thing.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..models import LEAD, Task
from ..rules.lights import NodeState
from .periods import period_summary
from .view import PlanView

LEVEL_HEADERS = {1: "一级任务", 2: "二级任务", 3: "三级任务", 4: "四级任务"}


# Read-only (frozen, tuples): tables are shared by the read cache.
@dataclass(frozen=True)
class ParentCell:
    task: Task
    state: NodeState
    rowspan: int


@dataclass(frozen=True)
class LedgerRow:
    measure: Task
    state: NodeState
    # One entry per parent level (1 .. depth-1): a cell that starts here, or None
    # where a cell above spans this row, or "" where the measure has no such level.
    parents: tuple = ()
    # A recurring measure: its current period and periods done ("2024年 · 1/2 年度"), else "".
    period: str = ""


@dataclass(frozen=True)
class LedgerTable:
    depth: int
    level_headers: tuple[str, ...]
    rows: tuple[LedgerRow, ...]


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
        rows.append(LedgerRow(m, states[m.id], tuple(cells), period_summary(m, view.today)))
    headers = [LEVEL_HEADERS.get(level, f"{level}级任务") for level in range(1, depth)]
    return LedgerTable(depth=depth, level_headers=tuple(headers), rows=tuple(rows))


def unit_names(task: Task, role: str, short: bool = True) -> str:
    units = task.lead_units if role == LEAD else task.co_units
    return "、".join(u.short_name if short else u.full_name for u in units)
