"""Overdue flags (SPEC 2.2): when each measure first became overdue, kept in its history.

``check_overdue(today)`` is idempotent and safe in two processes at once: every
change is a conditional UPDATE (``… WHERE overdue_since IS NULL`` / ``IS NOT
NULL``) and the history event is only written when this process changed the row.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import insert, select, update

from ..extensions import db
from ..models import Task, TaskEvent, utcnow
from ..plans.periods import roll_periods
from ..rules.lights import is_overdue
from ..rules.status import DONE, PENDING_REVIEW

CHUNK = 500  # ids per UPDATE … IN (…), well under every driver's parameter limit


@dataclass
class OverdueResult:
    flagged: int = 0
    cleared: int = 0
    overdue_total: int = 0

    def __str__(self) -> str:
        return f"新增逾期 {self.flagged} 项，解除逾期 {self.cleared} 项，当前逾期共 {self.overdue_total} 项"


def _set_overdue_since(ids: list[int], value: date | None) -> list[int]:
    """Conditionally set ``overdue_since`` on ``ids``; returns the ids this process changed.

    ``WHERE overdue_since IS NULL`` (or ``IS NOT NULL`` when clearing) keeps two
    concurrent runs from both changing (and both journalling) the same row.
    """
    changed: list[int] = []
    guard = Task.overdue_since.is_(None) if value is not None else Task.overdue_since.is_not(None)
    for i in range(0, len(ids), CHUNK):
        changed += db.session.execute(
            update(Task).where(Task.id.in_(ids[i:i + CHUNK]), guard)
            .values(overdue_since=value).returning(Task.id)
            .execution_options(synchronize_session=False)
        ).scalars().all()
    return changed


def check_overdue(today: date) -> OverdueResult:
    """Flag and clear overdue measures; one commit.

    A fixed handful of statements however many rows change: the rows to flag are
    grouped by their first overdue day (one UPDATE … WHERE id IN … RETURNING per
    distinct deadline), the history events go in with one bulk INSERT.
    """
    moved_on = roll_periods(today)  # a recurring measure is overdue by its current period
    result = OverdueResult()
    rows = db.session.execute(
        select(Task.id, Task.status, Task.effective_deadline, Task.claimed_on, Task.overdue_since)
        .where(Task.is_leaf.is_(True))
        .where((Task.overdue_since.is_not(None)) | ((Task.effective_deadline < today) & (Task.status != DONE)))
        .order_by(Task.id)  # one lock order for concurrent runs
    ).all()
    to_flag: dict[date, list[int]] = defaultdict(list)
    to_clear: list[int] = []
    status_of: dict[int, str] = {}
    for task_id, status, deadline, claimed_on, overdue_since in rows:
        overdue = is_overdue(status, deadline, claimed_on, today)
        if overdue:
            result.overdue_total += 1
        if overdue and overdue_since is None:
            to_flag[deadline + timedelta(days=1)].append(task_id)
        elif not overdue and overdue_since is not None:
            to_clear.append(task_id)
            status_of[task_id] = status
    events: list[dict] = []
    now = utcnow()
    for first_day in sorted(to_flag):
        deadline = first_day - timedelta(days=1)
        note = f"完成时限 {deadline.isoformat()} 已过，自 {first_day.isoformat()} 起逾期"  # the effective one
        for task_id in sorted(_set_overdue_since(to_flag[first_day], first_day)):
            events.append({"task_id": task_id, "kind": "overdue", "event_date": first_day, "note": note,
                           "created_at": now})
            result.flagged += 1
    for task_id in sorted(_set_overdue_since(to_clear, None)):
        status = status_of[task_id]
        reason = "已销号" if status == DONE else ("已按时申请销号" if status == PENDING_REVIEW else "完成时限已调整")
        if task_id in moved_on:
            reason = "上一周期已销号，进入新周期"
        events.append({"task_id": task_id, "kind": "overdue_cleared", "event_date": today,
                       "note": f"解除逾期（{reason}）", "created_at": now})
        result.cleared += 1
    for i in range(0, len(events), CHUNK):
        db.session.execute(insert(TaskEvent.__table__), events[i:i + CHUNK])
    db.session.commit()
    return result
