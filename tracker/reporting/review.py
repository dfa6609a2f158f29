"""Reviews by the bureau: approve (销号), return (退回), reopen a finished measure.

``review_task`` is the one use case behind the review forms and
``POST /api/v1/tasks/<id>/review``; each decision writes a Review row, the
task's new state and an audit entry in one commit, guarded by the task version.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Mapping, Optional

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from .. import audit
from ..errors import Forbidden, Invalid
from ..extensions import db
from ..models import ProgressUpdate, Review, Task, TaskUnit, User
from ..plans import periods as periods_service
from ..plans.access import get_task_for
from ..rules.periods import label_cn
from ..rules.status import (
    APPROVE,
    DECISION_LABELS,
    DECISIONS,
    DONE,
    IN_PROGRESS,
    PENDING_REVIEW,
    REOPEN,
    RETURN,
)
from .writing import bump_version, check_choice, check_text, check_version, parse_version, require_mapping

AUDIT_ACTIONS = {APPROVE: "review_approve", RETURN: "review_return", REOPEN: "reopen"}


@dataclass
class ReviewInput:
    decision: str
    comment: str = ""
    version: Optional[int] = None


def parse_review(data: Mapping[str, Any], *, version_required: bool = False) -> ReviewInput:
    require_mapping(data)
    errors: dict[str, list[str]] = {}
    decision = check_choice(data.get("decision"), DECISIONS,
                            "审核结论应为 approve（销号）、return（退回）或 reopen（重新打开）", errors, "decision")
    comment = check_text(data.get("comment"), "审核意见", errors, "comment")
    if decision == RETURN and not comment and "comment" not in errors:
        errors["comment"] = ["退回时必须填写审核意见，说明需要补充或整改的内容"]
    version = parse_version(data, errors, required=version_required)
    if errors:
        raise Invalid(errors)
    return ReviewInput(decision=decision, comment=comment, version=version)


def review_task(task_id: int, actor: User, data: Mapping[str, Any] | ReviewInput, today: date) -> Task:
    """Apply a supervisor's decision; returns the task. One commit."""
    if not actor.is_supervisor:
        # Check existence first so an unknown id is a 404 for everyone allowed to read.
        get_task_for(actor, task_id)
        raise Forbidden("只有督办人员可以审核")
    task = get_task_for(actor, task_id)
    inp = data if isinstance(data, ReviewInput) else parse_review(data)
    if not task.is_leaf:
        raise Invalid({"_": ["只能审核具体工作举措"]})
    based_on = check_version(task, inp.version)
    if inp.decision in (APPROVE, RETURN) and task.status != PENDING_REVIEW:
        raise Invalid({"decision": ["该举措不在“待审核”状态，不能销号或退回"]})
    if inp.decision == REOPEN and task.status != DONE:
        raise Invalid({"decision": ["只有已完成（已销号）的举措可以重新打开"]})

    bump_version(task, based_on)
    if inp.decision == APPROVE:
        task.status = DONE
        task.progress = 100
        task.completed_on = today
        task.completed_by_id = actor.id
        task.return_comment = ""
    elif inp.decision == RETURN:
        task.status = IN_PROGRESS
        task.return_comment = inp.comment
        task.claimed_on = None
        task.progress = progress_before_claim(task.id)
    else:
        task.status = IN_PROGRESS
        task.completed_on = None
        task.completed_by_id = None
        task.claimed_on = None
        task.return_comment = inp.comment
    period = task.current_period or ""
    review = Review(task_id=task.id, reviewer_id=actor.id, decision=inp.decision, comment=inp.comment,
                    task_period=period, decided_on=today)
    db.session.add(review)
    db.session.flush()
    if inp.decision in (APPROVE, RETURN):
        from ..notify.events import actor_name, notify_units

        notify_units("approved" if inp.decision == APPROVE else "returned", review.id, task, task.lead_units,
                     comment=inp.comment, actor_name=actor_name(actor))
    detail = f"{task.code} {task.title[:40]}：{DECISION_LABELS[inp.decision]}"
    if period:
        detail += f"（{label_cn(period)}周期）"
        periods_service.mirror(task)
        if inp.decision == APPROVE:
            periods_service.advance(task, today)
    if inp.comment:
        detail += f"，意见：{inp.comment[:200]}"
    audit.record(AUDIT_ACTIONS[inp.decision], actor, target_type="task", target_id=task.id, detail=detail)
    db.session.commit()
    return task


def pending_claims() -> list[Task]:
    """Measures awaiting review across all plans and units, oldest claim first (two statements)."""
    return list(db.session.execute(
        select(Task)
        .options(selectinload(Task.unit_links).joinedload(TaskUnit.unit), selectinload(Task.plan))
        .where(Task.is_leaf.is_(True), Task.status == PENDING_REVIEW)
        .order_by(Task.claimed_on.asc().nulls_first(), Task.updated_at.asc(), Task.id.asc())
    ).scalars().unique())


def latest_reports(task_ids: list[int]) -> dict[int, ProgressUpdate]:
    """The newest progress report of each task, with its evidence files (two statements)."""
    if not task_ids:
        return {}
    newest = (select(func.max(ProgressUpdate.id)).where(ProgressUpdate.task_id.in_(task_ids))
              .group_by(ProgressUpdate.task_id))
    rows = db.session.execute(
        select(ProgressUpdate).options(selectinload(ProgressUpdate.attachments))
        .where(ProgressUpdate.id.in_(newest))
    ).scalars().all()
    return {u.task_id: u for u in rows}


def progress_before_claim(task_id: int) -> int:
    """The progress last reported before the claim (a returned claim is not 100 % done)."""
    value = db.session.execute(
        select(ProgressUpdate.progress)
        .where(ProgressUpdate.task_id == task_id, ProgressUpdate.status != PENDING_REVIEW)
        .order_by(ProgressUpdate.id.desc()).limit(1)
    ).scalar_one_or_none()
    return int(value or 0)
