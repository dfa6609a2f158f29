"""The scheduler process (``flask --app wsgi run-scheduler``): APScheduler 3.11.

A ``BlockingScheduler`` with two jobs, both sweeps over database state:

* ``daily`` at ``SCHEDULER_TIME`` (default 08:30, Asia/Shanghai): ``run_daily(today)``
  — overdue flags, reminders and digest into the outbox, delivery, a JobRun row;
* ``deliver`` every ``SCHEDULER_DELIVERY_MINUTES``: retry queued mail.

Exactly-once comes from the outbox's unique dedupe keys, not from the scheduler:
two scheduler processes (or a scheduler and a CLI run) never double-send. On
start the process catches up on days it missed (``SCHEDULER_CATCHUP_DAYS``).
"""
from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask

log = logging.getLogger(__name__)


def parse_time(text: str) -> time:
    try:
        hour, minute = (int(p) for p in str(text).strip().split(":"))
        return time(hour, minute)
    except (ValueError, TypeError):
        raise ValueError(f"SCHEDULER_TIME 应为 HH:MM 格式：{text!r}") from None


def last_due_day(now_local: datetime, at: time) -> date:
    """The latest day whose daily sweep should have run by ``now_local``."""
    today = now_local.date()
    return today if now_local.time() >= at else today - timedelta(days=1)


def run_in_app(app: Flask, what: str, fn, *, default=None, on_error=None):
    """Run ``fn()`` inside an app context, the way every job does: on failure roll the session back and
    log (or hand the exception to ``on_error`` and return what it returns); always remove the session,
    so a failed sweep never stops the scheduler or leaks a connection."""
    from .extensions import db

    with app.app_context():
        try:
            return fn()
        except Exception as exc:
            db.session.rollback()
            if on_error is not None:
                return on_error(exc)
            log.exception("%s failed", what)
            return default
        finally:
            db.session.remove()


def daily_job(app: Flask) -> None:
    from .clock import local_today
    from .supervision.daily import run_daily

    def sweep():
        today = local_today(app.config["TIMEZONE"])
        log.info("%s", run_daily(today))

    run_in_app(app, "daily sweep", sweep)


def deliver_job(app: Flask) -> None:
    from .models import utcnow
    from .notify.outbox import deliver_queued

    def deliver():
        result = deliver_queued(utcnow())
        if result.sent or result.retrying or result.failed:
            log.info("delivery: %s", result)

    run_in_app(app, "delivery sweep", deliver)


def catch_up_job(app: Flask, now_local: datetime | None = None) -> list:
    """Process the days missed while the scheduler was down (bounded)."""
    from .supervision.daily import catch_up

    now_local = now_local or datetime.now(ZoneInfo(app.config["TIMEZONE"]))
    at = parse_time(app.config["SCHEDULER_TIME"])

    def sweep():
        results = catch_up(last_due_day(now_local, at), int(app.config["SCHEDULER_CATCHUP_DAYS"]))
        for r in results:
            log.info("catch-up: %s", r)
        return results

    return run_in_app(app, "catch-up", sweep, default=[])


def build_scheduler(app: Flask) -> BlockingScheduler:
    tz = ZoneInfo(app.config["TIMEZONE"])
    at = parse_time(app.config["SCHEDULER_TIME"])
    scheduler = BlockingScheduler(timezone=tz)
    scheduler.add_job(
        daily_job, CronTrigger(hour=at.hour, minute=at.minute, timezone=tz), args=[app], id="daily",
        name="每日逾期检查与提醒", coalesce=True, max_instances=1, misfire_grace_time=3600, replace_existing=True,
    )
    minutes = max(int(app.config["SCHEDULER_DELIVERY_MINUTES"]), 1)
    scheduler.add_job(
        deliver_job, IntervalTrigger(minutes=minutes, timezone=tz), args=[app], id="deliver",
        name="邮件重试投递", coalesce=True, max_instances=1, misfire_grace_time=minutes * 60, replace_existing=True,
    )
    return scheduler


