"""Plug points shared with features built in parallel (SPEC 6.1 extensions, 6.6 recurring measures).

Everything the assessment needs to know about deadlines, extensions and the unit of assessment
goes through these three functions, so switching to the real data is a change here only:

- ``original_deadline(task)``: the plan's deadline (never overwritten by an extension).
- ``effective_deadline(task)``: the deadline in force (after approved extensions). Until
  extensions exist it is the plan's deadline.
- ``extensions_for(task_ids, start, end)``: extension requests made and granted per measure in a
  date range. Until extensions exist: none.
- ``assessable_items(task)``: what is assessed for one measure. Today one item per measure; a
  recurring measure (SPEC 6.6) will yield one item per period, each with its own deadline.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Iterable, Optional


def original_deadline(task) -> Optional[date]:
    return task.deadline


def effective_deadline(task) -> Optional[date]:
    return task.deadline


@dataclass(frozen=True)
class ExtensionCounts:
    requested: int = 0
    granted: int = 0


def extensions_for(task_ids: Iterable[int], start: date, end: date) -> dict[int, ExtensionCounts]:
    """Extension requests per measure made (requested) and approved (granted) in [start, end].

    No statement is run until extensions exist (SPEC 6.1); then this becomes one query.
    """
    return {}


@dataclass(frozen=True)
class Item:
    """One thing a unit must finish: a measure (or, later, one period of a recurring measure)."""

    task_id: int
    label: str  # "" for a whole measure, the period label for a recurring one
    original_deadline: Optional[date]
    effective_deadline: Optional[date]


def assessable_items(task) -> list[Item]:
    return [Item(task.id, "", original_deadline(task), effective_deadline(task))]
