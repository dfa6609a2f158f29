"""Assessment (考核) figures: pure functions of a period, the plan's measures and their journal.

Definitions (shown on the page and in the API's ``rules``):

- measures led (牵头举措): leaf measures where the unit is a lead unit (never first-level tasks);
- completed (完成): approved (销号) within the period and still done at its end;
- on time (按期完成): of those, the claim the bureau approved was made on or before the ORIGINAL
  deadline (a measure without deadline counts as on time);
- overdue (逾期): at the period's end past the effective deadline, not done and not claimed in
  time; days = period end − deadline, summed;
- monthly reports due (应报): one per open measure and month of the period from the plan's start
  whose due day (REPORT_DUE_DAY) has come; a measure done before the month, or awaiting review
  since before it, owes none. Filed (已报): a report for that month by the period's end; on time
  (按时): by the due day. 未报送 = due − filed;
- returns (退回): the bureau's returns within the period; extensions (延期): requested / granted.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Optional

from ..models import LEAD
from ..rules.lights import is_overdue
from ..rules.status import DONE, PENDING_REVIEW
from .history import RETURN, UPDATE, Entry, Journal, states_at
from .hooks import ExtensionCounts, Item, assessable_items
from .periods import Period


@dataclass(frozen=True)
class Weights:
    on_time: float = 40.0
    reporting: float = 30.0
    overdue: float = 30.0
    per_return: float = 2.0
    per_extension: float = 1.0

    def formula(self) -> str:
        return (f"得分 = {self.on_time:g}×按期完成率 + {self.reporting:g}×按时报送率 + {self.overdue:g}×(1−逾期率)"
                f" − {self.per_return:g}×退回次数 − {self.per_extension:g}×获批延期次数，取值 0–100，保留一位小数；"
                "无应完成或应报送事项的比率按 100% 计；逾期率 = 逾期举措数 ÷ 牵头举措数；"
                "得分相同名次相同（1、2、2、4）")

    def as_dict(self) -> dict:
        return {"on_time": self.on_time, "reporting": self.reporting, "overdue": self.overdue,
                "per_return": self.per_return, "per_extension": self.per_extension}


@dataclass
class ItemResult:
    task_id: int
    lead_ids: list[int]
    done: bool = False  # done at the period's end
    completed: bool = False  # approved within the period
    on_time: bool = False
    overdue_days: Optional[int] = None
    reports_due: int = 0
    reports_filed: int = 0
    reports_on_time: int = 0
    missing_months: list[str] = field(default_factory=list)
    returns: int = 0
    extensions: ExtensionCounts = ExtensionCounts()


FIGURES = ("measures", "completed", "completed_on_time", "overdue", "overdue_days", "reports_due",
           "reports_filed", "reports_on_time", "reports_missing", "returns", "extensions_requested",
           "extensions_granted")


@dataclass
class UnitFigures:
    unit_id: int
    unit: str
    kind: str
    measures: int = 0
    completed: int = 0
    completed_on_time: int = 0
    overdue: int = 0
    overdue_days: int = 0
    reports_due: int = 0
    reports_filed: int = 0
    reports_on_time: int = 0
    reports_missing: int = 0
    returns: int = 0
    extensions_requested: int = 0
    extensions_granted: int = 0
    score: float = 0.0
    rank: int = 0

    @property
    def on_time_rate(self) -> Optional[float]:
        return self.completed_on_time / self.completed if self.completed else None

    @property
    def reporting_rate(self) -> Optional[float]:
        return self.reports_on_time / self.reports_due if self.reports_due else None

    @property
    def overdue_rate(self) -> Optional[float]:
        return self.overdue / self.measures if self.measures else None

    def as_dict(self) -> dict:
        d = {"unit": self.unit, "unit_id": self.unit_id, "kind": self.kind, "score": self.score, "rank": self.rank}
        d.update({name: getattr(self, name) for name in FIGURES})
        d.update({"on_time_rate": _r(self.on_time_rate), "reporting_rate": _r(self.reporting_rate),
                  "overdue_rate": _r(self.overdue_rate)})
        return d


def _r(value: Optional[float]) -> Optional[float]:
    return None if value is None else round(value, 4)


@dataclass
class Assessment:
    period: Period
    asof: date
    weights: Weights
    units: list[UnitFigures]
    items: dict[int, ItemResult]  # by task id
    measures: int = 0  # distinct measures of the plan
    done_total: int = 0  # done at the period's end (any time)

    @property
    def completed(self) -> int:
        return sum(1 for r in self.items.values() if r.completed)

    @property
    def completed_on_time(self) -> int:
        return sum(1 for r in self.items.values() if r.completed and r.on_time)

    @property
    def overdue(self) -> list[ItemResult]:
        return [r for r in self.items.values() if r.overdue_days is not None]

    @property
    def done_rate(self) -> float:
        return self.done_total / self.measures if self.measures else 0.0


def due_date(month: str, due_day: int) -> date:
    year, mon = int(month[:4]), int(month[5:7])
    return date(year, mon, min(due_day, calendar.monthrange(year, mon)[1]))


@dataclass(frozen=True)
class Month:
    label: str  # YYYY-MM
    start: date
    before: date  # the day before the month starts
    due: date  # the report due day


def month_schedule(period: Period, asof: date, due_day: int, plan_start: Optional[date]) -> list[Month]:
    """The months of the period whose reports are due by ``asof`` (from the plan's start month on)."""
    first = f"{plan_start.year:04d}-{plan_start.month:02d}" if plan_start else ""
    months = []
    for label in period.months():
        start = date(int(label[:4]), int(label[5:]), 1)
        due = due_date(label, due_day)
        if label >= first and due <= asof:
            months.append(Month(label, start, start - timedelta(days=1), due))
    return months


def item_result(item: Item, entries: list[Entry], lead_ids: list[int], period: Period, asof: date,
                months: list[Month], ext: ExtensionCounts, days: Optional[list[date]] = None) -> ItemResult:
    """The figures of one measure for one period, from its journal only."""
    res = ItemResult(item.task_id, lead_ids, extensions=ext)
    days = days or sorted({asof} | {m.before for m in months} | {m.due for m in months})
    states = dict(zip(days, states_at(entries, days)))
    end = states[asof]
    res.done = end.status == DONE
    res.completed = res.done and end.completed_on is not None and period.start <= end.completed_on <= asof
    if res.completed:
        claim = end.completion_claim or end.completed_on
        res.on_time = item.original_deadline is None or claim <= item.original_deadline
    if is_overdue(end.status, item.effective_deadline, end.claimed_on, asof):
        res.overdue_days = (asof - item.effective_deadline).days
    filed: dict[str, date] = {}
    for e in entries:
        if e.kind == RETURN and period.start <= e.day <= asof:
            res.returns += 1
        elif e.kind == UPDATE and e.period and e.day <= asof and (e.period not in filed or e.day < filed[e.period]):
            filed[e.period] = e.day
    for m in months:
        if states[m.before].status == DONE:
            continue
        at_due = states[m.due]
        if at_due.status == PENDING_REVIEW and at_due.claimed_on and at_due.claimed_on < m.start:
            continue
        res.reports_due += 1
        if m.label in filed:
            res.reports_filed += 1
            res.reports_on_time += filed[m.label] <= m.due
        else:
            res.missing_months.append(m.label)
    return res


def score(fig: UnitFigures, w: Weights) -> float:
    on_time = fig.on_time_rate if fig.on_time_rate is not None else 1.0
    reporting = fig.reporting_rate if fig.reporting_rate is not None else 1.0
    overdue = fig.overdue_rate if fig.overdue_rate is not None else 0.0
    value = (w.on_time * on_time + w.reporting * reporting + w.overdue * (1 - overdue)
             - w.per_return * fig.returns - w.per_extension * fig.extensions_granted)
    return round(min(100.0, max(0.0, value)), 1)


def rank(rows: list[UnitFigures]) -> list[UnitFigures]:
    """Standard competition ranking on the score (1, 2, 2, 4); ties listed by unit id."""
    rows = sorted(rows, key=lambda r: (-r.score, r.unit_id))
    for i, row in enumerate(rows):
        row.rank = rows[i - 1].rank if i and row.score == rows[i - 1].score else i + 1
    return rows


def assess(period: Period, tasks: list, journal: Journal, today: date, weights: Weights, *, due_day: int = 25,
           plan_start: Optional[date] = None, extensions: Optional[dict] = None) -> Assessment:
    """The assessment table of a plan for a period (pure: same inputs, same table)."""
    asof = period.asof(today)
    extensions = extensions or {}
    months = month_schedule(period, asof, due_day, plan_start)
    days = sorted({asof} | {m.before for m in months} | {m.due for m in months})
    units: dict[int, UnitFigures] = {}
    items: dict[int, ItemResult] = {}
    done_total = 0
    for task in tasks:
        if not task.is_leaf:
            continue
        leads = [link for link in task.unit_links if link.role == LEAD]
        lead_ids = [link.unit_id for link in leads]
        for item in assessable_items(task):
            res = item_result(item, journal.of(task.id), lead_ids, period, asof, months,
                              extensions.get(task.id, ExtensionCounts()), days)
            items[task.id] = res
            done_total += res.done
            for link in leads:
                if not link.unit.active:
                    continue
                fig = units.get(link.unit_id)
                if fig is None:
                    fig = units[link.unit_id] = UnitFigures(link.unit_id, link.unit.name, link.unit.kind)
                _add(fig, res)
    for fig in units.values():
        fig.score = score(fig, weights)
    measures = sum(1 for t in tasks if t.is_leaf)
    return Assessment(period, asof, weights, rank(list(units.values())), items, measures, done_total)


def _add(fig: UnitFigures, res: ItemResult) -> None:
    fig.measures += 1
    fig.completed += res.completed
    fig.completed_on_time += res.completed and res.on_time
    if res.overdue_days is not None:
        fig.overdue += 1
        fig.overdue_days += res.overdue_days
    fig.reports_due += res.reports_due
    fig.reports_filed += res.reports_filed
    fig.reports_on_time += res.reports_on_time
    fig.reports_missing += res.reports_due - res.reports_filed
    fig.returns += res.returns
    fig.extensions_requested += res.extensions.requested
    fig.extensions_granted += res.extensions.granted


SORTS = {"rank": "名次", "unit": "单位", "measures": "牵头举措", "completed": "完成", "completed_on_time": "按期完成",
         "overdue": "逾期", "overdue_days": "逾期天数", "reports_due": "应报", "reports_on_time": "按时报送",
         "reports_missing": "未报送", "returns": "退回", "extensions_granted": "延期", "score": "得分"}


def sort_rows(rows: list[UnitFigures], key: str, descending: bool) -> list[UnitFigures]:
    if key not in SORTS:
        key = "rank"
    if key == "unit":
        return sorted(rows, key=lambda r: r.unit, reverse=descending)
    return sorted(rows, key=lambda r: (getattr(r, key), -r.unit_id if descending else r.unit_id), reverse=descending)
