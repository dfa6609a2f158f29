"""Progress reports (进展报送) on measures: validation, permissions, optimistic locking.

``record_update`` is the one use case behind the web form and
``POST /api/v1/tasks/<id>/updates``. It validates everything first (fields,
files, permission, version, transition), then writes the journal entry, the
task's new state, the evidence files and the audit entry in one commit.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Iterable, Mapping, Optional

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from .. import audit
from ..clock import local_time
from ..errors import Conflict, Forbidden, Invalid
from ..extensions import db
from ..models import LEAD, Attachment, ProgressUpdate, Review, Task, User, utcnow
from ..plans import periods as periods_service
from ..plans.tasks import get_task_for, unit_role
from ..rules.lights import report_owed as _report_owed
from ..rules.lights import report_period
from ..rules.roles import UNIT, VIEWER
from ..rules.status import DONE, PENDING_REVIEW, STATUS_LABELS, UNIT_REPORTABLE, status_label
from ..validation import check_text as _check_text
from ..validation import parse_int
from . import attachments as att_service
from . import evidence_store

MAX_TEXT_BYTES = 64 * 1024
TEXT_FIELDS = {"narrative": "进展情况", "problems": "存在问题", "next_steps": "下步计划"}


@dataclass
class UpdateInput:
    status: str
    progress: int
    narrative: str = ""
    problems: str = ""
    next_steps: str = ""
    version: int = 0


def check_text(value: Any, label: str, errors: dict, key: str, *, required: bool = False) -> str:
    """A report's text field under the one text rule (tracker/validation.py), at most 64 KB."""
    return _check_text(value, field=key, label=label, errors=errors, required=required, max_bytes=MAX_TEXT_BYTES)


def _int_field(data: Mapping[str, Any], key: str, label: str, errors: dict, **limits) -> Optional[int]:
    try:
        return parse_int(data.get(key), field=key, label=label, **limits)
    except Invalid as exc:
        errors.update(exc.errors)
        return None


def parse_update(data: Mapping[str, Any]) -> UpdateInput:
    """Validate a report from a form or JSON; Invalid with field errors otherwise.

    ``status`` takes the English values (``in_progress`` …); the Chinese labels are accepted too.
    """
    if not isinstance(data, Mapping):
        raise Invalid({"_": ["请求体应为 JSON 对象"]})
    errors: dict[str, list[str]] = {}
    from ..rules.status import LABEL_TO_STATUS

    status = data.get("status")
    if status is None or (isinstance(status, str) and not status.strip()):
        errors["status"] = ["请选择状态"]
        status = ""
    elif not isinstance(status, str) or LABEL_TO_STATUS.get(status.strip(), status.strip()) not in STATUS_LABELS:
        errors["status"] = ["未知状态，应为 not_started、in_progress、pending_review 之一"]
        status = ""
    else:
        status = LABEL_TO_STATUS.get(status.strip(), status.strip())
    progress = _int_field(data, "progress", "进度", errors, low=0, high=100)
    if progress is None and "progress" not in errors:
        if status == PENDING_REVIEW:
            progress = 100
        else:
            errors["progress"] = ["请填写进度（0–100）"]
    version = _int_field(data, "version", "版本号", errors, low=1)
    if version is None and "version" not in errors:
        errors["version"] = ["缺少版本号（version），请刷新页面后重试"]
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


def last_change(task: Task) -> str:
    """``who at when`` of the latest report or review on a task (for conflict messages)."""
    upd = db.session.execute(
        select(ProgressUpdate).options(selectinload(ProgressUpdate.user))
        .where(ProgressUpdate.task_id == task.id).order_by(ProgressUpdate.id.desc()).limit(1)
    ).scalar_one_or_none()
    rev = db.session.execute(
        select(Review).options(selectinload(Review.reviewer))
        .where(Review.task_id == task.id).order_by(Review.id.desc()).limit(1)
    ).scalar_one_or_none()
    candidates = []
    if upd is not None:
        candidates.append((upd.created_at, upd.user, "报送进展"))
    if rev is not None:
        candidates.append((rev.created_at, rev.reviewer, "审核"))
    if not candidates:
        return ""
    when, who, what = max(candidates, key=lambda c: c[0])
    name = (who.display_name or who.username) if who is not None else "系统"
    return f"{name} 于 {local_time(when, current_app.config['TIMEZONE'])} {what}"


