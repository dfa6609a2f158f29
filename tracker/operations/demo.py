"""Demo progress history for ``make run``: a plausible ledger as of ``today``.

Deterministic (fixed random seed): monthly reports by the lead unit from the
plan's start, completion claims approved by the bureau, a few measures still
overdue or waiting for review. Only for demonstrations; never used by tests of
the rules themselves, and skipped when the plan already has any report.
"""
from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select

from .. import audit
from ..extensions import db
from ..models import LEAD, ProgressUpdate, Review, Task, TaskUnit, User
from ..plans.view import tree_order
from ..rules.lights import report_period
from ..rules.periods import current_period
from ..rules.roles import SUPERVISOR, UNIT
from ..rules.status import APPROVE, DONE, IN_PROGRESS, NOT_STARTED, PENDING_REVIEW

STEPS = [
    "已制定工作方案，明确责任分工和时间节点",
    "召开专题推进会，部署相关工作",
    "组织开展调研，梳理问题清单",
    "完成阶段性任务，形成工作台账",
    "开展督导检查，督促问题整改",
    "总结经验做法，健全长效机制",
]
PROBLEMS = ["", "", "基层执法人员力量不足", "部门间信息共享仍不顺畅", "专业培训师资不足"]


def _month_starts(start: date, end: date) -> list[date]:
    months = []
    cur = date(start.year, start.month, 1)
    while cur <= end:
        months.append(cur)
        cur = date(cur.year + (cur.month == 12), cur.month % 12 + 1, 1)
    return months


def _demo_periods(task: Task, today: date, rng: random.Random, reporter, unit_id, supervisor) -> int:
    """A recurring measure's demo history: one report per started period, most past periods closed (销号)."""
    written = 0
    for period in task.periods:
        if period.start > today:
            break
        past = period.deadline < today
        day = min(period.deadline - timedelta(days=rng.randint(3, 20)), today)
        day = max(day, period.start)
        closed = past and rng.random() < 0.85
        status, progress = (PENDING_REVIEW, 100) if closed else (IN_PROGRESS, rng.randint(20, 80))
        entry = ProgressUpdate(
            task_id=task.id, user_id=reporter.id if reporter else None, unit_id=unit_id,
            created_at=datetime.combine(day, time(9, rng.randint(0, 59))) - timedelta(hours=8),
            report_date=day, period=report_period(day), task_period=period.label, status=status, progress=progress,
            narrative=f"本周期工作{'已完成，申请销号' if closed else '正在推进'}，进度{progress}%",
            problems=rng.choice(PROBLEMS), next_steps="" if closed else "按本周期时限完成")
        db.session.add(entry)
        written += 1
        period.status, period.progress = status, progress
        task.latest_progress, task.last_report_period = entry.narrative, entry.period
        task.last_reported_at = entry.created_at
        if closed:
            period.claimed_on = day
            period.completed_on = min(day + timedelta(days=rng.randint(1, 6)), today)
            period.status = DONE
            db.session.add(Review(task_id=task.id, reviewer_id=supervisor.id if supervisor else None,
                                  decision=APPROVE, comment="本周期材料齐全，同意销号", task_period=period.label,
                                  created_at=datetime.combine(period.completed_on, time(10, 0)) - timedelta(hours=8)))
    current = current_period(task.periods, today)
    if current is not None:
        task.current_period, task.deadline = current.label, current.deadline
        task.status, task.progress = current.status, current.progress
        task.claimed_on, task.completed_on = current.claimed_on, current.completed_on
        task.completed_by_id = supervisor.id if supervisor and current.status == DONE else None
    task.version += 1
    return written


