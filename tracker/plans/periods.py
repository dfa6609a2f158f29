"""Recurring measures in the database: creating their periods, mirroring the measure's
status fields into its current period, and moving on to the next period (SPEC 6.6).

The rules (which period is current, its deadline and light) are pure functions in
``tracker/rules/periods.py``; this module applies them. The measure's own fields (deadline,
status, progress, claim, 销号) always show its current period, so overdue flags,
reminders, lights and 未报送 work per period without knowing about periods; each
period keeps its own state in ``task_periods``.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Task, TaskEvent, TaskPeriod
from ..rules.deadlines import Recurrence
from ..rules.lights import LightRules
from ..rules.periods import EVERY_LABELS, build_periods, current_period, done_count, label_cn, period_light
from ..rules.status import IN_PROGRESS, NOT_STARTED


def recurrence_of(task) -> Optional[Recurrence]:
    return Recurrence(task.recurrence_every, task.recurrence_due) if task.recurrence_every else None


def attach_periods(task: Task, recurrence: Recurrence, span_start: date, span_end: date,
                   first_from: Optional[date] = None) -> None:
    """Give a new measure its periods; it starts on the first one."""
    specs = build_periods(recurrence, span_start, span_end, first_from)
    task.recurrence_every, task.recurrence_due = recurrence.every, recurrence.due
    task.periods = [TaskPeriod(label=p.label, position=i, start=p.start, deadline=p.deadline, status=NOT_STARTED,
                               progress=0, version=1) for i, p in enumerate(specs)]
    if specs:
        task.current_period = specs[0].label
        task.deadline = specs[0].deadline
        task.status = NOT_STARTED


def mirror(task: Task) -> Optional[TaskPeriod]:
    """Copy the measure's status fields into its current period row (same transaction)."""
    if not task.recurrence_every:
        return None
    period = next((p for p in task.periods if p.label == task.current_period), None)
    if period is None:
        return None
    state = (task.status, task.progress, task.claimed_on, task.completed_on)
    if (period.status, period.progress, period.claimed_on, period.completed_on) != state:
        period.status, period.progress, period.claimed_on, period.completed_on = state
        period.version += 1
    return period


def advance(task: Task, today: date) -> bool:
    """Move the measure to its current period for ``today``; True when it changed period."""
    if not task.recurrence_every:
        return False
    mirror(task)
    period = current_period(task.periods, today)
    if period is None or period.label == task.current_period:
        return False
    previous = task.current_period
    task.current_period = period.label
    task.deadline = period.deadline
    # An extension (SPEC 6.1) moved the deadline of the period it was granted for, not the next one.
    task.extended_deadline = None
    if task.extension_state != "pending":
        task.extension_state = None
    task.status = period.status if period.status != NOT_STARTED or not period.progress else IN_PROGRESS
    task.progress = period.progress
    task.claimed_on = period.claimed_on
    task.completed_on = period.completed_on
    if period.completed_on is None:
        task.completed_by_id = None
    task.return_comment = ""
    task.version += 1
    db.session.add(TaskEvent(task_id=task.id, kind="period", event_date=today,
                             note=f"进入{label_cn(period.label)}周期（上一周期：{label_cn(previous)}）"))
    return True


@dataclass(frozen=True)
class PeriodCard:
    label: str
    title: str  # 2024年
    deadline: date
    status: str
    light: str
    current: bool


def period_cards(task, today: date, rules: LightRules = LightRules()) -> list[PeriodCard]:
    """The task page's row of small cards, one per period, with its own light."""
    if not getattr(task, "recurrence_every", ""):
        return []
    return [PeriodCard(p.label, label_cn(p.label), p.deadline, p.status, period_light(p, today, rules),
                       p.label == task.current_period) for p in task.periods]


def period_summary(task, today: date) -> str:
    """The ledger's note on a recurring measure: "2024年 · 1/2 年度" (current period, done of started)."""
    if not getattr(task, "recurrence_every", ""):
        return ""
    done, started = done_count(task.periods, today)
    return f"{label_cn(task.current_period)} · {done}/{max(started, 1)} {EVERY_LABELS[task.recurrence_every]}"


def roll_periods(today: date) -> set[int]:
    """Move every recurring measure to its current period (the daily sweep); one commit.
    Returns the ids of the measures that moved on."""
    tasks = db.session.execute(
        select(Task).options(selectinload(Task.periods))
        .where(Task.is_leaf.is_(True), Task.recurrence_every != "")
        .order_by(Task.id)
    ).scalars().all()
    moved = {task.id for task in tasks if advance(task, today)}
    db.session.commit()
    return moved
