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
single statement (a UNION ALL of the item rows and the user's read marks), so the badge on
every page costs one query, and the landing page reuses the list it shows for its badge.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Iterable, Optional

from flask import current_app
from sqlalchemy import (
    Date,
    DateTime,
    Integer,
    String,
    Text,
    case,
    cast,
    exists,
    func,
    literal,
    null,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.dialects import postgresql, sqlite

from ..errors import Invalid
from ..extensions import db
from ..models import (
    LEAD,
    DeadlineExtension,
    Notification,
    ProgressUpdate,
    Review,
    Task,
    TaskEvent,
    TaskUnit,
    TodoRead,
    User,
    utcnow,
)
from ..rules.deadlines import effective_deadline_of
from ..rules.lights import LightRules, is_overdue, report_owed, report_period
from ..rules.roles import UNIT
from ..rules.status import DONE, IN_PROGRESS, NOT_STARTED, PENDING_REVIEW

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


# --- One statement: every row the list needs, as a UNION ALL of same-shaped selects ---------
# Columns: kind, task_id, code, title, s1, s2, s3, d1, d2, d3, n1, n2, ts. The rules themselves
# (overdue, due soon, report owed) are applied in Python below, by the same functions as the
# lights and the reminders.

def _row(kind: str, task_id=None, code=None, title=None, s1=None, s2=None, s3=None, d1=None, d2=None, d3=None,
         n1=None, n2=None, ts=None):
    def typed(value, type_):
        # NULL needs a CAST for PostgreSQL's UNION; real columns keep their type (SQLite's CAST AS
        # DATE would turn a date into a number).
        return cast(null(), type_) if value is None else type_coerce(value, type_)

    return (literal(kind, String).label("kind"), typed(task_id, Integer).label("task_id"),
            typed(code, String).label("code"), typed(title, Text).label("title"), typed(s1, Text).label("s1"),
            typed(s2, Text).label("s2"), typed(s3, Text).label("s3"), typed(d1, Date).label("d1"),
            typed(d2, Date).label("d2"), typed(d3, Date).label("d3"), typed(n1, Integer).label("n1"),
            typed(n2, Integer).label("n2"), typed(ts, DateTime).label("ts"))


def _unit_selects(user: User, today: date):
    led = (select(TaskUnit.task_id).where(TaskUnit.unit_id == user.unit_id, TaskUnit.role == LEAD))
    last_return = (select(func.max(Review.id)).where(Review.task_id == Task.id, Review.decision == "return")
                   .correlate(Task).scalar_subquery())
    measures = select(*_row("measure", Task.id, Task.code, Task.title, Task.status, Task.return_comment,
                            Task.last_report_period, Task.deadline, Task.extended_deadline, Task.claimed_on,
                            last_return, None, Task.updated_at)).where(
        Task.is_leaf.is_(True), Task.status != DONE, Task.id.in_(led))
    answered = exists().where(ProgressUpdate.task_id == TaskEvent.task_id, ProgressUpdate.unit_id == user.unit_id,
                              ProgressUpdate.created_at >= TaskEvent.created_at)
    urges = select(*_row("urge", Task.id, Task.code, Task.title, Task.status, TaskEvent.note, n1=TaskEvent.id,
                         ts=TaskEvent.created_at)).join(Task, Task.id == TaskEvent.task_id).where(
        TaskEvent.kind == "urge", TaskEvent.task_id.in_(led), Task.status.in_(OPEN),
        TaskEvent.event_date >= today - timedelta(days=RECENT_DAYS), ~answered)
    direct = case((DeadlineExtension.direct.is_(True), "direct"), else_="")
    decisions = select(*_row("decision", Task.id, Task.code, Task.title, DeadlineExtension.state,
                             DeadlineExtension.comment, direct, DeadlineExtension.new_deadline,
                             n1=DeadlineExtension.id, ts=DeadlineExtension.decided_at)).join(
        Task, Task.id == DeadlineExtension.task_id).where(
        DeadlineExtension.task_id.in_(led), DeadlineExtension.state != "pending",
        DeadlineExtension.decision_date >= today - timedelta(days=RECENT_DAYS))
    return [measures, urges, decisions]


def _supervisor_selects(today: date):
    claims = select(*_row("claim", Task.id, Task.code, Task.title, d3=Task.claimed_on, ts=Task.updated_at)).where(
        Task.is_leaf.is_(True), Task.status == PENDING_REVIEW)
    late = case((DeadlineExtension.late.is_(True), "late"), else_="")
    requests = select(*_row("extreq", Task.id, Task.code, Task.title, s3=late, d1=DeadlineExtension.new_deadline,
                            n1=DeadlineExtension.id, ts=DeadlineExtension.created_at)).join(
        Task, Task.id == DeadlineExtension.task_id).where(DeadlineExtension.state == "pending")
    since = today - timedelta(days=NEW_OVERDUE_DAYS - 1)
    overdue = select(*_row("new_overdue", Task.id, Task.code, Task.title, d1=Task.overdue_since)).where(
        Task.is_leaf.is_(True), Task.status != DONE, Task.overdue_since >= since, Task.overdue_since <= today)
    failed = select(*_row("failed", title=Notification.subject, n1=Notification.id, n2=Notification.attempts,
                          ts=Notification.created_at)).where(Notification.state == "failed")
    return [claims, requests, overdue, failed]


def _unit_items(rows, user: User, today: date, rules: LightRules) -> list[TodoItem]:
    items: list[TodoItem] = []
    period = report_period(today)
    remind_day = int(current_app.config["REPORT_REMINDER_DAY"])
    stamp = _day_start(today)
    for r in rows:
        name, url = _measure(r.code, r.title), f"/tasks/{r.task_id}"
        if r.kind == "urge":
            items.append(TodoItem("urge", f"urge:{r.n1}", r.task_id, name,
                                  f"区司法局催办：{r.s2}；请尽快推进并报送进展", r.ts, url))
        elif r.kind == "decision":
            if r.s3 == "direct":
                kind, text = "deadline_changed", f"区司法局将完成时限调整为 {r.d1.isoformat()}"
            elif r.s1 == "approved":
                kind, text = "extension_approved", f"延期申请已批准，完成时限延至 {r.d1.isoformat()}"
            else:
                kind, text = "extension_rejected", "延期申请被驳回，完成时限不变"
            items.append(TodoItem(kind, f"ext:{r.n1}", r.task_id, name, text + (f"；意见：{r.s2}" if r.s2 else ""),
                                  r.ts or stamp, url))
        elif r.kind == "measure":
            items += _measure_items(r, name, url, today, rules, period, remind_day, stamp)
    return items


def _measure_items(r, name, url, today, rules, period, remind_day, stamp) -> list[TodoItem]:
    """The items one led measure gives: returned claim, overdue or due soon, report owed."""
    status, deadline = r.s1, effective_deadline_of(r.d1, r.d2)
    items = []
    if status == IN_PROGRESS and r.s2:
        items.append(TodoItem("returned", f"returned:{r.task_id}:{r.n1 or 0}", r.task_id, name,
                              f"区司法局退回了销号申请：{r.s2}", r.ts, url))
    if deadline is not None and is_overdue(status, deadline, r.d3, today):
        items.append(TodoItem("overdue", f"overdue:{r.task_id}:{deadline.isoformat()}", r.task_id, name,
                              f"已逾期{(today - deadline).days}天（完成时限 {deadline.isoformat()}），请尽快办理，"
                              f"确有困难可申请延期", stamp, url))
    elif deadline is not None and status in OPEN and 0 <= (deadline - today).days <= rules.warning_days:
        left = (deadline - today).days
        items.append(TodoItem("due_soon", f"due_soon:{r.task_id}:{deadline.isoformat()}", r.task_id, name,
                              ("今日到期" if left == 0 else f"距完成时限还有{left}天") + f"（{deadline.isoformat()}）",
                              stamp, url))
    if today.day >= remind_day and report_owed(status, r.s3, period):
        items.append(TodoItem("report", f"report:{r.task_id}:{period}", r.task_id, name,
                              f"{period} 进展尚未报送（{today.month}月{rules.report_due_day}日前）", stamp, url))
    return items


def _supervisor_items(rows) -> list[TodoItem]:
    items: list[TodoItem] = []
    for r in rows:
        name = _measure(r.code or "", r.title or "")
        if r.kind == "claim":
            day = r.d3.isoformat() if r.d3 else ""
            items.append(TodoItem("claim", f"claim:{r.task_id}:{day or 0}", r.task_id, name,
                                  f"{day} 申请销号，请审核", r.ts, "/review"))
        elif r.kind == "extreq":
            items.append(TodoItem("extension_request", f"extreq:{r.n1}", r.task_id, name,
                                  ("逾期申请：" if r.s3 == "late" else "") + f"申请延至 {r.d1.isoformat()}，请批准或驳回",
                                  r.ts, "/extensions"))
        elif r.kind == "new_overdue":
            items.append(TodoItem("new_overdue", f"new_overdue:{r.task_id}:{r.d1.isoformat()}", r.task_id, name,
                                  f"自 {r.d1.isoformat()} 起逾期，可在逾期清单催办", _day_start(r.d1), "/overdue"))
        elif r.kind == "failed":
            items.append(TodoItem("failed_message", f"failed:{r.n1}:{r.n2}", None, r.title,
                                  f"邮件发送失败（已尝试{r.n2}次），请检查地址后在发件箱重新发送", r.ts,
                                  f"/outbox/{r.n1}"))
    return items


def todo_for(user: User, today: date, rules: LightRules) -> Todo:
    """The user's to-do list on ``today``, unread first in order of urgency: ONE SQL statement
    (the item rows and the user's read marks as one UNION ALL), whatever the plan's size."""
    if user.is_supervisor:
        selects = _supervisor_selects(today)
    elif user.role == UNIT and user.unit_id:
        selects = _unit_selects(user, today)
    else:
        return Todo()
    selects.append(select(*_row("read", s2=TodoRead.item_key)).where(TodoRead.user_id == user.id))
    rows = db.session.execute(union_all(*selects)).all()
    read = {r.s2 for r in rows if r.kind == "read"}
    rows = [r for r in rows if r.kind != "read"]
    items = _supervisor_items(rows) if user.is_supervisor else _unit_items(rows, user, today, rules)
    for item in items:
        item.read = item.key in read
    items.sort(key=lambda i: (i.read, RANK.get(i.kind, 99),
                              (i.created_at or datetime.min).timestamp() * (1 if i.kind == "claim" else -1),
                              i.task_id or 0))
    return Todo(items)


def badge_count(user: User, today: date, rules: LightRules) -> int:
    """The nav badge: unread to-do items (one statement)."""
    if not (user.is_supervisor or user.role == UNIT):
        return 0
    return todo_for(user, today, rules).unread


def mark_read(user: User, keys: Iterable[str]) -> int:
    """Mark to-do items read for ``user`` (idempotent); returns how many keys were new. One commit."""
    from .. import audit

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
