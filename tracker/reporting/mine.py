"""My tasks (我的任务): a unit's own measures, lead and co-operating, grouped by first-level task
across plans, what needs attention first; and the quick filters of that page."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Optional

from ..errors import Invalid
from ..models import User
from ..plans.access import list_plans, unit_role
from ..plans.rows import TaskRow
from ..plans.view import load_plan_view, root_map
from ..rules.lights import is_due_soon, report_owed, report_period
from ..rules.status import DONE, PENDING_REVIEW

QUICK_FILTERS = {"overdue": "已逾期", "due_soon": "临近期限", "unreported": "本月未报送"}


def parse_quick(value: str) -> str:
    value = (value or "").strip()
    if value and value not in QUICK_FILTERS:
        raise Invalid({"filter": ["筛选条件应为 " + "、".join(QUICK_FILTERS) + " 之一"]})
    return value


def matches_quick(task: TaskRow, state, quick: str, today: date, rules) -> bool:
    if not quick:
        return True
    if task.status == DONE:
        return False
    if quick == "overdue":
        return state.light == "red"
    if quick == "due_soon":
        return is_due_soon(task.status, task.effective_deadline, today, rules.warning_days)
    if quick == "unreported":
        return report_owed(task.status, task.last_report_period, report_period(today))
    return True


@dataclass
class MyGroup:
    plan: Any
    root: TaskRow
    root_state: Any
    rows: list  # (task, state, role)


def attention_rank(task: TaskRow, state) -> int:
    """What needs the unit first: returned claims, overdue, due soon or unreported, then the rest."""
    if task.status == DONE:
        return 5
    if task.return_comment:
        return 0
    if state.light == "red":
        return 1
    if state.light == "yellow":
        return 2
    if task.status == PENDING_REVIEW:
        return 4
    return 3


def my_tasks(actor: User, today: date, rules, quick: str = "",
             counts: Optional[dict] = None) -> list[MyGroup]:
    """A unit's measures (lead and co-operating) grouped by first-level task, across plans.

    Rows and groups come in order of attention (``attention_rank``), plan order within a rank.
    ``counts``, when given, receives the number of the unit's measures per quick filter ("" = all).
    """
    if counts is not None:
        counts.update({key: 0 for key in ("", *QUICK_FILTERS)})
    groups: list[MyGroup] = []
    for plan in list_plans():
        view = load_plan_view(plan, actor, today, rules)
        roots = root_map(view.tasks)
        by_id = view.by_id
        current: dict[int, MyGroup] = {}
        for t in view.tasks:
            if not (t.is_leaf and t.id in view.own):
                continue
            state = view.states[t.id]
            if counts is not None:
                counts[""] += 1
                for key in QUICK_FILTERS:
                    counts[key] += matches_quick(t, state, key, today, rules)
            if not matches_quick(t, state, quick, today, rules):
                continue
            root_id = roots[t.id]
            group = current.get(root_id)
            if group is None:
                group = current[root_id] = MyGroup(plan, by_id[root_id], view.states[root_id], [])
                groups.append(group)
            group.rows.append((t, state, unit_role(t, actor.unit_id)))
    for group in groups:
        group.rows.sort(key=lambda row: attention_rank(row[0], row[1]))  # stable: plan order within a rank
    groups.sort(key=lambda g: min(attention_rank(t, s) for t, s, _ in g.rows))
    return groups
