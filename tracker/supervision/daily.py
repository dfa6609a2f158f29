"""The daily sweep the scheduler runs: overdue flags + reminders, recorded in JobRun.

``run_daily(today)`` is safe to repeat (every step is idempotent); the JobRun row
(unique ``(job, run_date)``) tells a restarted scheduler which days it missed.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Optional

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite

from ..extensions import db
from ..models import JobRun, utcnow
from ..notify.reminders import ReminderResult, send_reminders
from .overdue import OverdueResult, check_overdue

DAILY_JOB = "daily"


@dataclass
class DailyResult:
    today: date
    overdue: OverdueResult
    reminders: ReminderResult

    def __str__(self) -> str:
        return f"{self.today.isoformat()} 每日任务：{self.overdue}；{self.reminders}"


def _record_run(job: str, day: date, summary: str) -> None:
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    db.session.execute(insert(JobRun).values(job=job, run_date=day, finished_at=utcnow(), summary=summary[:2000])
                       .on_conflict_do_nothing(index_elements=["job", "run_date"]))
    db.session.commit()


def run_daily(today: date, now: Optional[datetime] = None) -> DailyResult:
    overdue = check_overdue(today)
    reminders = send_reminders(today, now)
    result = DailyResult(today, overdue, reminders)
    _record_run(DAILY_JOB, today, str(result))
    return result


def last_run_date(job: str = DAILY_JOB) -> Optional[date]:
    return db.session.scalar(select(func.max(JobRun.run_date)).where(JobRun.job == job))


def missed_days(up_to: date, max_days: int = 31, job: str = DAILY_JOB) -> list[date]:
    """Days after the last recorded run up to ``up_to`` (at most ``max_days``, the latest ones).

    With no run recorded at all (a fresh install) only ``up_to`` itself.
    """
    last = last_run_date(job)
    if last is None:
        return [up_to]
    start = max(last + timedelta(days=1), up_to - timedelta(days=max_days - 1))
    return [start + timedelta(days=i) for i in range((up_to - start).days + 1)]


def catch_up(up_to: date, max_days: int = 31, now: Optional[datetime] = None) -> list[DailyResult]:
    """Run the daily sweep for every missed day, oldest first."""
    return [run_daily(day, now) for day in missed_days(up_to, max_days)]
