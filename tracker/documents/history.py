"""The journal of a plan's measures, read once, and its replay to any day.

Every figure of the assessment, the bulletin and the annual report comes from this journal:
progress reports (``progress_updates``: report date, status, period) and the bureau's decisions
(``reviews``: approve / return / reopen, dated by ``decided_on``). Nothing reads a task's current
status, so a past period gives the same figures whenever it is computed. A measure whose state was
imported without a journal (done or claimed with a date but no entries) gets one baseline entry
from those dates, which never change afterwards.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Iterable, Optional
from zoneinfo import ZoneInfo

from sqlalchemy import select

from ..extensions import db
from ..models import ProgressUpdate, Review, Task
from ..rules.status import APPROVE, DONE, IN_PROGRESS, NOT_STARTED, PENDING_REVIEW, REOPEN, RETURN

UPDATE = "update"  # a progress report; the other kinds are the review decisions


@dataclass(frozen=True)
class Entry:
    day: date
    at: datetime  # tie-breaker within a day (the row's creation time)
    kind: str  # update | approve | return | reopen
    status: str = ""  # for updates: the reported status
    period: str = ""  # for updates: the report period (YYYY-MM)


@dataclass
class State:
    status: str = NOT_STARTED
    claimed_on: Optional[date] = None
    completed_on: Optional[date] = None
    completion_claim: Optional[date] = None  # the claim date the approval accepted


@dataclass
class Journal:
    entries: dict[int, list[Entry]] = field(default_factory=dict)

    def of(self, task_id: int) -> list[Entry]:
        return self.entries.get(task_id, [])


def local_day(value: datetime, tz: str) -> date:
    return value.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(tz)).date()


def load_journal(plan_id: int, tasks: Iterable, tz: str) -> Journal:
    """Reports and decisions of every measure of a plan: two statements whatever its size."""
    entries: dict[int, list[Entry]] = {}
    updates = db.session.execute(
        select(ProgressUpdate.task_id, ProgressUpdate.report_date, ProgressUpdate.created_at,
               ProgressUpdate.status, ProgressUpdate.period)
        .join(Task, Task.id == ProgressUpdate.task_id).where(Task.plan_id == plan_id))
    for task_id, day, at, status, period in updates:
        entries.setdefault(task_id, []).append(Entry(day, at, UPDATE, status, period))
    reviews = db.session.execute(
        select(Review.task_id, Review.decided_on, Review.created_at, Review.decision)
        .join(Task, Task.id == Review.task_id).where(Task.plan_id == plan_id))
    for task_id, decided_on, at, decision in reviews:
        if decision in (APPROVE, RETURN, REOPEN):
            day = decided_on or local_day(at, tz)
            entries.setdefault(task_id, []).append(Entry(day, at, decision))
    for task in tasks:
        if task.is_leaf:
            _add_baseline(task, entries.setdefault(task.id, []))
    for items in entries.values():
        items.sort(key=lambda e: (e.day, e.at, e.kind != UPDATE))
    return Journal(entries)


def _add_baseline(task, items: list[Entry]) -> None:
    """Imported state without a journal: one entry from the task's own (fixed) dates."""
    if task.status == DONE and not any(e.kind == APPROVE for e in items):
        day = task.completed_on or task.claimed_on or date.min
        items.append(Entry(day, datetime.min, APPROVE))
    if task.status in (PENDING_REVIEW, DONE) and task.claimed_on and not any(
            e.kind == UPDATE and e.status == PENDING_REVIEW for e in items):
        items.append(Entry(task.claimed_on, datetime.min, UPDATE, PENDING_REVIEW, ""))


def apply(state: State, entry: Entry) -> None:
    if entry.kind == UPDATE:
        state.status = entry.status
        if entry.status == PENDING_REVIEW:
            state.claimed_on = entry.day
    elif entry.kind == APPROVE:
        state.status = DONE
        state.completed_on = entry.day
        state.completion_claim = state.claimed_on or entry.day
    elif entry.kind == RETURN:
        state.status = IN_PROGRESS
        state.claimed_on = None
    elif entry.kind == REOPEN:
        state.status = IN_PROGRESS
        state.claimed_on = state.completed_on = state.completion_claim = None


def states_at(entries: list[Entry], days: list[date]) -> list[State]:
    """The state at the end of each of ``days`` (sorted ascending), in one pass."""
    result, state, i = [], State(), 0
    for day in days:
        while i < len(entries) and entries[i].day <= day:
            apply(state, entries[i])
            i += 1
        result.append(State(state.status, state.claimed_on, state.completed_on, state.completion_claim))
    return result
