"""Deadline extensions (延期申请) and direct deadline changes (SPEC 6.1): the one module.

* ``request_extension`` — a lead unit asks for a later date (reason required; 逾期申请
  when asked after the deadline in force; one pending request per measure, enforced by
  a partial unique index as well as by the check);
* ``decide_extension`` — a supervisor approves (批准) or rejects (驳回) with a comment;
  the decision is a conditional ``UPDATE … WHERE state = 'pending'`` so two deciders
  cannot both win (the second gets 409); approval sets ``Task.extended_deadline`` and
  bumps the task version (optimistic locking as for progress reports);
* ``set_deadline`` — a supervisor sets a new deadline directly, with a reason.

The plan's original deadline (``Task.deadline``/``deadline_text``) is never changed;
``Task.effective_deadline`` is what lights, overdue flags and reminders use. Every
change writes a ``TaskEvent`` (history), an audit entry and an event notice, in one commit.

For the assessment (考核): ``extension_counts(unit_ids, start, end)`` and
``deadline_records(task_ids)`` (original vs effective dates).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Iterable, Mapping, Optional

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from .. import audit
from ..errors import Conflict, Forbidden, Invalid, NotFound
from ..extensions import db
from ..models import LEAD, DeadlineExtension, Task, TaskEvent, TaskUnit, User, utcnow
from ..plans.access import get_task_for, unit_role
from ..rules.lights import is_overdue
from ..rules.roles import UNIT
from ..rules.status import DONE
from ..validation import collect, parse_date
from .writing import bump_version, check_choice, check_text, check_version, parse_version, require_mapping

PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"
STATES = (PENDING, APPROVED, REJECTED)
STATE_LABELS = {PENDING: "待审批", APPROVED: "已批准", REJECTED: "已驳回"}
DECISIONS = {"approve": APPROVED, "reject": REJECTED}
MAX_REASON = 2000


@dataclass
class RequestInput:
    new_deadline: date
    reason: str
    version: Optional[int] = None


def _parse_date(value: Any, errors: dict, key: str = "new_deadline") -> Optional[date]:
    """The new deadline through the one date rule (``validation.parse_date``); errors collected."""
    if value is not None and not isinstance(value, (str, date)):
        errors[key] = ["完成时限应为 YYYY-MM-DD 格式的文本"]
        return None
    return collect(errors, parse_date, value, field=key, label="新的完成时限", required=True)


def parse_request(data: Mapping[str, Any], *, reason_label: str = "申请理由") -> RequestInput:
    """``{new_deadline, reason, version?}`` from a form or JSON; Invalid with field errors otherwise."""
    require_mapping(data)
    errors: dict[str, list[str]] = {}
    new_deadline = _parse_date(data.get("new_deadline"), errors)
    reason = check_text(data.get("reason"), reason_label, errors, "reason", required=True)
    if "reason" not in errors and len(reason) > MAX_REASON:
        errors["reason"] = [f"{reason_label}不超过 {MAX_REASON} 字"]
    version = parse_version(data, errors)
    if errors:
        raise Invalid(errors)
    return RequestInput(new_deadline=new_deadline, reason=reason, version=version)


def can_request(actor: User, task) -> bool:
    """Only a lead unit's liaison may ask for more time (SPEC 6.1)."""
    return actor.role == UNIT and task.is_leaf and unit_role(task, actor.unit_id) == LEAD


def pending_for(task_id: int) -> Optional[DeadlineExtension]:
    return db.session.execute(
        select(DeadlineExtension).where(DeadlineExtension.task_id == task_id, DeadlineExtension.state == PENDING)
    ).scalar_one_or_none()


def _open_measure(task: Task, key: str = "new_deadline") -> None:
    if not task.is_leaf:
        raise Invalid({"_": ["只能对具体工作举措申请延期"]})
    if task.status == DONE:
        raise Invalid({key: ["该举措已销号（已完成），无需调整完成时限"]})


def _event(task: Task, kind: str, actor: Optional[User], today: date, note: str) -> None:
    db.session.add(TaskEvent(task_id=task.id, kind=kind, actor_id=actor.id if actor else None,
                             event_date=today, note=note))


