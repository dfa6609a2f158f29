"""The task page's history: progress reports, reviews and other events of a measure, newest first."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import ProgressUpdate, Review, Task, TaskEvent, User
from ..rules.status import DECISION_LABELS

EVENT_LABELS = {"urge": "催办", "overdue": "开始逾期", "overdue_cleared": "解除逾期", "period": "进入新周期",
                "extension_request": "申请延期", "extension_approved": "批准延期", "extension_rejected": "驳回延期",
                "deadline_change": "调整完成时限"}


@dataclass
class HistoryEntry:
    kind: str  # update | review | event
    created_at: Any
    who: Optional[User]
    item: Any  # ProgressUpdate, Review or TaskEvent
    label: str = ""


def task_history(task: Task) -> list[HistoryEntry]:
    """Progress updates, reviews and events of a task, newest first (three statements + eager loads)."""
    updates = db.session.execute(
        select(ProgressUpdate)
        .options(selectinload(ProgressUpdate.user), selectinload(ProgressUpdate.unit),
                 selectinload(ProgressUpdate.attachments))
        .where(ProgressUpdate.task_id == task.id)
    ).scalars().all()
    reviews = db.session.execute(
        select(Review).options(selectinload(Review.reviewer)).where(Review.task_id == task.id)
    ).scalars().all()
    events = db.session.execute(
        select(TaskEvent).options(selectinload(TaskEvent.actor)).where(TaskEvent.task_id == task.id)
    ).scalars().all()
    entries = [HistoryEntry("update", u.created_at, u.user, u, "报送进展") for u in updates]
    entries += [HistoryEntry("review", r.created_at, r.reviewer, r, DECISION_LABELS.get(r.decision, r.decision))
                for r in reviews]
    entries += [HistoryEntry("event", e.created_at, e.actor, e, EVENT_LABELS.get(e.kind, e.kind)) for e in events]
    order = {"update": 0, "review": 1, "event": 2}
    entries.sort(key=lambda e: (e.created_at, order[e.kind], e.item.id), reverse=True)
    return entries

