"""The only place that reads the clock: today's date in the configured zone, and ``utcnow`` for
the timestamps rows store.

Views, CLI commands and scheduler jobs call ``local_today`` once and pass the
date down; rules never read the clock themselves.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Optional
from zoneinfo import ZoneInfo


def utcnow() -> datetime:
    """Current UTC time as a naive datetime (portable across SQLite and PostgreSQL): stored timestamps."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def local_today(tz_name: str) -> date:
    """Today in ``tz_name`` (the app's ``TIMEZONE``, config.py)."""
    return datetime.now(ZoneInfo(tz_name)).date()


def local_time(value: Optional[datetime], tz_name: str, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored (naive UTC) time as local time text; "" for None."""
    if value is None:
        return ""
    return value.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(tz_name)).strftime(fmt)