def request_extension(task_id: int, actor: User, data: Mapping[str, Any] | RequestInput,
                      today: date) -> DeadlineExtension:
    """A lead unit's request; 403 for others, 409 when one is pending, 422 on a date not later. One commit."""
    task = get_task_for(actor, task_id)  # 404 / 403 (not the unit's)
    if not can_request(actor, task):
        raise Forbidden("只有牵头单位可以申请延期" if task.is_leaf else "只能对具体工作举措申请延期")
    inp = data if isinstance(data, RequestInput) else parse_request(data)
    _open_measure(task)
    current = task.effective_deadline
    if current is None:
        raise Invalid({"new_deadline": ["长期任务没有完成时限，无需申请延期"]})
    check_version(task, inp.version)
    if pending_for(task.id) is not None:
        raise _pending_conflict(task)
    if inp.new_deadline <= current:
        raise Invalid({"new_deadline": [f"新的完成时限应晚于当前完成时限 {current.isoformat()}"]})
    late = today > current
    ext = DeadlineExtension(task_id=task.id, unit_id=actor.unit_id, requested_by_id=actor.id, request_date=today,
                            old_deadline=current, new_deadline=inp.new_deadline, reason=inp.reason, late=late,
                            state=PENDING, comment="")
    db.session.add(ext)
    try:
        db.session.flush()  # the partial unique index: a concurrent second request fails here
    except IntegrityError:
        db.session.rollback()
        raise _pending_conflict(task) from None
    task.extension_state = PENDING
    label = "逾期申请延期" if late else "申请延期"
    _event(task, "extension_request", actor, today,
           f"{label}：{current.isoformat()} → {inp.new_deadline.isoformat()}；理由：{inp.reason}")
    audit.record("extension_request", actor, target_type="task", target_id=task.id,
                 detail=f"{task.code} {task.title[:40]}：{label}至 {inp.new_deadline.isoformat()}；{inp.reason[:200]}")
    from ..notify.events import actor_name, notify_supervisors

    notify_supervisors("extension_request", ext.id, task, unit=actor.unit, ext=ext, actor_name=actor_name(actor))
    db.session.commit()
    return ext


def _pending_conflict(task: Task) -> Conflict:
    return Conflict("该举措已有一份待审批的延期申请，请等待区司法局审批后再申请",
                    current=task, changes={"version": task.version, "extension_state": PENDING})


@dataclass
class DecisionInput:
    decision: str  # approve | reject
    comment: str = ""
    version: Optional[int] = None


def parse_decision(data: Mapping[str, Any]) -> DecisionInput:
    require_mapping(data)
    errors: dict[str, list[str]] = {}
    decision = check_choice(data.get("decision"), DECISIONS, "审批结论应为 approve（批准）或 reject（驳回）",
                            errors, "decision")
    comment = check_text(data.get("comment"), "审批意见", errors, "comment")
    if decision == "reject" and not comment and "comment" not in errors:
        errors["comment"] = ["驳回时必须填写审批意见，说明理由"]
    version = parse_version(data, errors)
    if errors:
        raise Invalid(errors)
    return DecisionInput(decision=decision, comment=comment, version=version)


def get_extension(ext_id: int) -> DeadlineExtension:
    ext = db.session.get(DeadlineExtension, ext_id)
    if ext is None:
        raise NotFound("未找到该延期申请")
    return ext


def decide_extension(ext_id: int, actor: User, data: Mapping[str, Any] | DecisionInput,
                     today: date) -> DeadlineExtension:
    """Approve or reject a pending request (supervisors); 409 when already decided. One commit."""
    ext = get_extension(ext_id)
    if not actor.is_supervisor:
        raise Forbidden("只有督办人员可以审批延期申请")
    inp = data if isinstance(data, DecisionInput) else parse_decision(data)
    task = get_task_for(actor, ext.task_id)
    if ext.state != PENDING:
        raise _decided_conflict(ext, task)
    state = DECISIONS[inp.decision]
    if state == APPROVED:
        based_on = check_version(task, inp.version)
    won = db.session.execute(
        update(DeadlineExtension).where(DeadlineExtension.id == ext.id, DeadlineExtension.state == PENDING)
        .values(state=state, decided_by_id=actor.id, decided_at=utcnow(), decision_date=today, comment=inp.comment)
        .execution_options(synchronize_session=False)
    ).rowcount
    if won != 1:  # another supervisor decided meanwhile
        db.session.rollback()
        raise _decided_conflict(db.session.get(DeadlineExtension, ext_id, populate_existing=True), task)
    db.session.refresh(ext)
    if state == APPROVED:
        bump_version(task, based_on)
        task.extended_deadline = ext.new_deadline
    task.extension_state = state
    kind = "extension_approved" if state == APPROVED else "extension_rejected"
    note = (f"批准延期至 {ext.new_deadline.isoformat()}" if state == APPROVED
            else f"驳回延期申请（申请延至 {ext.new_deadline.isoformat()}），完成时限不变") + \
        (f"；意见：{inp.comment}" if inp.comment else "")
    _event(task, kind, actor, today, note)
    if state == APPROVED:
        _sync_overdue_flag(task, today)
    audit.record(kind, actor, target_type="task", target_id=task.id,
                 detail=f"{task.code} {task.title[:40]}：{note[:300]}")
    from ..notify.events import actor_name, notify_units

    units = [ext.unit] if ext.unit is not None else task.lead_units
    notify_units(kind, ext.id, task, units, ext=ext, comment=inp.comment, actor_name=actor_name(actor))
    db.session.commit()
    return ext


