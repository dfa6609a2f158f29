"""Reminder emails (SPEC 2.4): one email per unit per day, the bureau's digest.

``send_reminders(today)`` evaluates the rules for the days ``today`` covers (just
today, or, with the working-day rule, every day since the previous working day),
composes at most one reminder per unit and one digest (``compose.py``), queues
each on its recipient's channels, e-mail and robots (unique dedupe keys:
``unit:{id}:daily:{date}``, ``bureau:digest:{date}``), and then delivers what is queued. Rules, for measures not done:

* 逾期 overdue: on the first overdue day (deadline + 1) and every
  ``OVERDUE_REPEAT_DAYS`` after — to the lead units;
* 临期 due soon: ``DUE_SOON_DAYS`` (15, 7, 1) days before the deadline — lead units;
* 本月进展待报送: on ``REPORT_REMINDER_DAY`` (20th) when this month's report is not
  in, and on the day after ``REPORT_DUE_DAY`` (26th) when it is still missing —
  lead units (co-operating units too when ``REMIND_CO_UNITS`` is on);
* the bureau digest: new overdue measures, measures overdue more than
  ``ESCALATION_DAYS`` (escalation), pending completion claims, units missing this
  month's report (after the due day), units without a liaison email, failed emails.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Optional

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..models import Notification, utcnow
from ..plans.periods import roll_periods
from ..plans.rows import TaskRow, UnitInfo, load_open_measures
from ..rules.lights import days_left, is_overdue, report_missing, report_owed, report_period
from ..rules.periods import label_cn
from ..rules.status import PENDING_REVIEW
from ..rules.workdays import covered_days
from . import compose
from .channels import Queued, queue_message, targets, webhooks_by_owner
from .compose import DUE_SOON, OVERDUE, REPORT, due_note, overdue_note
from .email import bureau_recipients
from .outbox import FAILED, DeliveryResult, deliver_queued

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Settings:
    due_soon_days: tuple[int, ...] = (15, 7, 1)
    overdue_repeat_days: int = 7
    escalation_days: int = 30
    reminder_day: int = 20
    due_day: int = 25
    remind_co_units: bool = False
    workdays_only: bool = False
    base_url: str = "http://127.0.0.1:5000"

    @classmethod
    def from_config(cls, config) -> "Settings":
        raw = config.get("DUE_SOON_DAYS", "15,7,1")
        if isinstance(raw, str):
            days = tuple(sorted({int(p) for p in raw.replace("，", ",").split(",") if p.strip()}, reverse=True))
        else:
            days = tuple(sorted({int(p) for p in raw}, reverse=True))
        return cls(
            due_soon_days=days,
            overdue_repeat_days=max(int(config.get("OVERDUE_REPEAT_DAYS", 7)), 1),
            escalation_days=int(config.get("ESCALATION_DAYS", 30)),
            reminder_day=int(config.get("REPORT_REMINDER_DAY", 20)),
            due_day=int(config.get("REPORT_DUE_DAY", 25)),
            remind_co_units=bool(config.get("REMIND_CO_UNITS", False)),
            workdays_only=bool(config.get("WORKDAYS_ONLY", False)),
            base_url=(config.get("BASE_URL") or "").rstrip("/"),
        )


@dataclass
class Item:
    task_id: int
    code: str
    title: str
    deadline_text: str
    deadline: Optional[date]
    note: str
    url: str
    units: str = ""


@dataclass
class UnitMail:
    unit: UnitInfo
    sections: dict[str, dict[int, Item]] = field(default_factory=lambda: {OVERDUE: {}, DUE_SOON: {}, REPORT: {}})

    def add(self, section: str, item: Item) -> None:
        self.sections[section].setdefault(item.task_id, item)

    def items(self, section: str) -> list[Item]:
        return sorted(self.sections[section].values(), key=lambda i: (i.deadline or date.max, i.task_id))

    @property
    def empty(self) -> bool:
        return not any(self.sections.values())


@dataclass
class ReminderResult:
    today: date
    days: list[date] = field(default_factory=list)
    unit_emails: int = 0
    digests: int = 0
    duplicates: int = 0
    robot_messages: int = 0  # rows queued for group robots (parts counted)
    no_email_units: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    delivery: Optional[DeliveryResult] = None

    def __str__(self) -> str:
        if not self.days:
            return f"{self.today.isoformat()} 为非工作日，未生成提醒"
        text = (f"{self.today.isoformat()}：新建单位提醒 {self.unit_emails} 封、督办日报 {self.digests} 封，"
                f"已存在未重复生成 {self.duplicates} 封")
        if self.robot_messages:
            text += f"，群机器人消息 {self.robot_messages} 条"
        if self.no_email_units:
            text += f"，无联络邮箱单位 {len(self.no_email_units)} 个"
        if self.delivery is not None:
            text += f"；{self.delivery}"
        return text


def task_url(settings: Settings, task_id: int) -> str:
    return compose.task_url(settings.base_url, task_id)


def _item(task: TaskRow, note: str, settings: Settings) -> Item:
    """The item of a measure: its deadline is the one in force (SPEC 6.1), the text shows the
    original and the extension (``… → 延至 …``)."""
    if task.current_period:  # a recurring measure: the period this is about
        note = f"{label_cn(task.current_period)}周期：{note}"
    return Item(task_id=task.id, code=task.code, title=task.title, deadline_text=task.deadline_label,
                deadline=task.effective_deadline, note=note, url=task_url(settings, task.id),
                units="、".join(u.name for u in task.lead_units))


def collect_unit_mails(measures: list[TaskRow], days: list[date], today: date,
                       settings: Settings) -> dict[int, UnitMail]:
    """Every unit's items for the covered ``days``, evaluated with today's data."""
    mails: dict[int, UnitMail] = {}

    def add(units: list[UnitInfo], section: str, task: TaskRow, note: str) -> None:
        for unit in units:
            if unit.id not in mails:
                mails[unit.id] = UnitMail(unit)
            mails[unit.id].add(section, _item(task, note, settings))

    for task in measures:
        leads = [unit for unit in task.lead_units if unit.active]
        cos = [unit for unit in task.co_units if unit.active]
        deadline = task.effective_deadline
        overdue_today = is_overdue(task.status, deadline, task.claimed_on, today)
        for day in days:
            if is_overdue(task.status, deadline, task.claimed_on, day):
                nth = (day - (deadline + timedelta(days=1))).days
                if nth % settings.overdue_repeat_days == 0 and overdue_today:
                    add(leads, OVERDUE, task, overdue_note(deadline, today))
            elif not overdue_today and days_left(task.status, deadline, day) in settings.due_soon_days:
                add(leads, DUE_SOON, task, due_note(deadline, today))
            period = report_period(day)
            if report_owed(task.status, task.last_report_period, period):
                note = None
                if day.day == settings.reminder_day:
                    note = f"请于{day.month}月{settings.due_day}日前报送{period}进展"
                elif day.day == settings.due_day + 1:
                    note = f"{period}进展逾期未报送（截止{day.month}月{settings.due_day}日）"
                if note:
                    add(leads + (cos if settings.remind_co_units else []), REPORT, task, note)
    add_all_overdue(mails, measures, today, settings)
    return {uid: m for uid, m in mails.items() if not m.empty}


def add_all_overdue(mails: dict[int, UnitMail], measures: list[TaskRow], today: date, settings: Settings) -> None:
    """An email that reports overdue measures lists every overdue measure the unit leads,
    not only those on their first (or repeat) overdue day, so its subject counts them all."""
    wanted = {uid for uid, m in mails.items() if m.sections[OVERDUE]}
    if not wanted:
        return
    for task in measures:
        deadline = task.effective_deadline
        if not is_overdue(task.status, deadline, task.claimed_on, today):
            continue
        for unit in task.lead_units:
            if unit.id in wanted:
                mails[unit.id].add(OVERDUE, _item(task, overdue_note(deadline, today), settings))


@dataclass
class Digest:
    today: date
    new_overdue: list[Item] = field(default_factory=list)
    escalations: list[Item] = field(default_factory=list)
    pending: list[Item] = field(default_factory=list)
    missing: list[tuple[str, int]] = field(default_factory=list)  # (unit name, measures)
    no_email: list[str] = field(default_factory=list)
    failed: list[Notification] = field(default_factory=list)
    period: str = ""
    escalation_days: int = 30

    @property
    def empty(self) -> bool:
        return not (self.new_overdue or self.escalations or self.pending or self.missing or self.no_email
                    or self.failed)


def build_digest(measures: list[TaskRow], days: list[date], today: date, settings: Settings,
                 no_email: list[str]) -> Digest:
    digest = Digest(today=today, period=report_period(today), no_email=no_email,
                    escalation_days=settings.escalation_days)
    first, last = min(days), max(days)
    missing: dict[str, int] = defaultdict(int)
    for task in measures:
        deadline = task.effective_deadline
        overdue = is_overdue(task.status, deadline, task.claimed_on, today)
        if overdue and first <= deadline + timedelta(days=1) <= last:
            digest.new_overdue.append(_item(task, overdue_note(deadline, today), settings))
        if overdue and (today - deadline).days > settings.escalation_days:
            digest.escalations.append(_item(task, overdue_note(deadline, today), settings))
        if task.status == PENDING_REVIEW:
            digest.pending.append(_item(task, f"{task.claimed_on.isoformat() if task.claimed_on else ''} 申请销号", settings))
        if report_missing(task.status, task.last_report_period, today, settings.due_day):
            for unit in task.lead_units:
                missing[unit.name] += 1
    digest.missing = sorted(missing.items(), key=lambda kv: (-kv[1], kv[0]))
    digest.escalations.sort(key=lambda i: i.deadline or date.max)
    digest.failed = list(db.session.execute(
        select(Notification).where(Notification.state == FAILED).order_by(Notification.id).limit(50)
    ).scalars())
    return digest


def units_without_email(measures: list[TaskRow]) -> list[str]:
    """Active units leading an open measure but with no liaison email."""
    names = {unit.name for task in measures for unit in task.lead_units if unit.active and not unit.email_list}
    return sorted(names)


def _tally(result: ReminderResult, queued: Queued, kind: str) -> int:
    """Records a template error, a duplicate and the robot rows; 1 for a new e-mail, else 0."""
    if queued.error:
        result.errors.append(f"邮件模板 {kind} 渲染失败：{queued.error}")
    elif queued.email is False:
        result.duplicates += 1
    result.robot_messages += queued.robots
    return int(bool(queued.email))


def _queue_unit_mail(mail: UnitMail, today: date, result: ReminderResult, hooks) -> None:
    """The unit's reminder, composed once: its e-mail (when it has a liaison address) and its robots."""
    message = compose.unit_daily(mail.unit, today, {s: mail.items(s) for s in (OVERDUE, DUE_SOON, REPORT)})
    if not mail.unit.email_list:
        result.no_email_units.append(mail.unit.name)
        log.warning("unit %s has reminders but no liaison email", mail.unit.name)
    queued = queue_message(message, key=f"unit:{mail.unit.id}:daily:{today.isoformat()}", emails=mail.unit.email_list,
                           unit_id=mail.unit.id, rule="reminders", webhooks=targets(hooks, mail.unit.id, "reminders"))
    result.unit_emails += _tally(result, queued, "unit_daily")


