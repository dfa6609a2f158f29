"""Working days, the daily sweep with JobRun, catch-up after downtime, the APScheduler setup."""
import logging
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from tests.conftest import make_app
from tracker.extensions import db
from tracker.models import JobRun, Notification, Task
from tracker.notify.reminders import send_reminders
from tracker.operations.seed import seed
from tracker.rules.workdays import covered_days, is_workday
from tracker.scheduler import build_scheduler, catch_up_job, last_due_day, parse_time
from tracker.supervision.daily import missed_days, run_daily

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2024, 10, 8, 1, 0)


def test_chinese_working_days():
    assert is_workday(date(2024, 9, 29))  # a Sunday that was an adjusted working day
    assert not is_workday(date(2024, 10, 1))  # National Day
    assert not is_workday(date(2024, 9, 28))  # Saturday
    assert covered_days(date(2024, 10, 1), True) == []
    assert covered_days(date(2024, 9, 29), True) == [date(2024, 9, 28), date(2024, 9, 29)]
    assert covered_days(date(2024, 10, 8), True) == [date(2024, 10, 1) + timedelta(days=i) for i in range(8)]
    assert covered_days(date(2024, 10, 1), False) == [date(2024, 10, 1)]


def test_unknown_year_falls_back_to_monday_to_friday(caplog, monkeypatch):
    from tracker.rules import workdays

    monkeypatch.setattr(workdays, "_warned", set())
    # Alembic's logging setup (init-db in other tests) may have disabled existing loggers.
    monkeypatch.setattr(logging.getLogger("tracker.rules.workdays"), "disabled", False)
    with caplog.at_level(logging.WARNING, logger="tracker.rules.workdays"):
        assert not is_workday(date(2035, 1, 6))  # Saturday
        assert is_workday(date(2035, 1, 8))  # Monday
        assert covered_days(date(2035, 1, 8), True) == [date(2035, 1, 6), date(2035, 1, 7), date(2035, 1, 8)]
    assert any("falling back to Monday-Friday" in r.message for r in caplog.records)


def _keys():
    return set(db.session.execute(select(Notification.dedupe_key)).scalars())


def test_working_day_rule_moves_holiday_reminders_to_next_working_day(tmp_path, monkeypatch):
    app = make_app(tmp_path, monkeypatch, WORKDAYS_ONLY=True)
    with app.app_context():
        seed()
        q3 = db.session.execute(select(Task).where(Task.deadline == date(2024, 9, 30))).scalars().all()
        assert q3
        # T-1 of the Q3 deadline is Sunday 2024-09-29, an adjusted working day: it goes out that day.
        assert send_reminders(date(2024, 9, 28), NOW).days == []  # Saturday off: nothing built
        sunday = send_reminders(date(2024, 9, 29), NOW)
        assert sunday.unit_emails > 0
        body = "\n".join(db.session.execute(select(Notification.body_text)).scalars())
        assert all(t.title in body for t in q3) and "距完成时限还有1天" in body
        before = _keys()
        # The National Day holiday: nothing is built, although 10-01 is the first overdue day of Q3 measures.
        for d in range(1, 8):
            assert send_reminders(date(2024, 10, d), NOW).unit_emails == 0
        assert _keys() == before
        # The next working day sends what fell on the days off.
        tuesday = send_reminders(date(2024, 10, 8), NOW)
        assert tuesday.unit_emails > 0 and tuesday.digests == 1
        new = db.session.execute(select(Notification).where(Notification.dedupe_key.like("%2024-10-08"))).scalars().all()
        unit_text = "\n".join(n.body_text for n in new if n.kind == "unit_daily")
        assert all(t.title in unit_text for t in q3) and "已逾期8天" in unit_text
        digest = next(n for n in new if n.kind == "bureau_digest")
        assert "【新增逾期】" in digest.body_text and q3[0].title in digest.body_text
        db.session.remove()
        db.engine.dispose()


