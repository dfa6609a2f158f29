"""Use cases of the documents capability: load a plan's data once, assess a period, keep the weights.

A fixed number of statements whatever the plan's size: the plan's tasks with units (three), the
journal (two), the weights (one).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Mapping, Optional

from flask import current_app
from sqlalchemy import select

from .. import audit
from ..errors import Forbidden, Invalid
from ..extensions import db
from ..models import AssessmentRules, Plan, User
from ..plans.access import get_plan
from ..plans.rows import load_plan_rows
from ..rules.roles import ADMIN
from .assessment import Assessment, Weights, assess
from .history import Journal, load_journal
from .hooks import extensions_for
from .periods import Period, check_plan_covers, parse_period

WEIGHT_FIELDS = {
    "on_time": ("按期完成率权重", 0, 100),
    "reporting": ("按时报送率权重", 0, 100),
    "overdue": ("逾期控制权重", 0, 100),
    "per_return": ("每次退回扣分", 0, 20),
    "per_extension": ("每次获批延期扣分", 0, 20),
}


@dataclass
class PlanData:
    plan: Plan
    tasks: list
    journal: Journal


def load_plan_data(plan: Plan) -> PlanData:
    tasks = load_plan_rows(plan.id)
    tz = current_app.config["TIMEZONE"]
    return PlanData(plan, tasks, load_journal(plan.id, tasks, tz))


def resolve(plan_id: Optional[int], period_text: Optional[str], field: str = "period") -> tuple[Plan, Period]:
    """The plan (default: the first) and the period; Invalid for a bad period or one outside the plan."""
    period = parse_period(period_text, field)
    plan = get_plan(plan_id)
    check_plan_covers(plan, period, field)
    return plan, period


def assess_period(data: PlanData, period: Period, today: date, weights: Optional[Weights] = None) -> Assessment:
    weights = weights or current_weights()
    leaf_ids = [t.id for t in data.tasks if t.is_leaf]
    return assess(period, data.tasks, data.journal, today, weights,
                  due_day=int(current_app.config["REPORT_DUE_DAY"]), plan_start=data.plan.start_date,
                  extensions=extensions_for(leaf_ids, period.start, period.asof(today)))


def assessment_json(result: Assessment) -> dict:
    """The API shape: ``{period, rules, units: [{unit, score, rank, ...figures}]}``."""
    return {
        "period": result.period.label,
        "start": result.period.start.isoformat(),
        "end": result.period.end.isoformat(),
        "asof": result.asof.isoformat(),
        "rules": {"weights": result.weights.as_dict(), "formula": result.weights.formula(),
                  "on_time": "按原定完成时限（不因延期改变）衡量：销号所依据的完成申请日期不晚于原定时限",
                  "measures_led": "牵头的具体工作举措（末级任务），不含一级、二级任务"},
        "units": [row.as_dict() for row in result.units],
    }


# --- Weights -------------------------------------------------------------------------------

def current_weights() -> Weights:
    row = db.session.execute(select(AssessmentRules).order_by(AssessmentRules.id).limit(1)).scalar_one_or_none()
    if row is None:
        return Weights()
    return Weights(row.on_time, row.reporting, row.overdue, row.per_return, row.per_extension)


def parse_weights(data: Mapping[str, Any]) -> Weights:
    errors: dict[str, list[str]] = {}
    values = {}
    for name, (label, low, high) in WEIGHT_FIELDS.items():
        raw = str(data.get(name, "") if data.get(name) is not None else "").strip()
        try:
            value = float(raw)
            if value != value or not low <= value <= high:  # NaN or out of range
                raise ValueError
        except ValueError:
            errors[name] = [f"{label}应为 {low}–{high} 之间的数字"]
            continue
        values[name] = round(value, 2)
    if not errors and values["on_time"] + values["reporting"] + values["overdue"] != 100:
        errors["on_time"] = ["三项比率权重之和应为 100"]
    if errors:
        raise Invalid(errors)
    return Weights(**values)


def save_weights(actor: User, data: Mapping[str, Any]) -> Weights:
    if actor.role != ADMIN:
        raise Forbidden("只有系统管理员可以修改考核权重")
    weights = parse_weights(data)
    old = current_weights()
    row = db.session.execute(select(AssessmentRules).order_by(AssessmentRules.id).limit(1)).scalar_one_or_none()
    if row is None:
        row = AssessmentRules()
        db.session.add(row)
    for name, value in weights.as_dict().items():
        setattr(row, name, value)
    row.updated_by_id = actor.id
    audit.record("assessment_weights", actor, target_type="assessment_rules",
                 detail=f"考核权重：{old.as_dict()} → {weights.as_dict()}")
    db.session.commit()
    return weights
