"""Event notices (SPEC 6.2): what just happened to a measure, sent at once through the outbox.

Each notice is composed once, channel-neutral (``Notice``: subject, greeting, what
happened, what to do next, a link) by ``compose``; the email text and HTML are
rendered from it (``templates/email/event.txt|html``), and other channels can render
the same ``Notice``. Queued with ``outbox.enqueue`` in the caller's transaction under
a dedupe key that names the event row (``event:{kind}:{id}:unit:{unit}`` or
``…:bureau``), so one event gives exactly one message per recipient group, however
often it is replayed. Delivery is the outbox's (the scheduler's delivery sweep or the
next ``send-reminders``).

* to the unit: 退回 and 销号 (the lead units), extension decisions and direct deadline
  changes (the requesting unit, else the lead units);
* to the supervisors: new completion claims and extension requests, unless
  ``NOTIFY_SUPERVISORS_ON_EVENTS`` (env ``TRACKER_NOTIFY_SUPERVISORS_ON_EVENTS``) is off.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Iterable, Optional

from flask import current_app, render_template
from jinja2 import TemplateError

from ..rules.roles import UNIT

log = logging.getLogger(__name__)

KIND = "event"


@dataclass
class Notice:
    """One message, independent of the channel that will carry it."""

    event: str  # returned | approved | extension_approved | extension_rejected | deadline_changed | claim | extension_request
    subject: str
    greeting: str
    happened: list[str]
    next_step: str
    url: str
    facts: list[tuple[str, str]] = field(default_factory=list)


def _task_url(task_id: int) -> str:
    base = (current_app.config.get("BASE_URL") or "").rstrip("/")
    return f"{base}/tasks/{task_id}"


def _link(path: str) -> str:
    return (current_app.config.get("BASE_URL") or "").rstrip("/") + path


def _measure(task) -> str:
    return f"{task.code} {task.title}".strip()


def compose(event: str, task, *, unit=None, comment: str = "", actor_name: str = "", ext=None) -> Notice:
    """The one composition of every event notice (Chinese wording: what happened, what to do next)."""
    name = _measure(task)
    to_unit = f"{unit.full_name}联络员：" if unit is not None else "区司法局督办人员："
    facts = [("具体工作举措", name), ("完成时限", task.deadline_label or "长期任务")]
    if event == "returned":
        return Notice(event, f"【退回】{unit.name}：“{task.title[:30]}”的销号申请被退回", to_unit,
                      [f"区司法局退回了贵单位对“{name}”的销号申请，该举措回到“推进中”。"],
                      "请按审核意见补充佐证材料或整改，在任务页面报送进展后重新申请销号（选择“待审核”）。",
                      _task_url(task.id), facts + [("审核意见", comment or "—"), ("审核人", actor_name)])
    if event == "approved":
        return Notice(event, f"【已销号】{unit.name}：“{task.title[:30]}”审核通过", to_unit,
                      [f"区司法局审核通过了贵单位对“{name}”的销号申请，该举措已完成（销号）。"],
                      "该举措无需再按月报送进展；如有后续情况，请联系区司法局。",
                      _task_url(task.id), facts + ([("审核意见", comment)] if comment else []) + [("审核人", actor_name)])
    if event in ("extension_approved", "extension_rejected"):
        approved = event == "extension_approved"
        facts = [("具体工作举措", name), ("原完成时限", task.deadline_text or "—"),
                 ("申请延至", ext.new_deadline.isoformat()), ("申请理由", ext.reason),
                 ("审批意见", comment or "—"), ("审批人", actor_name)]
        if approved:
            return Notice(event, f"【延期已批准】{unit.name}：“{task.title[:30]}”完成时限延至{ext.new_deadline.isoformat()}",
                          to_unit, [f"区司法局批准了贵单位对“{name}”的延期申请，完成时限延至 {ext.new_deadline.isoformat()}。"],
                          f"请在 {ext.new_deadline.isoformat()} 前完成并申请销号；预警和逾期按新的完成时限计算。",
                          _task_url(task.id), facts)
        current = task.effective_deadline.isoformat() if task.effective_deadline else "—"
        return Notice(event, f"【延期被驳回】{unit.name}：“{task.title[:30]}”仍按原完成时限", to_unit,
                      [f"区司法局驳回了贵单位对“{name}”的延期申请，完成时限仍为 {current}。"],
                      "请按现有完成时限推进并按月报送进展；如情况变化，可补充理由后重新申请延期。",
                      _task_url(task.id), facts)
    if event == "deadline_changed":
        return Notice(event, f"【完成时限调整】{unit.name}：“{task.title[:30]}”完成时限调整为{ext.new_deadline.isoformat()}",
                      to_unit, [f"区司法局将“{name}”的完成时限调整为 {ext.new_deadline.isoformat()}（原完成时限 "
                                f"{task.deadline_text or '—'}）。"],
                      "请按新的完成时限推进并按月报送进展。", _task_url(task.id),
                      [("具体工作举措", name), ("调整理由", ext.reason), ("调整人", actor_name)])
    if event == "claim":
        return Notice(event, f"【待审核】{unit.name if unit else ''}申请销号：“{task.title[:30]}”", "区司法局督办人员：",
                      [f"{actor_name} 对“{name}”申请销号（待审核）。"],
                      "请在“待审核”页面查看佐证材料，审核通过（销号）或退回并写明意见。",
                      _link("/review"), facts + [("最新进展", (task.latest_progress or "")[:300])])
    if event == "extension_request":
        facts = [("具体工作举措", name), ("当前完成时限", ext.old_deadline.isoformat() if ext.old_deadline else "—"),
                 ("申请延至", ext.new_deadline.isoformat()), ("申请理由", ext.reason)]
        late = "（逾期申请：提出时已超过完成时限）" if ext.late else ""
        return Notice(event, f"【延期申请】{unit.name if unit else ''}：“{task.title[:30]}”申请延至{ext.new_deadline.isoformat()}",
                      "区司法局督办人员：", [f"{actor_name} 为“{name}”申请延期{late}。"],
                      "请在“延期申请”页面批准或驳回，并填写意见。", _link("/extensions"), facts)
    raise ValueError(f"unknown event {event}")


def render_email(notice: Notice) -> tuple[str, str]:
    return (render_template("email/event.txt", notice=notice), render_template("email/event.html", notice=notice))


def _queue(key: str, recipients: list[str], notice: Notice, unit_id: Optional[int]) -> bool:
    from .outbox import enqueue

    if not recipients:
        log.warning("event notice %s has no recipients", key)
        return False
    try:
        text, html = render_email(notice)
    except TemplateError as exc:  # a broken template must not undo the user's change
        log.error("event notice %s not rendered: %s", key, exc)
        return False
    return enqueue(dedupe_key=key, recipients=recipients, subject=notice.subject, body_text=text, body_html=html,
                   kind=KIND, unit_id=unit_id)


def notify_units(event: str, event_id: int, task, units: Iterable, **context) -> int:
    """Queue one notice per unit (with a liaison email); returns how many were queued."""
    queued = 0
    for unit in units:
        if not unit.active:
            continue
        notice = compose(event, task, unit=unit, **context)
        if _queue(f"event:{event}:{event_id}:unit:{unit.id}", unit.email_list, notice, unit.id):
            queued += 1
    return queued


def supervisors_notified() -> bool:
    return bool(current_app.config["NOTIFY_SUPERVISORS_ON_EVENTS"])


def notify_supervisors(event: str, event_id: int, task, unit=None, **context) -> int:
    """Queue one notice to the bureau (``BUREAU_EMAILS`` or the supervisors), unless switched off."""
    if not supervisors_notified():
        return 0
    from .reminders import bureau_recipients

    notice = compose(event, task, unit=unit, **context)
    return int(_queue(f"event:{event}:{event_id}:bureau", bureau_recipients(current_app.config), notice, None))


def actor_name(user) -> str:
    if user is None:
        return "系统"
    unit = f"（{user.unit.short_name}）" if getattr(user, "unit", None) is not None and user.role == UNIT else ""
    return (user.display_name or user.username) + unit
