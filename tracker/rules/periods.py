"""Recurring measures (SPEC 6.6): their periods and which one is current, pure functions of ``today``.

A recurring measure (``每年12月底前``, ``每季度``, or ``每年至少开展1次`` in the title with a
yearly deadline) has one period per year / half / quarter / month of the plan's span,
each with its own deadline and status. The measure itself shows its **current**
period: the earliest period that has started and is not done (so an unfinished past
period keeps the measure red until it is closed); when every started period is done,
the latest started one (the measure shows 已完成 until the next period starts).
"""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from typing import Iterable, Optional, Protocol

from .deadlines import DeadlineReading, Recurrence
from .lights import LightRules, measure_light
from .status import DONE

EVERY_MONTHS = {"year": 12, "half": 6, "quarter": 3, "month": 1}
EVERY_LABELS = {"year": "年度", "half": "半年", "quarter": "季度", "month": "月度"}
MAX_PERIODS = 240
_TITLE_RECURRING = re.compile(r"每(年|半年|季度|月)(?:至少|不少于|不低于)?[^，。；,;]{0,30}?\d+\s*(?:次|期|轮)")
_TITLE_EVERY = {"年": "year", "半年": "half", "季度": "quarter", "月": "month"}


@dataclass(frozen=True)
class PeriodSpec:
    label: str
    start: date
    end: date
    deadline: date


class PeriodLike(Protocol):
    label: str
    start: date
    deadline: date
    status: str
    claimed_on: Optional[date]


def _last_day(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def period_start(day: date, every: str) -> date:
    step = EVERY_MONTHS[every]
    return date(day.year, (day.month - 1) // step * step + 1, 1)


def period_label(start: date, every: str) -> str:
    if every == "year":
        return f"{start.year}"
    if every == "half":
        return f"{start.year}-H{1 if start.month <= 6 else 2}"
    if every == "quarter":
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    return f"{start.year}-{start.month:02d}"


def label_cn(label: str) -> str:
    """"2024" -> 2024年, "2024-H1" -> 2024年上半年, "2024-Q3" -> 2024年第三季度, "2024-05" -> 2024年5月."""
    m = re.fullmatch(r"(\d{4})(?:-(H[12]|Q[1-4]|\d{2}))?", label or "")
    if not m:
        return label or ""
    year, part = m.group(1), m.group(2)
    if part is None:
        return f"{year}年"
    if part.startswith("H"):
        return f"{year}年{'上' if part == 'H1' else '下'}半年"
    if part.startswith("Q"):
        return f"{year}年第{'一二三四'[int(part[1]) - 1]}季度"
    return f"{year}年{int(part)}月"


def period_deadline(start: date, recurrence: Recurrence) -> date:
    """The deadline of the period starting on ``start``.

    ``due`` "DD" (months) or "MM-DD" with MM the month within the period; a day that is
    the end of its month in a January-based period (06-30, 03-31, 12-31) means the end.
    """
    if recurrence.every == "month":
        day = int(recurrence.due)
        return date(start.year, start.month, min(day, _last_day(start.year, start.month)))
    month_text, day_text = recurrence.due.split("-")
    month_index, day = int(month_text), int(day_text)
    month_start = _add_months(start, month_index - 1)
    last = _last_day(month_start.year, month_start.month)
    if day >= _last_day(2023, month_index):  # the end of the month, whatever its length
        day = last
    return date(month_start.year, month_start.month, min(day, last))


def build_periods(recurrence: Recurrence, span_start: date, span_end: date,
                  first_from: Optional[date] = None) -> list[PeriodSpec]:
    """One period per year/half/quarter/month from the period holding ``first_from``
    (default the span's start) to the one holding ``span_end``."""
    step = EVERY_MONTHS[recurrence.every]
    start = period_start(max(span_start, first_from) if first_from else span_start, recurrence.every)
    periods: list[PeriodSpec] = []
    while start <= span_end and len(periods) < MAX_PERIODS:
        following = _add_months(start, step)
        end = date.fromordinal(following.toordinal() - 1)
        periods.append(PeriodSpec(period_label(start, recurrence.every), start, end,
                                  period_deadline(start, recurrence)))
        start = following
    return periods


def title_recurrence(title: str, reading: DeadlineReading) -> Optional[Recurrence]:
    """``每年至少开展1次`` in the title with a single deadline: yearly (…) at the deadline's month and day."""
    if reading.deadline is None or reading.milestones or reading.start or reading.recurrence:
        return None
    m = _TITLE_RECURRING.search(title or "")
    if not m:
        return None
    every = _TITLE_EVERY[m.group(1)]
    day = reading.deadline
    if every == "month":
        return Recurrence("month", f"{day.day:02d}")
    month_index = (day.month - 1) % EVERY_MONTHS[every] + 1
    return Recurrence(every, f"{month_index:02d}-{day.day:02d}")


def current_period(periods: Iterable[PeriodLike], today: date) -> Optional[PeriodLike]:
    """The earliest started period not done; else the latest started; else the first."""
    ordered = sorted(periods, key=lambda p: p.start)
    if not ordered:
        return None
    started = [p for p in ordered if p.start <= today]
    for period in started:
        if period.status != DONE:
            return period
    return started[-1] if started else ordered[0]


def period_light(period: PeriodLike, today: date, rules: LightRules = LightRules()) -> str:
    """A period's own light: done, red when its deadline passed unfinished, yellow when near."""
    return measure_light(status=period.status, deadline=period.deadline, today=today,
                         claimed_on=period.claimed_on, last_report_period="9999-99", rules=rules).light


def done_count(periods: Iterable[PeriodLike], today: date) -> tuple[int, int]:
    """(periods done, periods started by ``today``) — shown as 2/3 年度."""
    started = [p for p in periods if p.start <= today]
    return sum(1 for p in started if p.status == DONE), len(started)
