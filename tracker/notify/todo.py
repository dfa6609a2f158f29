"""The to-do list (待办, SPEC 6.2): what needs each user now, on the landing page and in the nav badge.

* A unit liaison: claims the bureau returned (with the comment), urges not yet answered
  by a report, extension decisions and deadline changes, overdue measures, measures due
  within the warning window, and (from the report reminder day) this month's reports
  not filed — all for the measures the unit leads.
* A supervisor or admin: completion claims and extension requests awaiting a decision,
  measures that became overdue in the last week, emails that failed for good.

Items that need an action leave the list when it is taken (the claim is decided, the
report filed, the date moved …); every item has a stable ``key`` and can be marked read
(``todo_reads``, per user), which takes it out of the badge count. ``todo_for`` costs a
fixed handful of statements; ``badge_count`` is computed once per data revision, day and
user (the read cache), so a page pays one small query for it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Iterable, Optional

from flask import current_app
from sqlalchemy import and_, exists, select
from sqlalchemy.dialects import postgresql, sqlite

from ..extensions import db
from ..lights import LightRules, report_owed, report_period
from ..models import (LEAD, DeadlineExtension, Notification, ProgressUpdate, Review, Task, TaskEvent, TaskUnit,
                      TodoRead, User, utcnow)
from ..services.errors import Invalid
from ..services.overdue import is_overdue
from ..status import IN_PROGRESS, NOT_STARTED, PENDING_REVIEW

KIND_LABELS = {
    "returned": "销号申请被退回", "urge": "催办", "extension_approved": "延期已批准", "extension_rejected": "延期被驳回",
    "deadline_changed": "完成时限调整", "overdue": "已逾期", "due_soon": "临近完成时限", "report": "本月进展未报送",
    "claim": "待审核（申请销号）", "extension_request": "延期申请待审批", "new_overdue": "新增逾期",
    "failed_message": "邮件发送失败",
}
# Order on the page: what the bureau asked of the unit first, then deadlines, then reports.
RANK = {k: i for i, k in enumerate(("returned", "urge", "extension_rejected", "extension_approved", "deadline_changed",
                                    "overdue", "due_soon", "report", "claim", "extension_request", "new_overdue",
                                    "failed_message"))}
RECENT_DAYS = 30  # urges and decisions older than this leave the list
NEW_OVERDUE_DAYS = 7
KEY_RE = re.compile(r"^[a-z_]+(:[0-9A-Za-z\-]+){1,3}$")
OPEN = (NOT_STARTED, IN_PROGRESS)


@dataclass
class TodoItem:
    kind: str
    key: str
    task_id: Optional[int]
    title: str
    text: str
    created_at: datetime
    url: str
    read: bool = False

    @property
    def label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)

    def as_dict(self) -> dict:
        return {"kind": self.kind, "task_id": self.task_id, "title": self.title, "text": self.text,
                "created_at": self.created_at.isoformat(timespec="seconds") + "Z", "read": self.read,
                "key": self.key, "url": self.url}


@dataclass
class Todo:
    items: list[TodoItem] = field(default_factory=list)

    @property
    def unread(self) -> int:
        return sum(1 for i in self.items if not i.read)


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time())


def _measure(code: str, title: str) -> str:
    return f"{code} {title}".strip()


def _led_measures(unit_id: int):
    return db.session.execute(
        select(Task.id, Task.code, Task.title, Task.status, Task.deadline, Task.extended_deadline, Task.claimed_on,
               Task.last_report_period, Task.return_comment, Task.updated_at)
        .join(TaskUnit, TaskUnit.task_id == Task.id)
        .where(Task.is_leaf.is_(True), TaskUnit.unit_id == unit_id, TaskUnit.role == LEAD)
        .order_by(Task.id)
    ).all()


def _unit_items(user: User, today: date, rules: LightRules) -> list[TodoItem]:
    items: list[TodoItem] = []
    led = _led_measures(user.unit_id)
    by_id = {r.id: r for r in led}
    period = report_period(today)
    remind_day = int(current_app.config.get("REPORT_REMINDER_DAY", 20))
    stamp = _day_start(today)
    returned = [r.id for r in led if r.status == IN_PROGRESS and r.return_comment]
    if returned:
        latest: dict[int, tuple] = {}
        for rid, task_id, created_at in db.session.execute(
                select(Review.id, Review.task_id, Review.created_at)
                .where(Review.task_id.in_(returned), Review.decision == "return").order_by(Review.id)):
            latest[task_id] = (rid, created_at)
        for task_id in returned:
            r = by_id[task_id]
            rid, created_at = latest.get(task_id, (0, r.updated_at))
            items.append(TodoItem("returned", f"returned:{task_id}:{rid}", task_id, _measure(r.code, r.title),
                                  f"区司法局退回了销号申请：{r.return_comment}", created_at, f"/tasks/{task_id}"))
    if led:
        _add_urges(items, user, by_id, today)
        _add_decisions(items, user, by_id, today)
    for r in led:
        deadline = r.extended_deadline or r.deadline
        name = _measure(r.code, r.title)
        if deadline is not None and is_overdue(r.status, deadline, r.claimed_on, today):
            items.append(TodoItem("overdue", f"overdue:{r.id}:{deadline.isoformat()}", r.id, name,
                                  f"已逾期{(today - deadline).days}天（完成时限 {deadline.isoformat()}），请尽快办理，"
                                  f"确有困难可申请延期", stamp, f"/tasks/{r.id}"))
        elif (deadline is not None and r.status in OPEN and 0 <= (deadline - today).days <= rules.warning_days):
            left = (deadline - today).days
            items.append(TodoItem("due_soon", f"due_soon:{r.id}:{deadline.isoformat()}", r.id, name,
                                  ("今日到期" if left == 0 else f"距完成时限还有{left}天") + f"（{deadline.isoformat()}）",
                                  stamp, f"/tasks/{r.id}"))
        if today.day >= remind_day and report_owed(r.status, r.last_report_period, period):
            items.append(TodoItem("report", f"report:{r.id}:{period}", r.id, name,
                                  f"{period} 进展尚未报送（{today.month}月{rules.report_due_day}日前）", stamp,
                                  f"/tasks/{r.id}"))
    return items


def _add_urges(items: list[TodoItem], user: User, by_id: dict, today: date) -> None:
    """Urges on the unit's measures that no report of the unit answered since (last 30 days)."""
    answered = exists().where(ProgressUpdate.task_id == TaskEvent.task_id, ProgressUpdate.unit_id == user.unit_id,
                              ProgressUpdate.created_at >= TaskEvent.created_at)
    rows = db.session.execute(
        select(TaskEvent.id, TaskEvent.task_id, TaskEvent.note, TaskEvent.created_at)
        .join(TaskUnit, and_(TaskUnit.task_id == TaskEvent.task_id, TaskUnit.unit_id == user.unit_id,
                             TaskUnit.role == LEAD))
        .where(TaskEvent.kind == "urge", TaskEvent.event_date >= today - timedelta(days=RECENT_DAYS), ~answered)
        .order_by(TaskEvent.id)
    ).all()
    for event_id, task_id, note, created_at in rows:
        r = by_id.get(task_id)
        if r is None or r.status not in OPEN:
            continue
        items.append(TodoItem("urge", f"urge:{event_id}", task_id, _measure(r.code, r.title),
                              f"区司法局催办：{note}；请尽快推进并报送进展", created_at, f"/tasks/{task_id}"))


