"""Plug points shared with features built in parallel (SPEC 6.1 extensions, 6.6 recurring measures).

Everything the assessment needs to know about deadlines, extensions and the unit of assessment
goes through these functions, so switching to other data is a change here only:

- ``original_deadline(task)``: the plan's deadline (never overwritten by an extension).
- ``effective_deadline(task)``: the deadline in force (after approved extensions).
- ``extensions_for(task_ids, start, end)``: extension requests made and granted per measure in a
  date range (``deadline_extensions``).
- ``assessable_items(task)``: what is assessed for one measure. Today one item per measure; a
  recurring measure (SPEC 6.6) will yield one item per period, each with its own deadline.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Iterable, Optional

from sqlalchemy import and_, case, func, select

from ..extensions import db
from ..models import DeadlineExtension
from ..rules.deadlines import effective_deadline_of


def original_deadline(task) -> Optional[date]:
    """The plan's deadline: ``Task.deadline`` is never overwritten by an extension (SPEC 6.1)."""
    return task.deadline


def effective_deadline(task) -> Optional[date]:
    """The deadline in force: an approved extension's date, else the plan's."""
    return effective_deadline_of(task.deadline, getattr(task, "extended_deadline", None))


@dataclass(frozen=True)
class ExtensionCounts:
    requested: int = 0
    granted: int = 0


def extensions_for(task_ids: Iterable[int], start: date, end: date) -> dict[int, ExtensionCounts]:
    """Extension requests per measure made (requested, by request date) and approved (granted, by
    decision date) in [start, end]; a supervisor's direct change is neither. One statement."""
    ids = list(task_ids)
    if not ids:
        return {}
    in_range = lambda column: and_(column >= start, column <= end)  # noqa: E731
    rows = db.session.execute(
        select(DeadlineExtension.task_id,
               func.sum(case((in_range(DeadlineExtension.request_date), 1), else_=0)),
               func.sum(case((and_(DeadlineExtension.state == "approved",
                                   in_range(DeadlineExtension.decision_date)), 1), else_=0)))
        .where(DeadlineExtension.task_id.in_(ids), DeadlineExtension.direct.is_(False))
        .group_by(DeadlineExtension.task_id))
    return {task_id: ExtensionCounts(int(asked or 0), int(granted or 0))
            for task_id, asked, granted in rows if asked or granted}


@dataclass(frozen=True)
class Item:
    """One thing a unit must finish: a measure (or, later, one period of a recurring measure)."""

    task_id: int
    label: str  # "" for a whole measure, the period label for a recurring one
    original_deadline: Optional[date]
    effective_deadline: Optional[date]


def assessable_items(task) -> list[Item]:
    return [Item(task.id, "", original_deadline(task), effective_deadline(task))]
