"""`seed --demo-progress` gives make run a plausible ledger, deterministically and once."""
from datetime import date

from sqlalchemy import func, select

from tracker.accounts.users import get_user_by_name
from tracker.extensions import db
from tracker.models import ProgressUpdate, Task
from tracker.plans.tasks import get_plan, load_plan_view
from tracker.rules.lights import LightRules


def test_demo_progress_as_of_a_day(app, runner):
    result = runner.invoke(args=["seed", "--demo-progress", "--today", "2024-07-01"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        reports = db.session.scalar(select(func.count(ProgressUpdate.id)))
        assert reports > 92
        # Nothing is reported after the demo day.
        assert db.session.scalar(select(func.max(ProgressUpdate.report_date))) <= date(2024, 7, 1)
        view = load_plan_view(get_plan(None), get_user_by_name("leader"), date(2024, 7, 1), LightRules())
        lights = {view.states[t.id].light for t in view.tasks if t.is_leaf}
        assert {"done", "green"} <= lights
        statuses = set(db.session.execute(select(Task.status).where(Task.is_leaf)).scalars())
        assert {"done", "in_progress"} <= statuses
    again = runner.invoke(args=["seed", "--demo-progress", "--today", "2024-07-01"])
    assert "未生成演示数据" in again.output
    with app.app_context():
        assert db.session.scalar(select(func.count(ProgressUpdate.id))) == reports


def test_demo_progress_bad_date(app, runner):
    result = runner.invoke(args=["seed", "--demo-progress", "--today", "2024-02-30"])
    assert result.exit_code != 0 and "YYYY-MM-DD" in result.output


def test_demo_progress_bad_date_writes_nothing(app, runner):
    runner.invoke(args=["seed", "--demo-progress", "--today", "2024-13-01"])
    with app.app_context():
        assert db.session.scalar(select(func.count(Task.id))) == 0
