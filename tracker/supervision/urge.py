"""催办 (SPEC 2.4): a supervisor urges the lead units of one measure, or one unit about all its overdue
measures. The message is composed once (``notify.compose.urge``) and queued on every channel of the unit
(e-mail and the robots that take urges); the dedupe key holds the date, so a double click sends one message.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Optional

from flask import current_app

from .. import audit
from ..errors import Forbidden, Invalid, NotFound
from ..extensions import db
from ..models import LEAD, Task, TaskEvent, Unit, User
from ..notify import compose
from ..notify.channels import queue_message, webhooks_for
from ..plans.access import task_query
from ..rules.lights import is_overdue
from ..rules.status import DONE
from ..validation import require_text


@dataclass
class UrgeResult:
    units: list[str] = field(default_factory=list)  # units a message was queued for
    duplicates: list[str] = field(default_factory=list)  # already urged today
    tasks: int = 0


def _reachable(unit: Unit) -> bool:
    return bool(unit.email_list) or bool(webhooks_for(unit.id, "urges"))


def _task_plan(task_id: int, today: date) -> list[tuple[Unit, list[Task], str]]:
    """One measure: each active lead unit with an address or a robot."""
    task = db.session.execute(task_query().where(Task.id == task_id)).scalars().unique().one_or_none()
    if task is None or not task.is_leaf:
        raise NotFound("未找到该具体举措")
    if task.status == DONE:
        raise Invalid({"task": ["该任务已销号，无需催办"]})
    leads = [u for u in task.lead_units if u.active]
    if not leads:
        raise Invalid({"task": ["该任务没有牵头单位"]})
    reachable = [u for u in leads if _reachable(u)]
    if not reachable:
        raise Invalid({"task": [f"牵头单位未设置联络邮箱：{'、'.join(u.name for u in leads)}"]})
    return [(unit, [task], f"urge:task:{task.id}:unit:{unit.id}:{today.isoformat()}") for unit in reachable]


def _unit_plan(unit_id: int, today: date) -> list[tuple[Unit, list[Task], str]]:
    """One unit: every overdue measure it leads, most overdue first."""
    unit = db.session.get(Unit, unit_id)
    if unit is None:
        raise NotFound("未找到该单位")
    if not _reachable(unit):
        raise Invalid({"unit": [f"{unit.name} 未设置联络邮箱，无法发送催办邮件"]})
    tasks = db.session.execute(
        task_query()
        .where(Task.is_leaf.is_(True), Task.status != DONE, Task.effective_deadline < today)
        .where(Task.unit_links.any(unit_id=unit.id, role=LEAD)).order_by(Task.effective_deadline, Task.id)
    ).scalars().unique().all()
    tasks = [t for t in tasks if is_overdue(t.status, t.effective_deadline, t.claimed_on, today)]
    if not tasks:
        raise Invalid({"unit": [f"{unit.name} 没有牵头的逾期任务"]})
    return [(unit, tasks, f"urge:unit:{unit.id}:{today.isoformat()}")]


def _record(actor: User, today: date, note: str, result: UrgeResult, urged: dict[int, Task],
            task_id: Optional[int], unit_id: Optional[int]) -> None:
    """The measures' history and the audit log."""
    for t in urged.values():
        db.session.add(TaskEvent(task_id=t.id, kind="urge", actor_id=actor.id, event_date=today,
                                 note=(note or "催办") + f"（催办邮件已加入发送队列：{'、'.join(result.units)}）"))
    result.tasks = len(urged)
    if not result.units:
        return
    if task_id is not None:
        audit.record("urge", actor, target_type="task", target_id=task_id,
                     detail=f"催办单位：{'、'.join(result.units)}；{note}")
    else:
        audit.record("urge", actor, target_type="unit", target_id=unit_id,
                     detail=f"催办{result.tasks}项逾期任务：{'、'.join(result.units)}；{note}")


def urge(actor: User, today: date, *, task_id: Optional[int] = None, unit_id: Optional[int] = None,
         note: str = "") -> UrgeResult:
    """Urge the lead units of one measure, or one unit about all its overdue measures. One commit."""
    if not actor.is_supervisor:
        raise Forbidden("只有督办人员可以催办")
    note = require_text(note, field="note", label="督办意见", max_chars=500)
    if (task_id is None) == (unit_id is None):
        raise Invalid({"_": ["请选择催办的任务或单位"]})
    plan = _task_plan(task_id, today) if task_id is not None else _unit_plan(unit_id, today)
    base_url = (current_app.config.get("BASE_URL") or "").rstrip("/")
    actor_name = actor.display_name or actor.username
    result, urged = UrgeResult(), {}
    for unit, tasks, key in plan:
        message = compose.urge(unit, tasks, note, actor_name, today, base_url)
        queued = queue_message(message, key=key, emails=unit.email_list, unit_id=unit.id, rule="urges")
        if queued.error:
            db.session.rollback()
            raise Invalid({"_": [f"邮件模板渲染失败：{queued.error}"]})
        if queued.new:
            result.units.append(unit.name)
            urged.update((t.id, t) for t in tasks)
        else:
            result.duplicates.append(unit.name)
    _record(actor, today, note, result, urged, task_id, unit_id)
    db.session.commit()
    return result