def _decided_conflict(ext: DeadlineExtension, task: Task) -> Conflict:
    return Conflict(f"该延期申请已处理（{STATE_LABELS.get(ext.state, ext.state)}），不能再次审批",
                    current=task, changes={"version": task.version, "state": ext.state})


def set_deadline(task_id: int, actor: User, data: Mapping[str, Any] | RequestInput, today: date) -> DeadlineExtension:
    """A supervisor sets the deadline in force directly, with a reason (recorded as an approved change)."""
    task = get_task_for(actor, task_id)
    if not actor.is_supervisor:
        raise Forbidden("只有督办人员可以直接调整完成时限")
    inp = data if isinstance(data, RequestInput) else parse_request(data, reason_label="调整理由")
    _open_measure(task)
    based_on = check_version(task, inp.version)
    if pending_for(task.id) is not None:
        raise Conflict("该举措有待审批的延期申请，请先在“延期申请”中批准或驳回",
                       current=task, changes={"version": task.version, "extension_state": PENDING})
    current = task.effective_deadline
    if current is not None and inp.new_deadline == current:
        raise Invalid({"new_deadline": [f"新的完成时限与当前完成时限 {current.isoformat()} 相同"]})
    lead = next(iter(task.lead_units), None)
    ext = DeadlineExtension(task_id=task.id, unit_id=lead.id if lead else None, requested_by_id=actor.id,
                            request_date=today, old_deadline=current, new_deadline=inp.new_deadline,
                            reason=inp.reason, late=current is not None and today > current, direct=True,
                            state=APPROVED, decided_by_id=actor.id, decided_at=utcnow(), decision_date=today,
                            comment="")
    db.session.add(ext)
    bump_version(task, based_on)
    task.extended_deadline = None if inp.new_deadline == task.deadline else inp.new_deadline
    task.extension_state = APPROVED
    note = f"完成时限调整：{current.isoformat() if current else '无'} → {inp.new_deadline.isoformat()}；理由：{inp.reason}"
    _event(task, "deadline_change", actor, today, note)
    _sync_overdue_flag(task, today)
    audit.record("deadline_change", actor, target_type="task", target_id=task.id,
                 detail=f"{task.code} {task.title[:40]}：{note[:300]}")
    db.session.flush()
    from ..notify.events import actor_name, notify_units

    notify_units("deadline_changed", ext.id, task, task.lead_units, ext=ext, actor_name=actor_name(actor))
    db.session.commit()
    return ext


def _sync_overdue_flag(task: Task, today: date) -> None:
    """The overdue flag follows the new deadline at once (``check_overdue`` would the next morning)."""
    deadline = task.effective_deadline
    overdue = is_overdue(task.status, deadline, task.claimed_on, today)
    if task.overdue_since is not None and not overdue:
        task.overdue_since = None
        _event(task, "overdue_cleared", None, today, f"解除逾期（完成时限已调整为 {deadline.isoformat()}）")
    elif overdue:
        first = deadline + timedelta(days=1)
        if task.overdue_since != first:
            task.overdue_since = first


# --- Reading -------------------------------------------------------------------------------

def parse_state(value: Optional[str]) -> Optional[str]:
    value = (value or "").strip()
    if value and value not in STATES:
        raise Invalid({"state": ["state 应为 pending、approved、rejected 之一"]})
    return value or None


