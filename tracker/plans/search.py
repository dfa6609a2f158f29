"""Find a task by its title, code, units or what was reported on it (the search box in the nav)."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import ProgressUpdate, Task, TaskUnit, Unit, User

LIMIT = 100
MAX_QUERY = 100


@dataclass
class Hit:
    task: Task
    where: list[str]  # which parts matched, in words


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def search_tasks(actor: User, query: str) -> tuple[list[Hit], bool]:
    """Tasks the actor may read that match ``query``; (hits, truncated). Three statements."""
    query = (query or "").strip()[:MAX_QUERY]
    if not query:
        return [], False
    like = _like(query)
    unit_match = exists(select(TaskUnit.task_id).join(Unit, Unit.id == TaskUnit.unit_id).where(
        TaskUnit.task_id == Task.id, or_(Unit.full_name.ilike(like, escape="\\"),
                                         Unit.short_name.ilike(like, escape="\\"))))
    report_match = exists(select(ProgressUpdate.id).where(
        ProgressUpdate.task_id == Task.id, or_(ProgressUpdate.narrative.ilike(like, escape="\\"),
                                               ProgressUpdate.problems.ilike(like, escape="\\"),
                                               ProgressUpdate.next_steps.ilike(like, escape="\\"))))
    stmt = (select(Task)
            .options(selectinload(Task.unit_links).joinedload(TaskUnit.unit), selectinload(Task.plan))
            .where(or_(Task.code == query, Task.title.ilike(like, escape="\\"),
                       Task.description.ilike(like, escape="\\"), Task.latest_progress.ilike(like, escape="\\"),
                       unit_match, report_match))
            .order_by(Task.plan_id, Task.is_leaf.desc(), Task.level, Task.position, Task.id)
            .limit(LIMIT + 1))
    if not actor.can_read_all:
        if not actor.unit_id:
            return [], False
        stmt = stmt.where(Task.unit_links.any(unit_id=actor.unit_id))
    tasks = db.session.execute(stmt).scalars().unique().all()
    needle = query.lower()
    hits = []
    for task in tasks[:LIMIT]:
        where = []
        if task.code == query:
            where.append("序号")
        if needle in task.title.lower():
            where.append("任务名称")
        if needle in (task.description or "").lower():
            where.append("说明")
        if any(needle in (u.full_name + " " + u.short_name).lower() for u in task.lead_units + task.co_units):
            where.append("责任单位")
        if not where:
            where.append("报送内容")
        hits.append(Hit(task, where))
    return hits, len(tasks) > LIMIT
