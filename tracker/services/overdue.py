"""Overdue flags (SPEC 2.2): when each measure first became overdue, kept in its history.

``check_overdue(today)`` is idempotent and safe in two processes at once: every
change is a conditional UPDATE (``… WHERE overdue_since IS NULL`` / ``IS NOT
NULL``) and the history event is only written when this process changed the row.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select, update

from ..extensions import db
from ..models import Task, TaskEvent
from ..status import DONE, PENDING_REVIEW


@dataclass
class OverdueResult:
    flagged: int = 0
    cleared: int = 0
    overdue_total: int = 0

    def __str__(self) -> str:
        return f"新增逾期 {self.flagged} 项，解除逾期 {self.cleared} 项，当前逾期共 {self.overdue_total} 项"


def is_overdue(status: str, deadline: date | None, claimed_on: date | None, today: date) -> bool:
    """Same rule as the red light: past the deadline, not done, not claimed in time."""
    if status == DONE or deadline is None or deadline >= today:
        return False
    if status == PENDING_REVIEW and claimed_on is not None and claimed_on <= deadline:
        return False
    return True


def check_overdue(today: date) -> OverdueResult:
    result = OverdueResult()
    rows = db.session.execute(
        select(Task.id, Task.status, Task.deadline, Task.claimed_on, Task.overdue_since)
        .where(Task.is_leaf.is_(True))
        .where((Task.overdue_since.is_not(None)) | ((Task.deadline < today) & (Task.status != DONE)))
        .order_by(Task.id)  # one lock order for concurrent runs
    ).all()
    for task_id, status, deadline, claimed_on, overdue_since in rows:
        overdue = is_overdue(status, deadline, claimed_on, today)
        if overdue:
            result.overdue_total += 1
        if overdue and overdue_since is None:
            first_day = deadline + timedelta(days=1)
            changed = db.session.execute(
                update(Task).where(Task.id == task_id, Task.overdue_since.is_(None))
                .values(overdue_since=first_day).execution_options(synchronize_session=False)
            ).rowcount
            if changed == 1:
                db.session.add(TaskEvent(task_id=task_id, kind="overdue", event_date=first_day,
                                         note=f"完成时限 {deadline.isoformat()} 已过，自 {first_day.isoformat()} 起逾期"))
                result.flagged += 1
        elif not overdue and overdue_since is not None:
            changed = db.session.execute(
                update(Task).where(Task.id == task_id, Task.overdue_since.is_not(None))
                .values(overdue_since=None).execution_options(synchronize_session=False)
            ).rowcount
            if changed == 1:
                reason = "已销号" if status == DONE else ("已按时申请销号" if status == PENDING_REVIEW else "完成时限已调整")
                db.session.add(TaskEvent(task_id=task_id, kind="overdue_cleared", event_date=today,
                                         note=f"解除逾期（{reason}）"))
                result.cleared += 1
    db.session.commit()
    return result