def test_without_working_day_rule_holidays_send(seeded):
    with seeded.app_context():
        result = send_reminders(date(2024, 10, 1), NOW)
        assert result.unit_emails > 0  # first overdue day of the Q3 measures


def test_run_daily_records_jobrun_and_is_repeatable(seeded):
    with seeded.app_context():
        first = run_daily(date(2024, 7, 1), NOW)
        assert first.overdue.flagged > 0 and first.reminders.unit_emails > 0
        again = run_daily(date(2024, 7, 1), NOW)
        assert again.overdue.flagged == 0 and again.reminders.unit_emails == 0
        runs = db.session.execute(select(JobRun)).scalars().all()
        assert [(r.job, r.run_date) for r in runs] == [("daily", date(2024, 7, 1))]
        assert "每日任务" in runs[0].summary


def test_catch_up_runs_missed_days(seeded):
    with seeded.app_context():
        assert missed_days(date(2024, 7, 1)) == [date(2024, 7, 1)]  # fresh install: today only
        db.session.add(JobRun(job="daily", run_date=date(2024, 6, 27), summary="x"))
        db.session.commit()
        assert missed_days(date(2024, 7, 1)) == [date(2024, 6, 28), date(2024, 6, 29), date(2024, 6, 30),
                                                 date(2024, 7, 1)]
        assert missed_days(date(2024, 9, 1), max_days=31)[0] == date(2024, 8, 2)  # bounded
    # The scheduler starts at 09:00 on 2024-07-01 (after 08:30): catch up through today.
    results = catch_up_job(seeded, datetime(2024, 7, 1, 9, 0, tzinfo=SH))
    assert [r.today for r in results] == [date(2024, 6, 28), date(2024, 6, 29), date(2024, 6, 30), date(2024, 7, 1)]
    with seeded.app_context():
        dates = set(db.session.execute(select(JobRun.run_date)).scalars())
        assert {date(2024, 6, 28), date(2024, 7, 1)} <= dates
        keys = _keys()
        assert "bureau:digest:2024-06-29" in keys and "bureau:digest:2024-07-01" in keys
        assert any(k.endswith(":daily:2024-06-29") for k in keys)  # T-1 reminders of June deadlines
    # Restarting again the same day catches up nothing more.
    assert catch_up_job(seeded, datetime(2024, 7, 1, 10, 0, tzinfo=SH)) == []


def test_catch_up_before_the_daily_time_stops_at_yesterday(seeded):
    with seeded.app_context():
        db.session.add(JobRun(job="daily", run_date=date(2024, 6, 29), summary="x"))
        db.session.commit()
    results = catch_up_job(seeded, datetime(2024, 7, 1, 7, 0, tzinfo=SH))
    assert [r.today for r in results] == [date(2024, 6, 30)]


def test_build_scheduler_jobs(app):
    scheduler = build_scheduler(app)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {"daily", "deliver"}
    daily = jobs["daily"]
    assert daily.coalesce is True and daily.max_instances == 1 and daily.misfire_grace_time == 3600
    fields = {f.name: str(f) for f in daily.trigger.fields}
    assert fields["hour"] == "8" and fields["minute"] == "30"
    assert str(daily.trigger.timezone) == "Asia/Shanghai"
    assert jobs["deliver"].trigger.interval == timedelta(minutes=5)
    assert jobs["deliver"].max_instances == 1


def test_scheduler_time_parsing():
    assert parse_time("07:05") == time(7, 5)
    assert last_due_day(datetime(2024, 7, 1, 8, 29), time(8, 30)) == date(2024, 6, 30)
    assert last_due_day(datetime(2024, 7, 1, 8, 30), time(8, 30)) == date(2024, 7, 1)
    try:
        parse_time("8点半")
    except ValueError as exc:
        assert "HH:MM" in str(exc)
    else:
        raise AssertionError("bad time accepted")


def test_run_scheduler_command_is_registered(app):
    result = app.test_cli_runner().invoke(args=["--help"])
    assert "run-scheduler" in result.output and "send-reminders" in result.output and "check-overdue" in result.output