def _queue_digest(digest: Digest, config, today: date, settings: Settings, result: ReminderResult, hooks) -> None:
    robots, emails = targets(hooks, None, "digest"), bureau_recipients(config)
    if not emails and not robots:
        result.errors.append("未配置督办邮箱（BUREAU_EMAILS），也没有带邮箱的督办人员，督办日报未生成")
        return
    queued = queue_message(compose.bureau_digest(digest, settings.base_url), key=f"bureau:digest:{today.isoformat()}",
                           emails=emails, unit_id=None, rule="digest", webhooks=robots)
    result.digests += _tally(result, queued, "bureau_digest")


def build_reminders(today: date) -> ReminderResult:
    """Put the day's emails in the outbox (one commit); duplicates are no-ops."""
    config = current_app.config
    settings = Settings.from_config(config)
    result = ReminderResult(today=today, days=covered_days(today, settings.workdays_only))
    if not result.days:
        return result
    measures = load_open_measures()
    no_email = units_without_email(measures)
    hooks = webhooks_by_owner()
    for mail in sorted(collect_unit_mails(measures, result.days, today, settings).values(),
                       key=lambda m: m.unit.id):
        _queue_unit_mail(mail, today, result, hooks)
    digest = build_digest(measures, result.days, today, settings, no_email)
    if not digest.empty:
        _queue_digest(digest, config, today, settings, result, hooks)
    db.session.commit()
    return result


def send_reminders(today: date, now: Optional[datetime] = None, *, deliver: bool = True) -> ReminderResult:
    """Build the day's emails into the outbox, then deliver everything queued."""
    roll_periods(today)  # recurring measures remind about their current period
    result = build_reminders(today)
    if deliver:
        result.delivery = deliver_queued(now or utcnow())
    return result