# --- the process: heartbeat, fail-fast start, next-run and stop lines ------------------------------

class SchedulerStartError(Exception):
    """The scheduler cannot start (no database): one line, non-zero exit."""


class Process:
    """One running scheduler: its heartbeat row, the consecutive heartbeat failures, how it ended."""

    def __init__(self, app: Flask, scheduler: BlockingScheduler):
        self.app, self.scheduler = app, scheduler
        self.beat_id: int | None = None
        self.failures = 0
        self.exit_code = 0
        self.stopped_by = ""

    def next_daily_utc(self, now_utc: datetime | None = None) -> datetime | None:
        job = self.scheduler.get_job("daily")
        if job is None:
            return None
        nxt = getattr(job, "next_run_time", None) or job.trigger.get_next_fire_time(
            None, (now_utc or _utcnow_aware()).astimezone(job.trigger.timezone))
        return nxt.astimezone(timezone.utc).replace(tzinfo=None) if nxt else None

    def start(self, host: str, pid: int, now: datetime) -> None:
        from .operations.heartbeat import error_line, start_beat

        next_run = self.next_daily_utc()

        def refuse(exc):
            raise SchedulerStartError(f"调度器无法连接数据库，已退出：{error_line(exc)}") from None

        self.beat_id = run_in_app(self.app, "start", lambda: start_beat(host, pid, now, next_run), on_error=refuse)

    def beat(self, now: datetime | None = None, note: str = "beat") -> bool:
        """Record a heartbeat; after ``SCHEDULER_MAX_FAILURES`` failures in a row, stop (exit 1)."""
        from .models import utcnow
        from .operations.heartbeat import beat, error_line

        def write():
            beat(self.beat_id, now or utcnow(), self.next_daily_utc(), note)
            self.failures = 0
            return True

        def failed(exc):
            self.failures += 1
            log.error("heartbeat failed (%d in a row): %s", self.failures, error_line(exc))
            return False

        if run_in_app(self.app, "heartbeat", write, on_error=failed):
            return True
        if self.failures >= int(self.app.config["SCHEDULER_MAX_FAILURES"]):
            log.error("调度器连续 %d 次无法写入心跳（数据库不可用），退出以便重启", self.failures)
            self.exit_code = 1
            if self.scheduler.running:
                self.scheduler.shutdown(wait=False)
        return False

    def stop(self, now: datetime) -> None:
        from .operations.heartbeat import stop_beat

        if self.beat_id is not None:
            run_in_app(self.app, "stop", lambda: stop_beat(self.beat_id, now), on_error=lambda exc: None)


def _utcnow_aware() -> datetime:
    return datetime.now(timezone.utc)


def attach_heartbeat(process: Process) -> None:
    """A heartbeat every minute and after every job; the next daily run is logged after each sweep."""
    from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED

    process.scheduler.add_job(
        process.beat, IntervalTrigger(seconds=60), id="heartbeat", name="调度器心跳", coalesce=True,
        max_instances=1, misfire_grace_time=60, replace_existing=True,
    )

    def after_job(event) -> None:
        if event.job_id == "heartbeat":
            return
        process.beat(note=event.job_id)
        if event.job_id == "daily":
            log_next_run(process)

    process.scheduler.add_listener(after_job, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)


def log_next_run(process: Process) -> None:
    nxt = process.next_daily_utc()
    if nxt is not None:
        local = nxt.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(process.app.config["TIMEZONE"]))
        log.info("下次每日检查：%s（%s）", local.strftime("%Y-%m-%d %H:%M"), process.app.config["TIMEZONE"])


def install_stop_signals(process: Process) -> None:
    import signal

    def _stop(signum, _frame) -> None:
        process.stopped_by = signal.Signals(signum).name
        log.info("收到 %s，调度器正在停止", process.stopped_by)
        if process.scheduler.running:
            process.scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
