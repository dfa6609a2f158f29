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
from datetime import date, datetime, time, timedelta
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


def daily_job(app: Flask) -> None:
    from .services.clock import local_today
    from .services.daily import run_daily

    with app.app_context():
        today = local_today(app.config["TIMEZONE"])
        try:
            result = run_daily(today)
            log.info("%s", result)
        except Exception:
            log.exception("daily sweep for %s failed", today)
            from .extensions import db

            db.session.rollback()
        finally:
            from .extensions import db

            db.session.remove()


def deliver_job(app: Flask) -> None:
    from .extensions import db
    from .models import utcnow
    from .services.outbox import deliver_queued

    with app.app_context():
        try:
            result = deliver_queued(utcnow())
            if result.sent or result.retrying or result.failed:
                log.info("delivery: %s", result)
        except Exception:
            log.exception("delivery sweep failed")
            db.session.rollback()
        finally:
            db.session.remove()


def catch_up_job(app: Flask, now_local: datetime | None = None) -> list:
    """Process the days missed while the scheduler was down (bounded)."""
    from .extensions import db
    from .services.daily import catch_up

    tz = ZoneInfo(app.config["TIMEZONE"])
    now_local = now_local or datetime.now(tz)
    at = parse_time(app.config.get("SCHEDULER_TIME", "08:30"))
    with app.app_context():
        try:
            results = catch_up(last_due_day(now_local, at), int(app.config.get("SCHEDULER_CATCHUP_DAYS", 31)))
            for r in results:
                log.info("catch-up: %s", r)
            return results
        except Exception:
            log.exception("catch-up failed")
            db.session.rollback()
            return []
        finally:
            db.session.remove()


def build_scheduler(app: Flask) -> BlockingScheduler:
    tz = ZoneInfo(app.config["TIMEZONE"])
    at = parse_time(app.config.get("SCHEDULER_TIME", "08:30"))
    scheduler = BlockingScheduler(timezone=tz)
    scheduler.add_job(
        daily_job, CronTrigger(hour=at.hour, minute=at.minute, timezone=tz), args=[app], id="daily",
        name="每日逾期检查与提醒", coalesce=True, max_instances=1, misfire_grace_time=3600, replace_existing=True,
    )
    minutes = max(int(app.config.get("SCHEDULER_DELIVERY_MINUTES", 5)), 1)
    scheduler.add_job(
        deliver_job, IntervalTrigger(minutes=minutes, timezone=tz), args=[app], id="deliver",
        name="邮件重试投递", coalesce=True, max_instances=1, misfire_grace_time=minutes * 60, replace_existing=True,
    )
    return scheduler
