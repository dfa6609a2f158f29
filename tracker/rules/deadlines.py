"""Strict parser for Chinese deadline texts (SPEC 2.1 and 6.6).

``parse_deadline("2024年6月底前")`` -> ``date(2024, 6, 30)``; ongoing phrases give
``None``; anything else raises ``DeadlineError`` naming the text. No guessing.

``read_deadline(text)`` gives the whole reading (``DeadlineReading``): the date,
the start of an ongoing measure (``2024年起长期坚持``), the milestones of a staged
one (``…前启动，…前完成``) and the recurrence of a recurring one (``每年12月底前``).
"""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from typing import Optional

ONGOING_PHRASES = frozenset({
    "长期坚持", "持续推进", "长期", "持续开展", "长期推进", "常态化推进", "常态化开展", "常态化", "长期开展",
})
# Verbs that may follow "…前" (2024年9月底前完成); staged parts may also start something.
FINISH_VERBS = ("完成", "办结", "到位")
STAGE_VERBS = FINISH_VERBS + ("启动", "部署", "推开", "建成")

_CN_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4}
_HALF = {"上半年": 6, "下半年": 12}
_BEFORE = r"(?:前|之前)?"

_Y = r"(?P<y>\d{4})年"
_POINTS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})" + _BEFORE + "$"), "day"),
    (re.compile(r"^(?P<y>\d{4})/(?P<m>\d{1,2})/(?P<d>\d{1,2})" + _BEFORE + "$"), "day"),
    (re.compile(r"^(?P<y>\d{4})\.(?P<m>\d{1,2})\.(?P<d>\d{1,2})" + _BEFORE + "$"), "day"),
    (re.compile(r"^(?P<y>\d{4})[./](?P<m>\d{1,2})" + _BEFORE + "$"), "month"),
    (re.compile(_Y + r"(?P<m>\d{1,2})月(?P<d>\d{1,2})日" + _BEFORE + "$"), "day"),
    (re.compile(_Y + r"(?P<m>\d{1,2})月(?:底|末)?" + _BEFORE + "$"), "month"),
    (re.compile(_Y + r"(?:年)?(?:底|末)?" + _BEFORE + "$"), "year"),
    (re.compile(_Y + r"第?(?P<q>[一二三四1-4])季度(?:末|底)?" + _BEFORE + "$"), "quarter"),
    (re.compile(_Y + r"(?P<h>上半年|下半年)" + _BEFORE + "$"), "half"),
]
_RANGE = re.compile(r"^(?P<a>.+?)(?:—|–|－|-|~|～|至|到)(?P<b>\d{4}.*)$")
_SINCE = re.compile(r"^(?P<a>.+?)起(?P<rest>.*)$")
_STAGE_SPLIT = re.compile(r"[，,；;]")
_RECURRING: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^每年(?:(?P<m>\d{1,2})月(?:(?P<d>\d{1,2})日|底|末)?|年?底|年?末)?" + _BEFORE + "$"), "year"),
    (re.compile(r"^每半年(?:末|底)?" + _BEFORE + "$"), "half"),
    (re.compile(r"^每季度(?:末|底)?" + _BEFORE + "$"), "quarter"),
    (re.compile(r"^每月(?:(?P<d>\d{1,2})日|底|末)?" + _BEFORE + "$"), "month"),
]

MIN_YEAR, MAX_YEAR = 2000, 2100


class DeadlineError(ValueError):
    """A deadline text that is not one of the accepted forms."""

    def __init__(self, text: str, reason: str = "无法识别的完成时限"):
        self.text = text
        self.reason = reason
        super().__init__(f"{reason}：“{text}”")


@dataclass(frozen=True)
class Recurrence:
    """``every`` year/half/quarter/month; ``due`` "MM-DD" (month within the period,
    day; the last day of a month means the month's end) or "DD" for a month."""

    every: str
    due: str

    def as_json(self) -> dict:
        return {"every": self.every, "due": self.due}


@dataclass(frozen=True)
class DeadlineReading:
    text: str
    deadline: Optional[date] = None
    start: Optional[date] = None
    milestones: tuple[tuple[str, date], ...] = ()
    recurrence: Optional[Recurrence] = None

    @property
    def ongoing(self) -> bool:
        return self.deadline is None and self.recurrence is None


