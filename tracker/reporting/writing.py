"""What every writer on a measure shares: input checks, the version guard and the conflict answer.

Progress reports (``progress``), reviews (``review``) and deadline changes (``extensions``) take a
form or a JSON body, check its texts under the one text rule (``tracker/validation.py``), carry the
task version the user saw, and save with a guarded ``UPDATE … WHERE version = …`` (optimistic
locking, SPEC 2). A stale page or a lost race is a ``Conflict`` that names who changed the measure
and what it looks like now; the session is rolled back first, so nothing of the write remains.
"""
from __future__ import annotations

from typing import Any, Mapping, Optional

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from ..clock import local_time
from ..errors import Conflict, Invalid
from ..extensions import db
from ..models import ProgressUpdate, Review, Task, utcnow
from ..rules.status import status_label
from ..validation import check_text as _check_text
from ..validation import collect, parse_int

MAX_TEXT_BYTES = 64 * 1024


# --- Input ---------------------------------------------------------------------------------

def require_mapping(data: Any) -> None:
    """A form or a JSON object; Invalid for a JSON array, string or number."""
    if not isinstance(data, Mapping):
        raise Invalid({"_": ["请求体应为 JSON 对象"]})


def check_text(value: Any, label: str, errors: dict, key: str, *, required: bool = False) -> str:
    """A text field of a report or decision under the one text rule, at most 64 KB."""
    return _check_text(value, field=key, label=label, errors=errors, required=required, max_bytes=MAX_TEXT_BYTES)


def check_choice(value: Any, choices, message: str, errors: dict, key: str) -> str:
    """``value`` stripped when it is one of ``choices``; else "" and ``message`` as the field's error."""
    if not isinstance(value, str) or value.strip() not in choices:
        errors[key] = [message]
        return ""
    return value.strip()


def parse_version(data: Mapping[str, Any], errors: dict, *, required: bool = False) -> Optional[int]:
    """The task version the client saw (``version``); errors collected. None when absent and optional."""
    version = collect(errors, parse_int, data.get("version"), field="version", label="版本号", low=1)
    if version is None and required and "version" not in errors:
        errors["version"] = ["缺少版本号（version），请刷新页面后重试"]
    return version


# --- Optimistic locking --------------------------------------------------------------------

def check_version(task: Task, version: Optional[int]) -> int:
    """The version a write is based on (the task's own when the client sent none); Conflict when stale."""
    based_on = version if version is not None else task.version
    if task.version != based_on:
        raise conflict_for(task, based_on)
    return based_on


def bump_version(task: Task, based_on: int) -> None:
    """Guarded version increment: an UPDATE … WHERE version = based_on. Conflict when lost."""
    result = db.session.execute(
        update(Task).where(Task.id == task.id, Task.version == based_on)
        .values(version=based_on + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise conflict_for(task, based_on)
    task.version = based_on + 1
    db.session.flush()


# --- The conflict answer -------------------------------------------------------------------

def last_change(task: Task) -> str:
    """``who at when`` of the latest report or review on a task (for conflict messages)."""
    upd = db.session.execute(
        select(ProgressUpdate).options(selectinload(ProgressUpdate.user))
        .where(ProgressUpdate.task_id == task.id).order_by(ProgressUpdate.id.desc()).limit(1)
    ).scalar_one_or_none()
    rev = db.session.execute(
        select(Review).options(selectinload(Review.reviewer))
        .where(Review.task_id == task.id).order_by(Review.id.desc()).limit(1)
    ).scalar_one_or_none()
    candidates = []
    if upd is not None:
        candidates.append((upd.created_at, upd.user, "报送进展"))
    if rev is not None:
        candidates.append((rev.created_at, rev.reviewer, "审核"))
    if not candidates:
        return ""
    when, who, what = max(candidates, key=lambda c: c[0])
    name = (who.display_name or who.username) if who is not None else "系统"
    return f"{name} 于 {local_time(when, current_app.config['TIMEZONE'])} {what}"


def conflict_for(task: Task, based_on: int) -> Conflict:
    """Roll the write back and describe the measure as it is now (the page shows it beside the form)."""
    db.session.rollback()
    fresh = db.session.get(Task, task.id, populate_existing=True)
    who = last_change(fresh)
    label = status_label(fresh.status, fresh.is_ongoing)
    message = (f"提交未保存：该举措在您打开页面后已被修改（{who or '他人修改'}），"
               f"当前状态为“{label}”、进度 {fresh.progress}%。请查看下方最新记录；"
               f"您填写的内容已保留，确认后再次提交即可。")
    return Conflict(message, current=fresh, changes={
        "version": fresh.version, "your_version": based_on, "status": fresh.status,
        "progress": fresh.progress, "last_change": who,
    })
