"""Assessment periods: a month ``2024-06``, a quarter ``2024Q2`` or a year ``2024``."""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from typing import Optional

from ..errors import Invalid

MONTH_RE = re.compile(r"^(\d{4})-(\d{1,2})$")
QUARTER_RE = re.compile(r"^(\d{4})[Qq](\d+)$")
YEAR_RE = re.compile(r"^(\d{4})$")


@dataclass(frozen=True)
class Period:
    label: str  # canonical: 2024-06, 2024Q2, 2024
    kind: str  # month | quarter | year
    start: date
    end: date

    @property
    def title(self) -> str:
        """Chinese name, e.g. 2024年6月, 2024年第二季度, 2024年."""
        if self.kind == "month":
            return f"{self.start.year}年{self.start.month}月"
        if self.kind == "quarter":
            return f"{self.start.year}年第{'一二三四'[(self.start.month - 1) // 3]}季度"
        return f"{self.start.year}年"

    def asof(self, today: date) -> date:
        """The day the figures are taken: the period's end, or today while it runs."""
        return min(self.end, today)

    def months(self) -> list[str]:
        return [f"{self.start.year:04d}-{m:02d}" for m in range(self.start.month, self.end.month + 1)]

    def previous(self) -> "Period":
        if self.kind == "month":
            y, m = (self.start.year, self.start.month - 1) if self.start.month > 1 else (self.start.year - 1, 12)
            return month_period(y, m)
        if self.kind == "quarter":
            q = (self.start.month - 1) // 3
            y, q = (self.start.year, q) if q > 0 else (self.start.year - 1, 4)
            return parse_period(f"{y}Q{q}")
        return parse_period(str(self.start.year - 1))


def month_period(year: int, month: int) -> Period:
    last = calendar.monthrange(year, month)[1]
    return Period(f"{year:04d}-{month:02d}", "month", date(year, month, 1), date(year, month, last))


def parse_period(text: Optional[str], field: str = "period") -> Period:
    """The period named by ``text``; Invalid with a field error naming the text otherwise."""
    raw = (text or "").strip()
    if not raw:
        raise Invalid({field: ["请填写统计期间：月份 YYYY-MM、季度 YYYYQn 或年份 YYYY"]})
    if m := MONTH_RE.match(raw):
        year, month = int(m.group(1)), int(m.group(2))
        if not 1 <= month <= 12:
            raise Invalid({field: [f"月份应为 01–12：{raw}"]})
        return _checked_year(month_period(year, month), raw, field)
    if m := QUARTER_RE.match(raw):
        year, quarter = int(m.group(1)), int(m.group(2))
        if not 1 <= quarter <= 4:
            raise Invalid({field: [f"季度应为 Q1–Q4：{raw}"]})
        first = 3 * quarter - 2
        end = date(year, first + 2, calendar.monthrange(year, first + 2)[1])
        return _checked_year(Period(f"{year:04d}Q{quarter}", "quarter", date(year, first, 1), end), raw, field)
    if m := YEAR_RE.match(raw):
        year = int(m.group(1))
        return _checked_year(Period(f"{year:04d}", "year", date(year, 1, 1), date(year, 12, 31)), raw, field)
    raise Invalid({field: [f"统计期间格式应为 YYYY-MM（月）、YYYYQn（季度）或 YYYY（年）：{raw}"]})


def _checked_year(period: Period, raw: str, field: str) -> Period:
    if not 1900 <= period.start.year <= 2999:
        raise Invalid({field: [f"年份超出范围：{raw}"]})
    return period


def check_plan_covers(plan, period: Period, field: str = "period") -> None:
    """A period must overlap the plan's span (start to end); Invalid otherwise."""
    start, end = plan.start_date, plan.end_date
    if (start and period.end < start) or (end and period.start > end):
        span = f"{start.isoformat() if start else '…'} 至 {end.isoformat() if end else '…'}"
        raise Invalid({field: [f"{period.title}不在计划“{plan.title[:30]}”的实施期间（{span}）内，没有可统计的数据"]})
