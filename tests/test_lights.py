"""Warning lights and roll-up as pure functions of today, on hand-made trees."""
from dataclasses import dataclass
from datetime import date
from typing import Optional

import pytest

from tracker.rules.lights import DONE, GREEN, RED, YELLOW, LightRules, evaluate_tree, leaf_state, measure_light, rollup


@dataclass
class T:
    id: int
    parent_id: Optional[int]
    is_leaf: bool = True
    status: str = "in_progress"
    deadline: Optional[date] = None
    progress: int = 0
    last_report_period: str = ""
    claimed_on: Optional[date] = None


RULES = LightRules(warning_days=15, report_due_day=25)


def light(status="in_progress", deadline=None, today=date(2024, 7, 1), **kw):
    return measure_light(status=status, deadline=deadline, today=today, rules=RULES, **kw)


def test_red_when_past_deadline_and_not_done():
    r = light(deadline=date(2024, 6, 30), today=date(2024, 7, 1), last_report_period="2024-07")
    assert (r.light, r.overdue_days) == (RED, 1)
    assert light(deadline=date(2024, 6, 30), today=date(2024, 7, 31)).overdue_days == 31


def test_deadline_day_itself_is_not_overdue_but_due_soon():
    r = light(deadline=date(2024, 7, 1), today=date(2024, 7, 1), last_report_period="2024-07")
    assert r.light == YELLOW and r.overdue_days == 0


@pytest.mark.parametrize("days_left, expected", [(15, YELLOW), (16, GREEN), (1, YELLOW), (0, YELLOW)])
def test_warning_window(days_left, expected):
    today = date(2024, 7, 1)
    deadline = date.fromordinal(today.toordinal() + days_left)
    assert light(deadline=deadline, today=today, last_report_period="2024-07").light == expected


def test_window_is_configurable():
    today = date(2024, 7, 1)
    r = measure_light(status="in_progress", deadline=date(2024, 7, 20), today=today,
                      last_report_period="2024-07", rules=LightRules(warning_days=30))
    assert r.light == YELLOW


def test_done_is_done_even_after_deadline():
    assert light(status="done", deadline=date(2023, 1, 1)).light == DONE


def test_missing_monthly_report_after_due_day_is_yellow():
    # 26th: this month's report missing
    r = light(deadline=date(2025, 12, 31), today=date(2024, 7, 26), last_report_period="2024-06")
    assert r.light == YELLOW and r.report_missing
    # 25th is the due day itself: not yet missing
    assert light(deadline=date(2025, 12, 31), today=date(2024, 7, 25), last_report_period="2024-06").light == GREEN
    # reported this month: fine
    assert light(deadline=date(2025, 12, 31), today=date(2024, 7, 26), last_report_period="2024-07").light == GREEN


def test_ongoing_measure_never_overdue_but_must_report():
    assert light(deadline=None, today=date(2030, 1, 1)).light == GREEN
    assert light(deadline=None, today=date(2030, 1, 28)).light == YELLOW


def test_claim_in_time_is_not_overdue_while_waiting_for_review():
    deadline = date(2024, 6, 30)
    assert light(status="pending_review", deadline=deadline, claimed_on=date(2024, 6, 29)).light == GREEN
    # A late claim does not hide the delay.
    assert light(status="pending_review", deadline=deadline, claimed_on=date(2024, 7, 1)).light == RED


def test_rollup_mean_worst_and_counts():
    a = leaf_state(T(1, None, status="done", progress=100), date(2024, 7, 1), RULES)
    b = leaf_state(T(2, None, progress=50, deadline=date(2024, 6, 1)), date(2024, 7, 1), RULES)
    c = leaf_state(T(3, None, progress=0, deadline=date(2025, 1, 1), last_report_period="2024-07"), date(2024, 7, 1), RULES)
    parent = rollup([a, b, c])
    assert parent.light == RED
    assert parent.percent == pytest.approx(50.0)
    assert parent.counts == {DONE: 1, RED: 1, GREEN: 1}
    assert not parent.done
    assert rollup([a, a]).done


def test_evaluate_tree_three_levels():
    today = date(2024, 7, 1)
    tasks = [
        T(1, None, is_leaf=False),
        T(2, 1, is_leaf=False),
        T(3, 2, status="done", progress=100),
        T(4, 2, progress=20, deadline=date(2024, 7, 10), last_report_period="2024-07"),
        T(5, 1, is_leaf=False),
        T(6, 5, status="done"),
        T(7, None, is_leaf=False),
        T(8, 7, status="done"),
    ]
    states = evaluate_tree(tasks, today, RULES)
    assert states[4].light == YELLOW
    assert states[2].light == YELLOW and states[2].percent == pytest.approx(60.0)
    assert states[5].light == DONE and states[5].percent == 100
    assert states[1].light == YELLOW
    assert states[1].percent == pytest.approx(80.0)  # mean of children (60, 100)
    assert states[1].counts == {DONE: 2, YELLOW: 1}
    assert states[7].done


def test_evaluate_tree_replays_days():
    tasks = [T(1, None, is_leaf=False), T(2, 1, deadline=date(2024, 6, 30), last_report_period="2099-12")]
    assert evaluate_tree(tasks, date(2024, 6, 1), RULES)[1].light == GREEN
    assert evaluate_tree(tasks, date(2024, 6, 20), RULES)[1].light == YELLOW
    assert evaluate_tree(tasks, date(2024, 7, 2), RULES)[1].light == RED


def test_deep_tree_does_not_recurse():
    tasks = [T(i, i - 1 if i > 1 else None, is_leaf=False) for i in range(1, 3000)]
    tasks.append(T(3000, 2999, status="done"))
    assert evaluate_tree(tasks, date(2024, 7, 1), RULES)[1].done
