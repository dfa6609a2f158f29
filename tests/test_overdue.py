"""check-overdue: overdue_since set on the first overdue day, kept in history, cleared when finished."""
from datetime import date, timedelta

from sqlalchemy import func, select

from tracker.extensions import db
from tracker.models import Task, TaskEvent
from tracker.rules.status import DONE, PENDING_REVIEW
from tracker.supervision.overdue import check_overdue

TODAY = date(2024, 7, 1)


def _measure(title_part: str) -> Task:
    return db.session.execute(select(Task).where(Task.title.contains(title_part))).scalar_one()


def _overdue_expected(today: date) -> int:
    return db.session.scalar(select(func.count()).where(Task.is_leaf.is_(True), Task.deadline < today,
                                                        Task.status != DONE))


def test_flags_first_overdue_day_and_is_idempotent(seeded):
    with seeded.app_context():
        result = check_overdue(TODAY)
        expected = _overdue_expected(TODAY)
        assert expected > 0 and result.flagged == expected and result.cleared == 0
        flagged = db.session.execute(select(Task).where(Task.overdue_since.is_not(None))).scalars().all()
        assert len(flagged) == expected
        assert all(t.overdue_since == t.deadline + timedelta(days=1) for t in flagged)
        events = db.session.scalar(select(func.count()).where(TaskEvent.kind == "overdue"))
        assert events == expected
        again = check_overdue(TODAY)
        assert again.flagged == 0 and again.cleared == 0 and again.overdue_total == expected
        assert db.session.scalar(select(func.count()).where(TaskEvent.kind == "overdue")) == expected


def test_clears_when_done_or_deadline_moved(seeded):
    with seeded.app_context():
        check_overdue(TODAY)
        done, moved, claimed = db.session.execute(
            select(Task).where(Task.overdue_since.is_not(None)).order_by(Task.id).limit(3)).scalars().all()
        done.status = DONE
        moved.deadline = date(2024, 12, 31)
        claimed.status, claimed.claimed_on = PENDING_REVIEW, claimed.deadline  # claimed in time
        db.session.commit()
        result = check_overdue(TODAY)
        assert result.cleared == 3 and result.flagged == 0
        for task in (done, moved, claimed):
            db.session.refresh(task)
            assert task.overdue_since is None
        notes = db.session.execute(select(TaskEvent.task_id, TaskEvent.note).where(
            TaskEvent.kind == "overdue_cleared")).all()
        assert {n.task_id for n in notes} == {done.id, moved.id, claimed.id}
        assert any("已销号" in n.note for n in notes)
        assert check_overdue(TODAY).cleared == 0


def test_first_day_is_deadline_plus_one(seeded):
    with seeded.app_context():
        task = db.session.execute(select(Task).where(Task.deadline == date(2024, 6, 30))
                                  .order_by(Task.id).limit(1)).scalar_one()
        check_overdue(date(2024, 6, 30))
        db.session.refresh(task)
        assert task.overdue_since is None  # due today is not overdue
        check_overdue(date(2024, 7, 5))  # detected late: still the first overdue day
        db.session.refresh(task)
        assert task.overdue_since == date(2024, 7, 1)
        event = db.session.execute(select(TaskEvent).where(TaskEvent.task_id == task.id)).scalar_one()
        assert event.kind == "overdue" and event.event_date == date(2024, 7, 1)


def test_cli_check_overdue(seeded):
    runner = seeded.test_cli_runner()
    result = runner.invoke(args=["check-overdue", "--today", "2024-07-01"])
    assert result.exit_code == 0, result.output
    assert result.output.count("\n") == 1 and "新增逾期" in result.output
    bad = runner.invoke(args=["check-overdue", "--today", "2024-02-30"])
    assert bad.exit_code != 0
    assert bad.output.strip().startswith("错误：") and bad.output.strip().count("\n") == 0
