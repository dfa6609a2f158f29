"""The ledger layout: finding the header row and what each column holds, and the plan's span.

Used by ``excel_import.read_ledger``. Accepts our own export's headers (``一级任务 | 二级任务 |
具体工作举措 | 牵头单位 | 配合单位 | 完成时限``) and those bureaus usually write (``重点任务 | 具体措施 |
责任单位 | 完成时限 | 备注``, SPEC 6.6).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Optional

from ..spreadsheets.limits import MAX_COLUMNS  # one column limit for reading and checking

HEADER_SCAN_ROWS = 30


class ReadError(Exception):
    """The file cannot be read as a ledger at all (one message, no row list)."""


# Header label -> field. Parent levels are recognised by "N级任务".
HEADER_ALIASES = {
    "序号": "code",
    "编号": "code",
    "具体工作举措": "title",
    "具体举措": "title",
    "工作举措": "title",
    "具体措施": "title",
    "工作措施": "title",
    "牵头单位": "lead",
    "责任单位": "lead",
    "配合单位": "co",
    "协同单位": "co",
    "完成时限": "deadline",
    "完成时间": "deadline",
    "时间节点": "deadline",
    "时限": "deadline",
    "备注": "note",
}
# Parent columns named by what they hold rather than "N级任务": levels in column order.
NAMED_PARENT_HEADERS = ("重点任务", "主要任务", "工作任务", "任务分解")
# A single "责任单位" column (no 配合单位): the first unit listed is the lead, the rest co-operate.
RESPONSIBLE_HEADER = "责任单位"
FIELD_LABELS = {"code": "序号", "title": "具体工作举措", "lead": "牵头单位", "co": "配合单位", "deadline": "完成时限"}
CN_NUMERALS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
LEVEL_NAMES = {v: k for k, v in CN_NUMERALS.items()}
_LEVEL_HEADER = re.compile(r"^([一二三四五六七八九]|\d)级任务$")


def _norm_header(value) -> str:
    return re.sub(r"\s+", "", str(value)) if value is not None else ""


def _level_of(label: str) -> Optional[int]:
    m = _LEVEL_HEADER.match(label)
    if not m:
        return None
    token = m.group(1)
    return int(token) if token.isdigit() else CN_NUMERALS[token]


_TITLE_SPAN = re.compile(r"(\d{4})\s*年?\s*(?:—|–|－|-|~|～|至)\s*(\d{4})\s*年")


def span_from_title(title: str) -> tuple[Optional[date], Optional[date]]:
    """The years a plan covers, read from its title: "三年行动计划（2023—2025年）" -> 2023-01-01 .. 2025-12-31."""
    m = _TITLE_SPAN.search(title or "")
    if not m:
        return None, None
    first, last = int(m.group(1)), int(m.group(2))
    if not 2000 <= first <= last <= 2100:
        return None, None
    return date(first, 1, 1), date(last, 12, 31)


_SPAN_KEYWORD = re.compile(r"计划期限:(\d{4}-\d{2}-\d{2})/(\d{4}-\d{2}-\d{2})")


def span_of_workbook(wb, plan_title: str, header_row: int) -> tuple[Optional[date], Optional[date]]:
    """The plan's span: as our export records it, else from the plan title or the sheet's title rows."""
    m = _SPAN_KEYWORD.search(wb.properties.keywords or "")
    if m:
        try:
            start, end = date.fromisoformat(m.group(1)), date.fromisoformat(m.group(2))
        except ValueError:
            start = end = None
        if start and end and start <= end:
            return start, end
    span = span_from_title(plan_title)
    ws = wb.worksheets[0]
    for r in range(1, header_row):
        if span != (None, None):
            break
        span = span_from_title(" ".join(str(c.value) for c in ws[r] if isinstance(c.value, str)))
    return span


@dataclass
class Header:
    row: int
    fields: dict[str, int]
    levels: dict[int, int]
    level_labels: dict[int, str]
    responsible_only: bool  # one 责任单位 column, no 配合单位


def find_header(ws) -> Header:
    for r in range(1, min(ws.max_row, HEADER_SCAN_ROWS) + 1):
        fields: dict[str, int] = {}
        labels: dict[str, str] = {}
        levels: dict[int, int] = {}
        named: list[tuple[int, str]] = []
        for c in range(1, min(ws.max_column, MAX_COLUMNS) + 1):
            label = _norm_header(ws.cell(row=r, column=c).value)
            if not label:
                continue
            if label in HEADER_ALIASES and HEADER_ALIASES[label] not in fields:
                fields[HEADER_ALIASES[label]] = c
                labels[HEADER_ALIASES[label]] = label
            level = _level_of(label)
            if level is not None and level not in levels:
                levels[level] = c
            if label in NAMED_PARENT_HEADERS:
                named.append((c, label))
        if "title" in fields and "lead" in fields:
            level_labels = {n: f"{LEVEL_NAMES.get(n, n)}级任务" for n in levels}
            if not levels and named:
                levels = {i + 1: c for i, (c, _label) in enumerate(named)}
                level_labels = {i + 1: label for i, (_c, label) in enumerate(named)}
            responsible_only = labels["lead"] == RESPONSIBLE_HEADER and "co" not in fields
            return Header(r, fields, levels, level_labels, responsible_only)
    raise ReadError("未找到表头行：前 30 行中没有同时包含“具体工作举措”（或“具体措施”）和“牵头单位”（或“责任单位”）的行")