def _add_decisions(items: list[TodoItem], user: User, by_id: dict, today: date) -> None:
    rows = db.session.execute(
        select(DeadlineExtension.id, DeadlineExtension.task_id, DeadlineExtension.state, DeadlineExtension.direct,
               DeadlineExtension.new_deadline, DeadlineExtension.comment, DeadlineExtension.decided_at)
        .where(DeadlineExtension.task_id.in_(list(by_id)), DeadlineExtension.state != "pending",
               DeadlineExtension.decision_date >= today - timedelta(days=RECENT_DAYS))
        .order_by(DeadlineExtension.id)
    ).all()
    for ext_id, task_id, state, direct, new_deadline, comment, decided_at in rows:
        r = by_id[task_id]
        if direct:
            kind, text = "deadline_changed", f"区司法局将完成时限调整为 {new_deadline.isoformat()}"
        elif state == "approved":
            kind, text = "extension_approved", f"延期申请已批准，完成时限延至 {new_deadline.isoformat()}"
        else:
            kind, text = "extension_rejected", "延期申请被驳回，完成时限不变"
        if comment:
            text += f"；意见：{comment}"
        items.append(TodoItem(kind, f"ext:{ext_id}", task_id, _measure(r.code, r.title), text,
                              decided_at or utcnow(), f"/tasks/{task_id}"))


