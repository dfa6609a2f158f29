"""The dashboard (总览): overall figures, unit ranking and chart data.

Everything is computed from one loaded ``PlanView`` plus one aggregate query
over progress updates, so the page costs a fixed number of SQL statements.
Charts are plain geometry for server-side SVG (no JavaScript library).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType
from typing import Mapping, Optional

from sqlalchemy import func, or_, select

from ..extensions import db
from ..models import LEAD, ProgressUpdate, Task, TaskUnit
from ..plans.access import leads_measure
from ..plans.rows import UnitInfo
from ..plans.view import PlanView
from ..rules.lights import DONE, GREEN, RED, YELLOW, LightRules, evaluate_tree, report_missing, report_period
from ..rules.status import DONE as DONE_STATUS
from ..rules.status import PENDING_REVIEW

SORT_KEYS = ("name", "measures", "done", "overdue", "due_soon", "rate", "missing")


# Every figure below is read-only (frozen dataclasses, tuples, mapping views): the dashboard's
# figures are shared by the read cache.
@dataclass(frozen=True)
class UnitRow:
    unit: UnitInfo
    measures: int = 0
    done: int = 0
    overdue: int = 0
    due_soon: int = 0
    missing: int = 0

    @property
    def rate(self) -> float:
        return self.done / self.measures if self.measures else 0.0

    @property
    def name(self) -> str:
        return self.unit.short_name


@dataclass(frozen=True)
class Overview:
    total: int
    counts: Mapping[str, int]
    percent: float  # mean percent of the measures
    done_rate: float
    roots: tuple  # (task, state) for first-level tasks
    units: tuple[UnitRow, ...] = ()


def overview(view: PlanView, today: date, rules: LightRules, unit_id: Optional[int] = None) -> Overview:
    """Figures for the whole plan, or for one unit's own measures when ``unit_id`` is given."""
    if unit_id is None:
        measures = [t for t in view.tasks if t.is_leaf and t.id in view.visible]
        states = view.states
        tree = [t for t in view.tasks if t.id in view.visible]
    else:
        own = {t.id for t in view.tasks if any(link.unit_id == unit_id for link in t.unit_links)}
        measures = [t for t in view.tasks if t.is_leaf and t.id in own]
        tree = [t for t in view.tasks if t.id in view.visible and (not t.is_leaf or t.id in own)]
        states = evaluate_tree(tree, today, rules)
    counts = {RED: 0, YELLOW: 0, GREEN: 0, DONE: 0}
    for m in measures:
        counts[states[m.id].light] += 1
    total = len(measures)
    percent = sum(states[m.id].percent for m in measures) / total if total else 0.0
    roots = tuple((t, states[t.id]) for t in tree if t.parent_id is None)
    return Overview(total=total, counts=MappingProxyType(counts), percent=percent, done_rate=counts[DONE] / total if total else 0.0,
                    roots=roots)


def unit_ranking(view: PlanView, today: date, rules: LightRules, *, only_unit_id: Optional[int] = None,
                 sort: str = "overdue", descending: bool = True) -> tuple[UnitRow, ...]:
    """Per lead unit: measures, done, overdue, due soon, completion rate, reports missing this month."""
    units: dict[int, UnitInfo] = {}
    tally: dict[int, Counter] = {}
    for task in view.tasks:
        if not task.is_leaf or task.id not in view.visible:
            continue
        state = view.states[task.id]
        for link in task.unit_links:
            if not leads_measure(task, link.unit_id) or link.role != LEAD:
                continue
            if only_unit_id is not None and link.unit_id != only_unit_id:
                continue
            units.setdefault(link.unit_id, link.unit)
            counts = tally.setdefault(link.unit_id, Counter())
            counts["measures"] += 1
            if state.light == DONE:
                counts["done"] += 1
                continue
            if state.light == RED:
                counts["overdue"] += 1
            elif state.light == YELLOW and not state.report_missing:
                counts["due_soon"] += 1
            if report_missing(task.status, task.last_report_period, today, rules.report_due_day):
                counts["missing"] += 1
    result = [UnitRow(units[uid], measures=c["measures"], done=c["done"], overdue=c["overdue"],
                      due_soon=c["due_soon"], missing=c["missing"]) for uid, c in tally.items()]
    if sort not in SORT_KEYS:
        sort = "overdue"
    if sort == "name":
        result.sort(key=lambda r: (r.unit.kind, r.unit.id), reverse=descending)
    else:
        # Ties by name so the order is stable.
        result.sort(key=lambda r: r.unit.id)
        result.sort(key=lambda r: getattr(r, sort), reverse=descending)
    return tuple(result)


