"""Warning lights (红黄绿灯) and roll-up: pure functions of ``today`` (SPEC 2.2).

Nothing here reads the clock or the database; callers pass ``today`` and the
task rows (any objects with the attributes used below).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Iterable, Mapping, Optional

from .deadlines import effective_deadline_of
from .status import DONE as DONE_STATUS
from .status import PENDING_REVIEW

RED, YELLOW, GREEN, DONE = "red", "yellow", "green", "done"
LIGHTS = (RED, YELLOW, GREEN, DONE)
LIGHT_LABELS = {RED: "逾期", YELLOW: "临期", GREEN: "正常", DONE: "已完成"}
# Higher is worse; a parent shows its worst child.
SEVERITY = {DONE: 0, GREEN: 1, YELLOW: 2, RED: 3}


@dataclass(frozen=True)
class LightRules:
    warning_days: int = 15
    report_due_day: int = 25

    @classmethod
    def from_config(cls, config) -> "LightRules":
        return cls(warning_days=int(config["WARNING_DAYS"]), report_due_day=int(config["REPORT_DUE_DAY"]))


@dataclass(frozen=True)
class LightResult:
    light: str
    overdue_days: int = 0
    reason: str = ""
    report_missing: bool = False


def report_period(day: date) -> str:
    """The monthly reporting period a day belongs to, e.g. ``2024-05``."""
    return f"{day.year:04d}-{day.month:02d}"


def report_missing(last_report_period: str, today: date, rules: LightRules = LightRules()) -> bool:
    """True when this month's report is due (past the due day) and not yet in."""
    return today.day > rules.report_due_day and (last_report_period or "") < report_period(today)


def report_owed(status: str, last_report_period: str, period: str) -> bool:
    """The one rule for "this measure owes a report for ``period``" (未报送 and 本月未报送 alike).

    Only open measures that can take a report owe one: 未启动 and 推进中. A measure whose
    completion claim waits for review (待审核) cannot take a report (its form is hidden) and
    a finished one has nothing to report, so neither is listed.
    """
    from .status import IN_PROGRESS, NOT_STARTED

    return status in (NOT_STARTED, IN_PROGRESS) and (last_report_period or "") < period


def is_overdue(status: str, deadline: Optional[date], claimed_on: Optional[date], today: date) -> bool:
    """The overdue rule (the red light): past the deadline, not done, and not claimed (申请销号) by the deadline."""
    if status == DONE_STATUS or deadline is None or deadline >= today:
        return False
    return not (status == PENDING_REVIEW and claimed_on is not None and claimed_on <= deadline)


def measure_light(
    *,
    status: str,
    deadline: Optional[date],
    today: date,
    last_report_period: str = "",
    claimed_on: Optional[date] = None,
    rules: LightRules = LightRules(),
) -> LightResult:
    """Light of one measure (leaf) on ``today``."""
    if status == DONE_STATUS:
        return LightResult(DONE, reason="已销号")
    if is_overdue(status, deadline, claimed_on, today):
        days = (today - deadline).days
        return LightResult(RED, overdue_days=days, reason=f"逾期{days}天")
    if status == PENDING_REVIEW:
        # A completion claim waits for the bureau; it is not the unit's delay.
        return LightResult(GREEN, reason="待审核")
    if deadline is not None and (deadline - today).days <= rules.warning_days:
        left = (deadline - today).days
        return LightResult(YELLOW, reason="今日到期" if left == 0 else f"距完成时限{left}天")
    if report_missing(last_report_period, today, rules):
        return LightResult(YELLOW, reason="本月未报送", report_missing=True)
    return LightResult(GREEN)


def worst(lights: Iterable[str]) -> str:
    lights = list(lights)
    if not lights:
        return GREEN
    return max(lights, key=SEVERITY.__getitem__)


def frozen_counts(counts: Counter) -> Mapping[str, int]:
    """A read-only view of a Counter (missing lights still count 0)."""
    return MappingProxyType(counts)


@dataclass(frozen=True)
class NodeState:
    """Computed state of one node: its own light for leaves, rolled up for parents (read-only:
    states are shared by the read cache)."""

    light: str
    percent: float
    counts: Mapping[str, int] = field(default_factory=lambda: frozen_counts(Counter()))  # measures by light
    overdue_days: int = 0
    reason: str = ""
    report_missing: bool = False

    @property
    def done(self) -> bool:
        return self.light == DONE

    @property
    def measures(self) -> int:
        return sum(self.counts.values())


def leaf_state(task, today: date, rules: LightRules = LightRules()) -> NodeState:
    result = measure_light(
        status=task.status,
        deadline=effective_deadline_of(task.deadline, getattr(task, "extended_deadline", None)),
        today=today,
        last_report_period=getattr(task, "last_report_period", "") or "",
        claimed_on=getattr(task, "claimed_on", None),
        rules=rules,
    )
    percent = 100.0 if task.status == DONE_STATUS else float(task.progress or 0)
    return NodeState(
        light=result.light,
        percent=percent,
        counts=frozen_counts(Counter({result.light: 1})),
        overdue_days=result.overdue_days,
        reason=result.reason,
        report_missing=result.report_missing,
    )


def rollup(children: list[NodeState]) -> NodeState:
    """Parent state: mean percent, worst light, summed counts; done when all are done."""
    if not children:
        return NodeState(light=GREEN, percent=0.0)
    counts: Counter = Counter()
    for child in children:
        counts.update(child.counts)
    return NodeState(
        light=worst(c.light for c in children),
        percent=sum(c.percent for c in children) / len(children),
        counts=frozen_counts(counts),
        overdue_days=max(c.overdue_days for c in children),
    )


def evaluate_tree(tasks: Iterable, today: date, rules: LightRules = LightRules()) -> dict[int, NodeState]:
    """States of every node of one or more trees, keyed by task id.

    ``tasks`` needs ``id``, ``parent_id``, ``is_leaf`` and the leaf attributes.
    Nodes whose parent is not in ``tasks`` are treated as roots.
    """
    tasks = list(tasks)
    by_parent: dict[Optional[int], list] = {}
    ids = {t.id for t in tasks}
    for t in tasks:
        key = t.parent_id if t.parent_id in ids else None
        by_parent.setdefault(key, []).append(t)
    states: dict[int, NodeState] = {}

    # Iterative post-order so a deep plan cannot hit the recursion limit.
    stack: list[tuple[object, bool]] = [(t, False) for t in by_parent.get(None, [])]
    while stack:
        node, expanded = stack.pop()
        kids = by_parent.get(node.id, [])
        if node.is_leaf and not kids:
            states[node.id] = leaf_state(node, today, rules)
        elif expanded:
            states[node.id] = rollup([states[k.id] for k in kids])
        else:
            stack.append((node, True))
            stack.extend((k, False) for k in kids)
    return states