def _last_day(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _point(text: str, raw: str) -> Optional[tuple[date, date]]:
    """(first day, last day) of a single date form, None when no form matches."""
    for pattern, kind in _POINTS:
        m = pattern.match(text)
        if not m:
            continue
        year = int(m.group("y"))
        if not MIN_YEAR <= year <= MAX_YEAR:
            raise DeadlineError(raw, "年份超出范围")
        if kind == "year":
            return date(year, 1, 1), date(year, 12, 31)
        if kind == "half":
            end = _HALF[m.group("h")]
            return date(year, end - 5, 1), _last_day(year, end)
        if kind == "quarter":
            end = _CN_DIGITS[m.group("q")] * 3
            return date(year, end - 2, 1), _last_day(year, end)
        month = int(m.group("m"))
        if not 1 <= month <= 12:
            raise DeadlineError(raw, "月份无效")
        if kind == "month":
            return date(year, month, 1), _last_day(year, month)
        try:
            day = date(year, month, int(m.group("d")))
        except ValueError:
            raise DeadlineError(raw, "日期无效") from None
        return day, day
    return None


def _strip_verb(text: str, verbs: tuple[str, ...]) -> str:
    """"2024年9月底前完成" -> "2024年9月底前"; a verb only counts after 前."""
    for verb in verbs:
        if text.endswith("前" + verb):
            return text[: -len(verb)]
    return text


def _recurring(text: str, raw: str) -> Optional[Recurrence]:
    text = _strip_verb(text, FINISH_VERBS)
    for pattern, every in _RECURRING:
        m = pattern.match(text)
        if not m:
            continue
        groups = m.groupdict()
        if every == "month":
            day = int(groups["d"]) if groups.get("d") else 31
            if not 1 <= day <= 31:
                raise DeadlineError(raw, "日期无效")
            return Recurrence("month", f"{day:02d}")
        if every == "year":
            month = int(groups["m"]) if groups.get("m") else 12
            if not 1 <= month <= 12:
                raise DeadlineError(raw, "月份无效")
            last = calendar.monthrange(2023, month)[1]
            day = int(groups["d"]) if groups.get("d") else last
            if not 1 <= day <= last + (1 if month == 2 else 0):
                raise DeadlineError(raw, "日期无效")
            return Recurrence("year", f"{month:02d}-{day:02d}")
        return Recurrence(every, "06-30" if every == "half" else "03-31")
    return None


def _staged(text: str, raw: str) -> Optional[DeadlineReading]:
    parts = [p for p in _STAGE_SPLIT.split(text)]
    if len(parts) < 2:
        return None
    milestones: list[tuple[str, date]] = []
    for part in parts:
        bare = _strip_verb(part, STAGE_VERBS)
        if bare == part or not part:
            raise DeadlineError(raw, "分阶段时限的每一段应为“某时间前+动作”")
        span = _point(bare, raw)
        if span is None:
            raise DeadlineError(raw)
        if milestones and span[1] < milestones[-1][1]:
            raise DeadlineError(raw, "分阶段时限的顺序颠倒")
        milestones.append((part, span[1]))
    return DeadlineReading(raw, deadline=milestones[-1][1], milestones=tuple(milestones))


def _range(text: str, raw: str) -> Optional[DeadlineReading]:
    m = _RANGE.match(text)
    if not m:
        return None
    left, right = m.group("a"), m.group("b")
    if re.fullmatch(r"\d{4}", left) and right.endswith("年"):
        left += "年"  # 2024-2025年
    a, b = _point(left, raw), _point(right, raw)
    if a is None or b is None:
        return None
    if b[1] <= a[0]:
        raise DeadlineError(raw, "时间范围的终点早于起点")
    return DeadlineReading(raw, deadline=b[1], start=a[0])


def _since(text: str, raw: str) -> Optional[DeadlineReading]:
    m = _SINCE.match(text)
    if not m or (m.group("rest") and m.group("rest") not in ONGOING_PHRASES):
        return None
    span = _point(m.group("a"), raw)
    if span is None:
        return None
    return DeadlineReading(raw, start=span[0])


def read_deadline(text: str | None) -> DeadlineReading:
    """The full reading of a deadline text; ``DeadlineError`` for anything else."""
    if text is None:
        raise DeadlineError("", "完成时限为空")
    raw = str(text)
    cleaned = re.sub(r"\s+", "", raw)
    if not cleaned:
        raise DeadlineError(raw, "完成时限为空")
    if cleaned in ONGOING_PHRASES:
        return DeadlineReading(raw)
    recurrence = _recurring(cleaned, raw)
    if recurrence is not None:
        return DeadlineReading(raw, recurrence=recurrence)
    span = _point(_strip_verb(cleaned, FINISH_VERBS), raw)
    if span is not None:
        return DeadlineReading(raw, deadline=span[1])
    for reader in (_staged, _range, _since):
        reading = reader(cleaned, raw)
        if reading is not None:
            return reading
    raise DeadlineError(raw)


def parse_deadline(text: str | None) -> date | None:
    """Return the deadline date for ``text``, ``None`` for an ongoing or recurring measure.

    Raises ``DeadlineError`` for empty or unrecognised text and for impossible
    dates (month 13, 2023-02-29 …).
    """
    return read_deadline(text).deadline


def is_ongoing_text(text: str) -> bool:
    try:
        return read_deadline(text).ongoing
    except DeadlineError:
        return False


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
