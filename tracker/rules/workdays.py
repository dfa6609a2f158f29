"""Chinese working days (statutory holidays and adjusted working days) via ``chinesecalendar``.

A year the package does not know falls back to Monday–Friday, with a logged warning.
"""
from __future__ import annotations

import logging
from datetime import date, timedelta

log = logging.getLogger(__name__)
_warned: set[int] = set()


def is_workday(day: date) -> bool:
    try:
        import chinese_calendar

        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        if day.year not in _warned:
            _warned.add(day.year)
            log.warning("chinesecalendar has no data for %s; falling back to Monday-Friday", day.year)
        return day.weekday() < 5


def covered_days(today: date, workdays_only: bool, max_back: int = 31) -> list[date]:
    """The days whose reminders go out on ``today``.

    Without the working-day rule that is just ``[today]``. With it: nothing on a
    day off; on a working day every day since the previous working day (so a
    reminder that fell on a weekend or holiday goes out on the next working day).
    """
    if not workdays_only:
        return [today]
    if not is_workday(today):
        return []
    days = [today]
    day = today - timedelta(days=1)
    while len(days) <= max_back and not is_workday(day):
        days.append(day)
        day -= timedelta(days=1)
    return sorted(days)