def list_extensions(actor: User, state: Optional[str] = None, task_id: Optional[int] = None,
                    limit: int = 500) -> list[DeadlineExtension]:
    """Requests the actor may see (supervisors and viewers: all; a unit: its measures'), oldest pending first."""
    q = (select(DeadlineExtension)
         .options(selectinload(DeadlineExtension.task).selectinload(Task.unit_links).joinedload(TaskUnit.unit),
                  selectinload(DeadlineExtension.unit), selectinload(DeadlineExtension.requested_by),
                  selectinload(DeadlineExtension.decided_by)))
    if state:
        q = q.where(DeadlineExtension.state == state)
    if task_id is not None:
        q = q.where(DeadlineExtension.task_id == task_id)
    if not actor.can_read_all:
        if not actor.unit_id:
            return []
        q = q.where(DeadlineExtension.task_id.in_(select(TaskUnit.task_id).where(TaskUnit.unit_id == actor.unit_id)))
    order = (DeadlineExtension.created_at.asc() if state == PENDING else DeadlineExtension.created_at.desc())
    return list(db.session.execute(q.order_by(order, DeadlineExtension.id).limit(limit)).scalars())


def extension_dict(ext: DeadlineExtension) -> dict:
    """The API shape (SPEC 6.1) plus what a client needs to show the request."""
    return {
        "id": ext.id, "task_id": ext.task_id, "new_deadline": ext.new_deadline.isoformat(), "reason": ext.reason,
        "state": ext.state, "late": bool(ext.late), "direct": bool(ext.direct),
        "old_deadline": ext.old_deadline.isoformat() if ext.old_deadline else None,
        "unit": ext.unit.short_name if ext.unit else None, "request_date": ext.request_date.isoformat(),
        "decision_date": ext.decision_date.isoformat() if ext.decision_date else None, "comment": ext.comment,
    }


# --- For the assessment (考核) ------------------------------------------------------------------

@dataclass
class ExtensionCounts:
    requested: int = 0  # requests by the unit (not direct changes)
    approved: int = 0
    rejected: int = 0
    pending: int = 0
    late: int = 0  # 逾期申请
    direct: int = 0  # deadlines set directly by the bureau on the unit's measures


def extension_counts(unit_ids: Optional[Iterable[int]], start: date, end: date) -> dict[int, ExtensionCounts]:
    """Per unit: extensions asked (or set directly) with ``start <= request_date <= end``. One statement."""
    q = (select(DeadlineExtension.unit_id, DeadlineExtension.state, DeadlineExtension.late, DeadlineExtension.direct,
                func.count())
         .where(DeadlineExtension.request_date >= start, DeadlineExtension.request_date <= end,
                DeadlineExtension.unit_id.is_not(None))
         .group_by(DeadlineExtension.unit_id, DeadlineExtension.state, DeadlineExtension.late,
                   DeadlineExtension.direct))
    if unit_ids is not None:
        q = q.where(DeadlineExtension.unit_id.in_(list(unit_ids)))
    result: dict[int, ExtensionCounts] = {}
    for unit_id, state, late, direct, n in db.session.execute(q):
        c = result.setdefault(unit_id, ExtensionCounts())
        if direct:
            c.direct += n
            continue
        c.requested += n
        setattr(c, state, getattr(c, state) + n)
        if late:
            c.late += n
    return result


@dataclass(frozen=True)
class DeadlineRecord:
    task_id: int
    original_text: str
    original_deadline: Optional[date]
    effective_deadline: Optional[date]
    approved_extensions: int

    @property
    def extended(self) -> bool:
        return self.effective_deadline != self.original_deadline


def deadline_records(task_ids: Optional[Iterable[int]] = None) -> dict[int, DeadlineRecord]:
    """Original vs effective deadline of measures, with their approved extensions (two statements)."""
    q = select(Task.id, Task.deadline_text, Task.deadline, Task.extended_deadline).where(Task.is_leaf.is_(True))
    cq = (select(DeadlineExtension.task_id, func.count()).where(DeadlineExtension.state == APPROVED)
          .group_by(DeadlineExtension.task_id))
    if task_ids is not None:
        ids = list(task_ids)
        q, cq = q.where(Task.id.in_(ids)), cq.where(DeadlineExtension.task_id.in_(ids))
    approved = dict(db.session.execute(cq).all())
    return {tid: DeadlineRecord(tid, text or "", deadline, extended if extended is not None else deadline,
                                approved.get(tid, 0))
            for tid, text, deadline, extended in db.session.execute(q)}
