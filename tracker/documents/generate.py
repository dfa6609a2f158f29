"""Building the three documents for a plan and a period (used by the CLI and the 报表 page)."""
from __future__ import annotations

from datetime import date
from typing import Callable, Optional

from flask import current_app

from ..models import Plan
from .annual import AnnualInput, build_annual, load_reports
from .bulletin import BulletinInput, build_bulletin, issue_number
from .periods import Period, parse_period
from .service import assess_period, current_weights, load_plan_data
from .xlsx import assessment_xlsx

Progress = Optional[Callable[[str], None]]


def _say(progress: Progress, text: str) -> None:
    if progress:
        progress(text)


def assessment_file(plan: Plan, period: Period, today: date, progress: Progress = None) -> bytes:
    _say(progress, "读取计划与报送记录")
    data = load_plan_data(plan)
    _say(progress, "计算考核")
    result = assess_period(data, period, today)
    _say(progress, "写入 Excel")
    return assessment_xlsx(result, plan.title)


def bulletin_file(plan: Plan, period: Period, today: date, actor=None, progress: Progress = None) -> tuple[int, bytes]:
    """(第N期, .docx bytes) for a month; the number is stored on first generation."""
    weights = current_weights()
    number = issue_number(plan.id, period, actor)
    _say(progress, "读取计划与报送记录")
    data = load_plan_data(plan)
    _say(progress, "计算本月与上月考核")
    current = assess_period(data, period, today, weights)
    previous = assess_period(data, period.previous(), today, weights)
    issuer = current_app.config["DOCUMENT_ISSUER"]
    _say(progress, "生成通报")
    doc = build_bulletin(BulletinInput(plan.title, issuer, number, today, current, previous, data.tasks),
                         progress=lambda s: _say(progress, s))
    return number, doc


def annual_file(plan: Plan, period: Period, today: date, progress: Progress = None) -> bytes:
    weights = current_weights()
    _say(progress, "读取计划与报送记录")
    data = load_plan_data(plan)
    _say(progress, "计算本年与上年考核")
    current = assess_period(data, period, today, weights)
    previous = None
    prev = period.previous()
    if plan.start_date is None or plan.start_date <= prev.end:
        previous = assess_period(data, prev, today, weights)
    _say(progress, "读取全年进展情况")
    reports = load_reports(plan.id, period.start, period.asof(today))
    return build_annual(AnnualInput(plan.title, period.start.year, current, previous, data.tasks, reports),
                        progress=lambda s: _say(progress, s))


def year_period(text: Optional[str], field: str = "year") -> Period:
    period = parse_period(text, field)
    if period.kind != "year":
        from ..errors import Invalid

        raise Invalid({field: [f"年份格式应为 YYYY：{text}"]})
    return period


def month_of(text: Optional[str], field: str = "month") -> Period:
    period = parse_period(text, field)
    if period.kind != "month":
        from ..errors import Invalid

        raise Invalid({field: [f"月份格式应为 YYYY-MM：{text}"]})
    return period