def generate(today: date, seed: int = 2024) -> int:
    """Write demo reports and reviews for every plan without reports; returns the number of reports."""
    if db.session.scalar(select(func.count(ProgressUpdate.id))):
        return 0
    rng = random.Random(seed)
    supervisor = db.session.execute(
        select(User).where(User.role == SUPERVISOR, User.active.is_(True)).order_by(User.id)
    ).scalars().first()
    liaison_by_unit = {u.unit_id: u for u in db.session.execute(
        select(User).where(User.role == UNIT).order_by(User.id)).scalars()}
    tasks = tree_order(list(db.session.execute(select(Task)).scalars()))
    leads = {}
    for link in db.session.execute(select(TaskUnit).where(TaskUnit.role == LEAD).order_by(TaskUnit.position)).scalars():
        leads.setdefault(link.task_id, link.unit_id)
    plan_start = min((t.plan.start_date for t in tasks if t.plan.start_date), default=today - timedelta(days=365))
    written = 0
    for task in tasks:
        if not task.is_leaf:
            continue
        unit_id = leads.get(task.id)
        reporter = liaison_by_unit.get(unit_id)
        if task.recurrence_every:
            written += _demo_periods(task, today, rng, reporter, unit_id, supervisor)
        else:
            written += _demo_measure(task, today, rng, reporter, unit_id, supervisor, plan_start)
    audit.record("seed", None, username="system", detail=f"演示进展数据：{written} 条报送（截至 {today.isoformat()}）")
    db.session.commit()
    return written


def _outcome(task: Task, today: date, rng: random.Random) -> str:
    """How a one-off measure's demo story ends as of ``today``: done, pending, late, running or ongoing."""
    roll = rng.random()
    if task.deadline is None:
        return "ongoing"
    if task.deadline < today:
        return "done" if roll < 0.82 else ("pending" if roll < 0.88 else "late")
    return "running"


def _demo_measure(task: Task, today: date, rng: random.Random, reporter, unit_id, supervisor,
                  plan_start: date) -> int:
    """A one-off measure's demo history: monthly reports from the plan's start, perhaps a claim approved."""
    outcome = _outcome(task, today, rng)
    last_day = today if outcome in ("ongoing", "late", "running") else min(task.deadline, today)
    months = _month_starts(plan_start, last_day)
    # Some measures skipped this month's report (they show in 未报送).
    if outcome in ("ongoing", "running", "late") and rng.random() < 0.3 and len(months) > 1:
        months = months[:-1]
    progress = 0
    for i, month in enumerate(months):
        day = min(date(month.year, month.month, rng.randint(10, 24)), last_day)
        final = i == len(months) - 1
        if outcome in ("done", "pending") and final:
            status, progress = PENDING_REVIEW, 100
        else:
            target = 95 if outcome in ("done", "pending") else (70 if outcome == "late" else 85)
            progress = min(target, progress + rng.randint(5, 25))
            status = IN_PROGRESS
        entry = ProgressUpdate(
            task_id=task.id, user_id=reporter.id if reporter else None, unit_id=unit_id,
            created_at=datetime.combine(day, time(9, rng.randint(0, 59))) - timedelta(hours=8),
            report_date=day, period=report_period(day), status=status, progress=progress,
            narrative=(f"{STEPS[-1] if final else STEPS[i % (len(STEPS) - 1)]}，"
                       f"本月累计完成进度{progress}%"),
            problems=rng.choice(PROBLEMS), next_steps="持续推进，按时限完成" if status != PENDING_REVIEW else "",
        )
        db.session.add(entry)
        task.status, task.progress = status, progress
        task.latest_progress = entry.narrative
        task.last_report_period = entry.period
        task.last_reported_at = entry.created_at
        if status == PENDING_REVIEW:
            task.claimed_on = day
    if outcome == "done" and months:
        approved = min(task.claimed_on + timedelta(days=rng.randint(1, 6)), today)
        task.status, task.completed_on = DONE, approved
        task.completed_by_id = supervisor.id if supervisor else None
        db.session.add(Review(task_id=task.id, reviewer_id=task.completed_by_id, decision=APPROVE,
                              comment="材料齐全，同意销号", decided_on=approved,
                              created_at=datetime.combine(approved, time(10, 0)) - timedelta(hours=8)))
    if not months:
        task.status = NOT_STARTED
    task.version += 1
    return len(months)