def _supervisor_items(today: date) -> list[TodoItem]:
    items: list[TodoItem] = []
    for task_id, code, title, claimed_on, updated_at in db.session.execute(
            select(Task.id, Task.code, Task.title, Task.claimed_on, Task.updated_at)
            .where(Task.is_leaf.is_(True), Task.status == PENDING_REVIEW).order_by(Task.claimed_on, Task.id)):
        items.append(TodoItem("claim", f"claim:{task_id}:{claimed_on.isoformat() if claimed_on else 0}", task_id,
                              _measure(code, title), f"{claimed_on.isoformat() if claimed_on else ''} 申请销号，请审核",
                              updated_at, "/review"))
    for ext_id, task_id, code, title, new_deadline, late, created_at in db.session.execute(
            select(DeadlineExtension.id, DeadlineExtension.task_id, Task.code, Task.title,
                   DeadlineExtension.new_deadline, DeadlineExtension.late, DeadlineExtension.created_at)
            .join(Task, Task.id == DeadlineExtension.task_id)
            .where(DeadlineExtension.state == "pending").order_by(DeadlineExtension.id)):
        items.append(TodoItem("extension_request", f"extreq:{ext_id}", task_id, _measure(code, title),
                              ("逾期申请：" if late else "") + f"申请延至 {new_deadline.isoformat()}，请批准或驳回",
                              created_at, "/extensions"))
    since = today - timedelta(days=NEW_OVERDUE_DAYS - 1)
    for task_id, code, title, overdue_since in db.session.execute(
            select(Task.id, Task.code, Task.title, Task.overdue_since)
            .where(Task.is_leaf.is_(True), Task.status != "done", Task.overdue_since >= since,
                   Task.overdue_since <= today).order_by(Task.overdue_since, Task.id)):
        items.append(TodoItem("new_overdue", f"new_overdue:{task_id}:{overdue_since.isoformat()}", task_id,
                              _measure(code, title), f"自 {overdue_since.isoformat()} 起逾期，可在逾期清单催办",
                              _day_start(overdue_since), "/overdue"))
    for nid, subject, attempts, created_at in db.session.execute(
            select(Notification.id, Notification.subject, Notification.attempts, Notification.created_at)
            .where(Notification.state == "failed").order_by(Notification.id).limit(100)):
        items.append(TodoItem("failed_message", f"failed:{nid}:{attempts}", None, subject,
                              f"邮件发送失败（已尝试{attempts}次），请检查地址后在发件箱重新发送", created_at,
                              f"/outbox/{nid}"))
    return items


def todo_for(user: User, today: date, rules: LightRules) -> Todo:
    """The user's to-do list on ``today``, unread first in order of urgency, with read marks."""
    if user.is_supervisor:
        items = _supervisor_items(today)
    elif user.role == "unit" and user.unit_id:
        items = _unit_items(user, today, rules)
    else:
        return Todo()
    if items:
        read = set(db.session.execute(select(TodoRead.item_key).where(TodoRead.user_id == user.id)).scalars())
        for item in items:
            item.read = item.key in read
    items.sort(key=lambda i: (i.read, RANK.get(i.kind, 99), i.created_at if i.kind == "claim" else -i.created_at.timestamp(),
                              i.task_id or 0))
    return Todo(items)


def cached_todo(user: User, today: date, rules: LightRules) -> Todo:
    """``todo_for`` kept per data revision, day and user (read marks, extensions and outbox rows
    bump the revision too): one small query on a hit. Treat the result as read-only."""
    from ..services.readcache import cached, revision_key

    if not (user.is_supervisor or user.role == "unit"):
        return Todo()
    rev = revision_key()
    key = None if rev is None else ("todo", rev, user.id, user.role, user.unit_id, today, rules)
    return cached(key, lambda: todo_for(user, today, rules))


def badge_count(user: User, today: date, rules: LightRules) -> int:
    """The nav badge: unread to-do items."""
    return cached_todo(user, today, rules).unread


def mark_read(user: User, keys: Iterable[str]) -> int:
    """Mark to-do items read for ``user`` (idempotent); returns how many keys were new. One commit."""
    from ..services import audit

    keys = [k.strip() for k in keys if isinstance(k, str) and k.strip()]
    bad = [k for k in keys if len(k) > 120 or not KEY_RE.match(k)]
    if not keys or bad:
        raise Invalid({"keys": [f"待办事项标识无效：{(bad or [''])[0][:40]}" if bad else "请选择待办事项"]})
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    now, new = utcnow(), 0
    for key in dict.fromkeys(keys):
        stmt = insert(TodoRead).values(user_id=user.id, item_key=key, read_at=now).on_conflict_do_nothing(
            index_elements=["user_id", "item_key"]).returning(TodoRead.id)
        new += db.session.execute(stmt).scalar_one_or_none() is not None
    if new:
        audit.record("todo_read", user, target_type="user", target_id=user.id, detail=f"标记已读 {new} 项待办")
    db.session.commit()
    return new