def completion_series(plan_id: int, today: date, start: Optional[date] = None,
                      unit_id: Optional[int] = None) -> list[tuple[str, int]]:
    """Cumulative measures reported complete (claimed or done, or 100%), per month, up to ``today``.

    One aggregate query: the first month each measure was reported complete,
    counted per month; the cumulative sum is taken here.
    """
    first = (
        select(ProgressUpdate.task_id, func.min(ProgressUpdate.period).label("period"))
        .join(Task, Task.id == ProgressUpdate.task_id)
        .where(Task.plan_id == plan_id,
               or_(ProgressUpdate.status.in_((PENDING_REVIEW, DONE_STATUS)), ProgressUpdate.progress >= 100))
        .group_by(ProgressUpdate.task_id)
    )
    if unit_id is not None:
        first = first.where(ProgressUpdate.task_id.in_(select(TaskUnit.task_id).where(TaskUnit.unit_id == unit_id)))
    sub = first.subquery()
    per_month = dict(db.session.execute(select(sub.c.period, func.count()).group_by(sub.c.period)).all())
    end = report_period(today)
    months = sorted(p for p in per_month if p and p <= end)
    if not months and start is None:
        return []
    begin = report_period(start) if start else months[0]
    if months and months[0] < begin:
        begin = months[0]
    series: list[tuple[str, int]] = []
    total = 0
    year, month = int(begin[:4]), int(begin[5:7])
    while f"{year:04d}-{month:02d}" <= end and len(series) < 240:
        key = f"{year:04d}-{month:02d}"
        total += per_month.get(key, 0)
        series.append((key, total))
        month += 1
        if month > 12:
            year, month = year + 1, 1
    return series


# --- SVG geometry -----------------------------------------------------------

@dataclass(frozen=True)
class LineChart:
    width: int
    height: int
    points: str
    dots: tuple[tuple[float, float, str, int], ...]
    x_labels: tuple[tuple[float, str], ...]
    y_ticks: tuple[tuple[float, int], ...]
    target_y: Optional[float]
    target: int
    left: int
    bottom: float
    right: float


def line_chart(series: list[tuple[str, int]], target: int, width: int = 640, height: int = 240) -> Optional[LineChart]:
    if not series:
        return None
    left, right, top, bottom = 44, width - 16, 16, height - 30
    top_value = max(max(v for _, v in series), target, 1)
    n = len(series)

    def x(i: int) -> float:
        return left + (right - left) * (i / (n - 1) if n > 1 else 0.5)

    def y(v: float) -> float:
        return bottom - (bottom - top) * v / top_value

    dots = [(round(x(i), 1), round(y(v), 1), p, v) for i, (p, v) in enumerate(series)]
    step = max(1, n // 8)
    x_labels = [(round(x(i), 1), series[i][0]) for i in range(0, n, step)]
    ticks = sorted({0, top_value // 2, top_value})
    return LineChart(
        width=width, height=height, points=" ".join(f"{a},{b}" for a, b, _, _ in dots), dots=tuple(dots),
        x_labels=tuple(x_labels), y_ticks=tuple((round(y(t), 1), t) for t in ticks),
        target_y=round(y(target), 1) if target else None, target=target, left=left, bottom=bottom, right=right,
    )


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    y: float
    width: float


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    label_width: int
    bar_height: int
    bars: tuple[Bar, ...]


def bar_chart(items: list[tuple[str, int]], width: int = 640, limit: int = 15) -> Optional[BarChart]:
    items = [(label, value) for label, value in items if value > 0][:limit]
    if not items:
        return None
    label_width, bar_height, gap = 130, 18, 6
    top_value = max(v for _, v in items)
    usable = width - label_width - 40
    bars = tuple(Bar(label, value, i * (bar_height + gap) + 4, max(2.0, round(usable * value / top_value, 1)))
                 for i, (label, value) in enumerate(items))
    return BarChart(width=width, height=len(bars) * (bar_height + gap) + 8, label_width=label_width,
                    bar_height=bar_height, bars=bars)
