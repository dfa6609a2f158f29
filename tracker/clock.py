"""The only place that reads the clock: today's date in the configured zone.

Views, CLI commands and scheduler jobs call ``local_today`` once and pass the
date down; rules never read the clock themselves.
"""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo


def local_today(tz_name: str = "Asia/Shanghai") -> date:
    return datetime.now(ZoneInfo(tz_name)).date()