def conflict_for(task: Task, based_on: int) -> Conflict:
    db.session.rollback()
    fresh = db.session.get(Task, task.id, populate_existing=True)
    who = last_change(fresh)
    label = status_label(fresh.status, fresh.is_ongoing)
    message = (f"提交未保存：该举措在您打开页面后已被修改（{who or '他人修改'}），"
               f"当前状态为“{label}”、进度 {fresh.progress}%。请查看下方最新记录；"
               f"您填写的内容已保留，确认后再次提交即可。")
    return Conflict(message, current=fresh, changes={
        "version": fresh.version, "your_version": based_on, "status": fresh.status,
        "progress": fresh.progress, "last_change": who,
    })


def bump_version(task: Task, based_on: int) -> None:
    """Guarded version increment: an UPDATE … WHERE version = based_on. Conflict when lost."""
    result = db.session.execute(
        update(Task).where(Task.id == task.id, Task.version == based_on)
        .values(version=based_on + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise conflict_for(task, based_on)
    task.version = based_on + 1
    db.session.flush()


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
    if task.version != inp.version:
        raise conflict_for(task, inp.version)
    # Transition rules.
    if task.status == DONE:
        raise Invalid({"status": ["该举措已销号（已完成），不能再报送；如需继续，请督办人员重新打开"]})
    if task.status == PENDING_REVIEW:
        raise Invalid({"status": ["该举措已申请销号，正在等待审核，审核前不能再报送"]})
    if inp.status not in UNIT_REPORTABLE:
        raise Invalid({"status": ["“已完成”只能由督办人员审核销号后设定，请选择“待审核”申请销号"]})
    if inp.status == PENDING_REVIEW and not can_claim(actor, task):
        raise Invalid({"status": ["配合单位可以报送进展，但只有牵头单位可以申请销号（待审核）"]})

    old_status, old_progress = task.status, task.progress
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
    stored = evidence_store.stage(checked) if checked else []  # files store: written now, removed on failure
    try:
        for f, storage_name in stored:
            att = Attachment(
                task_id=task.id, update_id=entry.id, storage_name=storage_name, original_name=f.original_name,
                size=f.size, content_type=f.content_type, sha256=f.sha256, uploaded_by_id=actor.id,
            )
            db.session.add(att)
            evidence_store.keep(att, f)  # database store: the bytes join this transaction
        detail = (f"{task.code} {task.title[:40]}：状态 {STATUS_LABELS.get(old_status, old_status)}→"
                  f"{STATUS_LABELS[inp.status]}，进度 {old_progress}%→{progress}%"
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


# --- Reading: the task page's history and the unit's own measures -----------------

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
    from ..models import TaskEvent

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
    from .review import DECISION_LABELS

    entries = [HistoryEntry("update", u.created_at, u.user, u, "报送进展") for u in updates]
    entries += [HistoryEntry("review", r.created_at, r.reviewer, r, DECISION_LABELS.get(r.decision, r.decision))
                for r in reviews]
    entries += [HistoryEntry("event", e.created_at, e.actor, e, EVENT_LABELS.get(e.kind, e.kind)) for e in events]
    order = {"update": 0, "review": 1, "event": 2}
    entries.sort(key=lambda e: (e.created_at, order[e.kind], e.item.id), reverse=True)
    return entries


QUICK_FILTERS = {"overdue": "已逾期", "due_soon": "临近期限", "unreported": "本月未报送"}


def parse_quick(value: str) -> str:
    value = (value or "").strip()
    if value and value not in QUICK_FILTERS:
        raise Invalid({"filter": ["筛选条件应为 " + "、".join(QUICK_FILTERS) + " 之一"]})
    return value


def matches_quick(task: Task, state, quick: str, today: date, rules) -> bool:
    if not quick:
        return True
    if task.status == DONE:
        return False
    if quick == "overdue":
        return state.light == "red"
    if quick == "due_soon":
        deadline = task.effective_deadline
        return (deadline is not None and 0 <= (deadline - today).days <= rules.warning_days
                and task.status != PENDING_REVIEW)
    if quick == "unreported":
        return _report_owed(task.status, task.last_report_period, report_period(today))
    return True


@dataclass
class MyGroup:
    plan: Any
    root: Task
    root_state: Any
    rows: list  # (task, state, role)


def attention_rank(task: Task, state) -> int:
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
    from ..plans.tasks import list_plans, load_plan_view, root_map

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
