"""Progress reports (进展报送) on measures: validation, permissions, the transition rules.

``record_update`` is the one use case behind the web form and
``POST /api/v1/tasks/<id>/updates``. It validates everything first (fields,
files, permission, version, transition), then writes the journal entry, the
task's new state, the evidence files and the audit entry in one commit.
The version guard and the conflict answer are the writers' own (``writing.py``).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Iterable, Mapping, Optional

from .. import audit
from ..errors import Forbidden, Invalid
from ..extensions import db
from ..models import LEAD, Attachment, ProgressUpdate, Task, User, utcnow
from ..plans import periods as periods_service
from ..plans.access import get_task_for, unit_role
from ..rules.lights import report_period
from ..rules.roles import UNIT, VIEWER
from ..rules.status import DONE, LABEL_TO_STATUS, PENDING_REVIEW, STATUS_LABELS, UNIT_REPORTABLE
from ..validation import collect, parse_int
from . import attachments as att_service
from . import evidence_store
from .writing import bump_version, check_text, check_version, parse_version, require_mapping

TEXT_FIELDS = {"narrative": "进展情况", "problems": "存在问题", "next_steps": "下步计划"}


@dataclass
class UpdateInput:
    status: str
    progress: int
    narrative: str = ""
    problems: str = ""
    next_steps: str = ""
    version: int = 0


def parse_update(data: Mapping[str, Any]) -> UpdateInput:
    """Validate a report from a form or JSON; Invalid with field errors otherwise.

    ``status`` takes the English values (``in_progress`` …); the Chinese labels are accepted too.
    """
    require_mapping(data)
    errors: dict[str, list[str]] = {}
    status = data.get("status")
    if status is None or (isinstance(status, str) and not status.strip()):
        errors["status"] = ["请选择状态"]
        status = ""
    elif not isinstance(status, str) or LABEL_TO_STATUS.get(status.strip(), status.strip()) not in STATUS_LABELS:
        errors["status"] = ["未知状态，应为 not_started、in_progress、pending_review 之一"]
        status = ""
    else:
        status = LABEL_TO_STATUS.get(status.strip(), status.strip())
    progress = collect(errors, parse_int, data.get("progress"), field="progress", label="进度", low=0, high=100)
    if progress is None and "progress" not in errors:
        if status == PENDING_REVIEW:
            progress = 100
        else:
            errors["progress"] = ["请填写进度（0–100）"]
    version = parse_version(data, errors, required=True)
    texts = {key: check_text(data.get(key), label, errors, key, required=(key == "narrative"))
             for key, label in TEXT_FIELDS.items()}
    if errors:
        raise Invalid(errors)
    return UpdateInput(status=status, progress=progress, version=version, **texts)


def load_for_write(actor: User, task_id: int) -> Task:
    """The task with its unit links; NotFound / Forbidden as for reading."""
    return get_task_for(actor, task_id)


def report_permission(actor: User, task: Task) -> Optional[str]:
    """None when the actor may report on ``task``, else why not (for 403)."""
    if actor.role == VIEWER:
        return "只读用户不能报送进展"
    if actor.is_supervisor:
        return None
    if actor.role != UNIT or not actor.unit_id:
        return "无权报送进展"
    if unit_role(task, actor.unit_id) is None:
        return "该任务不属于本单位"
    return None


def can_report(actor: User, task: Task) -> bool:
    return task.is_leaf and report_permission(actor, task) is None


def can_claim(actor: User, task: Task) -> bool:
    """Only lead units (and the bureau) may claim completion."""
    return actor.is_supervisor or (actor.role == UNIT and unit_role(task, actor.unit_id) == LEAD)


def check_transition(actor: User, task: Task, inp: UpdateInput) -> None:
    """The status a unit may report from the measure's current one; Invalid otherwise."""
    if task.status == DONE:
        raise Invalid({"status": ["该举措已销号（已完成），不能再报送；如需继续，请督办人员重新打开"]})
    if task.status == PENDING_REVIEW:
        raise Invalid({"status": ["该举措已申请销号，正在等待审核，审核前不能再报送"]})
    if inp.status not in UNIT_REPORTABLE:
        raise Invalid({"status": ["“已完成”只能由督办人员审核销号后设定，请选择“待审核”申请销号"]})
    if inp.status == PENDING_REVIEW and not can_claim(actor, task):
        raise Invalid({"status": ["配合单位可以报送进展，但只有牵头单位可以申请销号（待审核）"]})


def record_update(task_id: int, actor: User, data: Mapping[str, Any] | UpdateInput, today: date,
                  files: Iterable = ()) -> Task:
    """Record one progress report; returns the updated task. One commit."""
    task = load_for_write(actor, task_id)
    why_not = report_permission(actor, task)
    if why_not:
        raise Forbidden(why_not)
    if not task.is_leaf:
        raise Invalid({"_": ["只能对具体工作举措报送进展"]})
    inp = data if isinstance(data, UpdateInput) else parse_update(data)
    checked = att_service.check_files(files)
    check_version(task, inp.version)
    check_transition(actor, task, inp)
    old_status, old_progress = task.status, task.progress
    entry = _write_report(task, actor, inp, today)
    stored = evidence_store.stage(checked) if checked else []  # files store: written now, removed on failure
    try:
        _attach(entry, actor, stored)
        detail = (f"{task.code} {task.title[:40]}：状态 {STATUS_LABELS.get(old_status, old_status)}→"
                  f"{STATUS_LABELS[inp.status]}，进度 {old_progress}%→{entry.progress}%"
                  + (f"，佐证材料 {len(stored)} 个" if stored else ""))
        if inp.status == PENDING_REVIEW:
            detail += "（申请销号）"
            from ..notify.events import actor_name, notify_supervisors

            notify_supervisors("claim", entry.id, task, unit=actor.unit if actor.role == UNIT else None,
                               actor_name=actor_name(actor))
        audit.record("progress_update", actor, target_type="task", target_id=task.id, detail=detail)
        db.session.commit()
    except Exception:
        db.session.rollback()
        evidence_store.discard(stored)
        raise
    return task


def _write_report(task: Task, actor: User, inp: UpdateInput, today: date) -> ProgressUpdate:
    """The journal entry and the measure's new state (version bumped, period mirrored); flushed."""
    progress = 100 if inp.status == PENDING_REVIEW else inp.progress
    bump_version(task, inp.version)
    entry = ProgressUpdate(
        task_id=task.id, user_id=actor.id, unit_id=actor.unit_id if actor.role == UNIT else None,
        report_date=today, period=report_period(today), status=inp.status, progress=progress,
        narrative=inp.narrative, problems=inp.problems, next_steps=inp.next_steps,
    )
    db.session.add(entry)
    task.status = inp.status
    task.progress = progress
    task.latest_progress = inp.narrative
    task.last_reported_at = utcnow()
    task.last_report_period = max(task.last_report_period or "", report_period(today))
    if inp.status == PENDING_REVIEW:
        task.claimed_on = today
        task.return_comment = ""
    entry.task_period = task.current_period or ""
    periods_service.mirror(task)
    db.session.flush()
    return entry


def _attach(entry: ProgressUpdate, actor: User, stored: list) -> None:
    """One Attachment row per stored evidence file, linked to the report."""
    for f, storage_name in stored:
        att = Attachment(
            task_id=entry.task_id, update_id=entry.id, storage_name=storage_name, original_name=f.original_name,
            size=f.size, content_type=f.content_type, sha256=f.sha256, uploaded_by_id=actor.id,
        )
        db.session.add(att)
        evidence_store.keep(att, f)  # database store: the bytes join this transaction
