"""Strict parser for Chinese deadline texts (SPEC 2.1).

``parse_deadline("2024年6月底前")`` -> ``date(2024, 6, 30)``; ongoing phrases give
``None``; anything else raises ``DeadlineError`` naming the text. No guessing.
"""
from __future__ import annotations

import calendar
import re
from datetime import date
from typing import Optional

ONGOING_PHRASES = frozenset({"长期坚持", "持续推进", "长期", "持续开展", "长期推进"})

_CN_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4}
_HALF = {"上半年": 6, "下半年": 12}

_Y = r"(?P<y>\d{4})年"
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})$"), "day"),
    (re.compile(r"^(?P<y>\d{4})/(?P<m>\d{1,2})/(?P<d>\d{1,2})$"), "day"),
    (re.compile(_Y + r"(?P<m>\d{1,2})月(?P<d>\d{1,2})日(?:前|之前)?$"), "day"),
    (re.compile(_Y + r"(?P<m>\d{1,2})月(?:底|末)?(?:前|之前)?$"), "month"),
    (re.compile(_Y + r"(?:年)?(?:底|末)?(?:前|之前)?$"), "year"),
    (re.compile(_Y + r"第?(?P<q>[一二三四1-4])季度(?:末|底)?(?:前|之前)?$"), "quarter"),
    (re.compile(_Y + r"(?P<h>上半年|下半年)(?:前|之前)?$"), "half"),
]

MIN_YEAR, MAX_YEAR = 2000, 2100


class DeadlineError(ValueError):
    """A deadline text that is not one of the accepted forms."""

    def __init__(self, text: str, reason: str = "无法识别的完成时限"):
        self.text = text
        self.reason = reason
        super().__init__(f"{reason}：“{text}”")


def _last_day(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def parse_deadline(text: str | None) -> date | None:
    """Return the deadline date for ``text``, ``None`` for an ongoing measure.

    Raises ``DeadlineError`` for empty or unrecognised text and for impossible
    dates (month 13, 2023-02-29 …).
    """
    if text is None:
        raise DeadlineError("", "完成时限为空")
    raw = str(text)
    cleaned = re.sub(r"\s+", "", raw)
    if not cleaned:
        raise DeadlineError(raw, "完成时限为空")
    if cleaned in ONGOING_PHRASES:
        return None
    for pattern, kind in _PATTERNS:
        m = pattern.match(cleaned)
        if not m:
            continue
        year = int(m.group("y"))
        if not MIN_YEAR <= year <= MAX_YEAR:
            raise DeadlineError(raw, "年份超出范围")
        if kind == "year":
            return date(year, 12, 31)
        if kind == "half":
            return _last_day(year, _HALF[m.group("h")])
        if kind == "quarter":
            return _last_day(year, _CN_DIGITS[m.group("q")] * 3)
        month = int(m.group("m"))
        if not 1 <= month <= 12:
            raise DeadlineError(raw, "月份无效")
        if kind == "month":
            return _last_day(year, month)
        day = int(m.group("d"))
        try:
            return date(year, month, day)
        except ValueError:
            raise DeadlineError(raw, "日期无效") from None
    raise DeadlineError(raw)


def is_ongoing_text(text: str) -> bool:
    return re.sub(r"\s+", "", text or "") in ONGOING_PHRASES


# --- Extensions (SPEC 6.1): the deadline in force and how it is written ---------------

def effective_deadline_of(deadline: Optional[date], extended_deadline: Optional[date]) -> Optional[date]:
    """The one rule for the deadline in force."""
    return extended_deadline if extended_deadline is not None else deadline


EXTENDED_MARK = " → 延至 "


def deadline_label(text: str, deadline: Optional[date], extended_deadline: Optional[date]) -> str:
    """The original deadline text, with `` → 延至 YYYY-MM-DD`` when an extension moved it."""
    text = text or (deadline.isoformat() if deadline else "")
    if extended_deadline is None or extended_deadline == deadline:
        return text
    return f"{text}{EXTENDED_MARK}{extended_deadline.isoformat()}"


_EXTENDED_RE = re.compile(r"^(?P<text>.*?)\s*(?:→|->)\s*延至\s*(?P<date>\d{4}-\d{1,2}-\d{1,2})\s*$", re.S)


def split_extended(text: str) -> tuple[str, Optional[date]]:
    """``2024年6月底前 → 延至 2024-09-30`` (as the ledger export writes it) → the original text and
    the extended date; any other text comes back unchanged with None."""
    m = _EXTENDED_RE.match((text or "").strip())
    if not m:
        return text, None
    try:
        y, mo, d = (int(p) for p in m.group("date").split("-"))
        return m.group("text").strip(), date(y, mo, d)
    except ValueError:
        return text, None
