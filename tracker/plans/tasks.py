"""Reading the plan tree: visibility, filters, computed lights and the API shape.

Every reader loads a plan's tasks with a fixed number of queries (tasks, their
unit links with units) and computes lights and roll-ups in Python, so pages cost
the same number of SQL statements whatever the plan's size.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cached_property
from types import MappingProxyType
from typing import Iterable, Mapping, NamedTuple, Optional

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import joinedload

from ..errors import Forbidden, Invalid, NotFound
from ..extensions import db
from ..models import CO, LEAD, Plan, Task, TaskPeriod, TaskReading, TaskUnit, Unit, User
from ..rules.lights import LIGHT_LABELS, LIGHTS, LightRules, NodeState, evaluate_tree
from ..rules.periods import period_light
from ..rules.status import DONE, IN_PROGRESS, NOT_STARTED, STATUSES, status_label
from ..validation import parse_int


def task_query():
    """Tasks with their units joined in (one statement however many rows; call ``.unique()``)."""
    return select(Task).options(joinedload(Task.unit_links).joinedload(TaskUnit.unit))


# --- Read-only rows for whole-plan readers ---------------------------------------
# The ledger, dashboard, export, API and my-tasks read a whole plan. Loading ~14,000
# ORM objects (tasks and unit links) costs about a second for a 10,000-measure
# plan; plain rows with the same attribute names cost a tenth of that. Three
# statements in all (tasks, links, units), whatever the plan's size.

_TASK_FIELDS = ("id", "plan_id", "parent_id", "level", "position", "code", "title", "description", "deadline",
                "deadline_text", "is_leaf", "status", "progress", "latest_progress", "last_reported_at",
                "last_report_period", "claimed_on", "completed_on", "completed_by_id", "return_comment",
                "overdue_since", "extended_deadline", "extension_state", "version", "updated_at",
                "recurrence_every", "recurrence_due", "current_period")
_PERIOD_FIELDS = ("task_id", "label", "position", "start", "deadline", "status", "progress", "claimed_on",
                  "completed_on")


@dataclass(frozen=True)
class UnitInfo:
    """A unit as plain data (safe to keep across requests in the read cache)."""

    id: int
    full_name: str
    short_name: str
    kind: str
    emails: str
    active: bool

    @property
    def name(self) -> str:
        return self.short_name or self.full_name

    @property
    def email_list(self) -> list[str]:
        return [e.strip() for e in (self.emails or "").split(";") if e.strip()]


class UnitLinkRow(NamedTuple):
    task_id: int
    unit_id: int
    role: str
    position: int
    unit: UnitInfo


class TaskRow(TaskReading):
    """A task as read-only plain data, duck-typed like ``models.Task`` for reading.

    Sealed once loaded (``seal``): it is shared by every reader of the read cache, so
    setting an attribute raises instead of changing what the next reader sees.
    """

    __slots__ = _TASK_FIELDS + ("unit_links", "periods", "_sealed")

    def __init__(self, values):
        for name, value in zip(_TASK_FIELDS, values):
            object.__setattr__(self, name, value)
        object.__setattr__(self, "unit_links", [])
        object.__setattr__(self, "periods", [])
        object.__setattr__(self, "_sealed", False)

    def seal(self) -> "TaskRow":
        object.__setattr__(self, "unit_links", tuple(self.unit_links))
        object.__setattr__(self, "periods", tuple(self.periods))
        object.__setattr__(self, "_sealed", True)
        return self

    def __setattr__(self, name, value):
        if self._sealed:
            raise AttributeError(f"TaskRow is read-only (shared by the read cache): {name}")
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        raise AttributeError(f"TaskRow is read-only (shared by the read cache): {name}")


class PeriodRow:
    """One period of a recurring measure as read-only plain data (like ``models.TaskPeriod``)."""

    __slots__ = _PERIOD_FIELDS
    _sealed = True  # read-only from birth (the read cache's immutability check looks for this)

    def __init__(self, values):
        for name, value in zip(_PERIOD_FIELDS, values):
            object.__setattr__(self, name, value)

    def __setattr__(self, name, value):
        raise AttributeError(f"PeriodRow is read-only (shared by the read cache): {name}")

    def __delattr__(self, name):
        raise AttributeError(f"PeriodRow is read-only (shared by the read cache): {name}")


def subtree_ids(root_id: int):
    """A SELECT of the ids of ``root_id`` and all its descendants (recursive CTE)."""
    sub = select(Task.id).where(Task.id == root_id).cte("subtree", recursive=True)
    sub = sub.union_all(select(Task.id).join(sub, Task.parent_id == sub.c.id))
    return select(sub.c.id)


def load_plan_rows(plan_id: int, root_id: Optional[int] = None) -> list[TaskRow]:
    """A plan's tasks (or one first-level task's subtree) with units, sealed: three statements."""
    columns = [getattr(Task, name) for name in _TASK_FIELDS]
    where = Task.plan_id == plan_id
    if root_id is not None:
        where = and_(where, Task.id.in_(subtree_ids(root_id)))
    rows = [TaskRow(values) for values in db.session.execute(select(*columns).where(where))]
    by_id = {row.id: row for row in rows}
    units = {row[0]: UnitInfo(*row) for row in db.session.execute(
        select(Unit.id, Unit.full_name, Unit.short_name, Unit.kind, Unit.emails, Unit.active))}
    links = db.session.execute(
        select(TaskUnit.task_id, TaskUnit.unit_id, TaskUnit.role, TaskUnit.position)
        .join(Task, Task.id == TaskUnit.task_id)
        .where(where)
        .order_by(TaskUnit.task_id, TaskUnit.position)
    )
    for task_id, unit_id, role, position in links:
        by_id[task_id].unit_links.append(UnitLinkRow(task_id, unit_id, role, position, units[unit_id]))
    if any(row.recurrence_every for row in rows):
        periods = db.session.execute(
            select(*[getattr(TaskPeriod, name) for name in _PERIOD_FIELDS])
            .join(Task, Task.id == TaskPeriod.task_id).where(where)
            .order_by(TaskPeriod.task_id, TaskPeriod.position))
        for values in periods:
            by_id[values[0]].periods.append(PeriodRow(values))
    return [row.seal() for row in rows]


def list_plans() -> list[Plan]:
    return list(db.session.execute(select(Plan).order_by(Plan.id)).scalars())


def plan_roots(plan_id: int) -> list:
    """First-level tasks of a plan (id, code, title), in order: one statement."""
    return list(db.session.execute(
        select(Task.id, Task.code, Task.title).where(Task.plan_id == plan_id, Task.parent_id.is_(None))
        .order_by(Task.position, Task.id)))


def get_plan(plan_id: Optional[int]) -> Plan:
    """The plan asked for, or the first one; NotFound when there is none."""
    if plan_id is None:
        plan = db.session.execute(select(Plan).order_by(Plan.id).limit(1)).scalar_one_or_none()
    else:
        plan = db.session.get(Plan, plan_id)
    if plan is None:
        raise NotFound("未找到该计划" if plan_id is not None else "尚未导入任何计划")
    return plan


def find_unit(name_or_id: str | int) -> Unit:
    """A unit by id, full name or short name."""
    from ..validation import INT32_MAX

    text = str(name_or_id).strip()
    unit = None
    if text.isascii() and text.isdigit():
        unit = db.session.get(Unit, int(text)) if len(text) <= 10 and int(text) <= INT32_MAX else None
    if unit is None:
        unit = db.session.execute(
            select(Unit).where(or_(Unit.full_name == text, Unit.short_name == text))
        ).scalar_one_or_none()
    if unit is None:
        raise NotFound(f"未找到单位：{text}")
    return unit


def leads_measure(task, unit_id: int) -> bool:
    """The one definition of "a measure the unit leads" (牵头举措): a leaf where it is a lead unit.

    The units page (``measure_counts_by_unit``) and the dashboard's ranking both count this.
    """
    return task.is_leaf and any(link.unit_id == unit_id and link.role == LEAD for link in task.unit_links)


def measure_counts_by_unit() -> dict[tuple[int, str], int]:
    """(unit id, ``lead`` | ``co``) → number of measures (leaves); a unit that leads a measure
    is not counted again as co-operating on it. One statement."""
    rows = db.session.execute(
        select(TaskUnit.unit_id, TaskUnit.task_id, TaskUnit.role)
        .join(Task, Task.id == TaskUnit.task_id).where(Task.is_leaf.is_(True))
    ).all()
    roles: dict[tuple[int, int], str] = {}
    for unit_id, task_id, role in rows:
        if roles.get((unit_id, task_id)) != LEAD:
            roles[(unit_id, task_id)] = role
    counts: dict[tuple[int, str], int] = {}
    for (unit_id, _task_id), role in roles.items():
        counts[(unit_id, role)] = counts.get((unit_id, role), 0) + 1
    return counts


def unit_task_ids(tasks: Iterable[Task], unit_id: int) -> set[int]:
    """Ids of tasks a unit leads or co-operates on."""
    return {t.id for t in tasks if any(link.unit_id == unit_id for link in t.unit_links)}


def with_ancestors(tasks_by_id: dict[int, Task], ids: set[int]) -> set[int]:
    result = set(ids)
    for task_id in ids:
        parent_id = tasks_by_id[task_id].parent_id
        while parent_id is not None and parent_id not in result:
            result.add(parent_id)
            parent_id = tasks_by_id[parent_id].parent_id if parent_id in tasks_by_id else None
    return result


@dataclass
class PlanView:
    """A plan's tree as one reader may see it on ``today``."""

    plan: Plan
    today: date
    tasks: tuple  # all tasks of the plan, in tree order (read-only rows when from the read cache)
    states: Mapping[int, NodeState]
    visible: frozenset[int]  # ids the reader may see
    own: frozenset[int] = frozenset()  # ids the reader's unit is responsible for (unit users)
    # Identifies (data revision, plan, day, rules, visibility) for read caches; None: don't cache.
    cache_key: Optional[tuple] = None

    @cached_property
    def by_id(self) -> dict[int, Task]:
        return {t.id: t for t in self.tasks}

    def children_of(self) -> dict[Optional[int], list[Task]]:
        result: dict[Optional[int], list[Task]] = {}
        for t in self.tasks:
            result.setdefault(t.parent_id, []).append(t)
        return result

    def visible_tasks(self) -> list[Task]:
        return [t for t in self.tasks if t.id in self.visible]


def tree_order(tasks: list[Task]) -> list[Task]:
    """Depth-first order by position, the order of the printed ledger."""
    children: dict[Optional[int], list[Task]] = {}
    for t in tasks:
        children.setdefault(t.parent_id, []).append(t)
    for kids in children.values():
        kids.sort(key=lambda t: (t.position, t.id))
    ordered: list[Task] = []
    stack = list(reversed(children.get(None, [])))
    while stack:
        node = stack.pop()
        ordered.append(node)
        stack.extend(reversed(children.get(node.id, [])))
    return ordered


def visibility_key(actor: User):
    """What a reader may see depends only on this: everything, or one unit's tasks."""
    return "all" if actor.can_read_all else ("unit", actor.unit_id)


def load_plan_view(plan: Plan, actor: User, today: date, rules: LightRules,
                   root_id: Optional[int] = None) -> PlanView:
    """The plan as ``actor`` sees it on ``today``: three statements on a miss, one on a cache hit.

    The computed tree is kept per process for the current data revision
    (``cache/readcache.py``), so a busy ledger does not rebuild it per request.
    With ``root_id`` (a first-level task) a reader who sees everything gets only that
    subtree, which is all a ledger filtered to it needs (its roll-ups are complete).
    """
    from ..cache.readcache import cached, revision_key

    if not actor.can_read_all:
        root_id = None  # a unit's visibility is computed over the whole plan
    rev = revision_key()
    key = None if rev is None else ("plan_view", rev, plan.id, today, rules, visibility_key(actor), root_id)

    def build():
        view = view_from_tasks(plan, actor, today, rules, load_plan_rows(plan.id, root_id))
        return view.tasks, view.states, view.visible, view.own

    tasks, states, visible, own = cached(key, build)
    return PlanView(plan=plan, today=today, tasks=tasks, states=states, visible=visible, own=own, cache_key=key)


def view_from_tasks(plan: Plan, actor: User, today: date, rules: LightRules, tasks: list) -> PlanView:
    """A PlanView over already loaded tasks (ORM objects or read-only rows with the same attributes)."""
    tasks = tree_order(tasks)
    if actor.can_read_all:
        states = evaluate_tree(tasks, today, rules)
        visible = {t.id for t in tasks}
        own: set[int] = set()
    else:
        own = unit_task_ids(tasks, actor.unit_id) if actor.unit_id else set()
        visible = with_ancestors({t.id: t for t in tasks}, own)
        # A unit's parent roll-ups count only its own measures, never other units' lights.
        states = evaluate_tree([t for t in tasks if t.id in visible], today, rules)
    return PlanView(plan=plan, today=today, tasks=tuple(tasks), states=MappingProxyType(states),
                    visible=frozenset(visible), own=frozenset(own))


def derived_status(task: Task, state: NodeState, view: PlanView | None = None) -> str:
    if task.is_leaf:
        return task.status
    if state.done:
        return DONE
    if state.percent <= 0 and not state.counts.get("done"):
        return NOT_STARTED
    return IN_PROGRESS


def periods_json(task, today: date, rules: LightRules = LightRules()) -> list[dict]:
    """SPEC 6.6 ``periods``: [{label, deadline, status, light}] of a recurring measure."""
    return [{"label": p.label, "deadline": p.deadline.isoformat(),
             "status": p.status, "light": period_light(p, today, rules)}
            for p in (task.periods if getattr(task, "recurrence_every", "") else [])]


def task_dict(task: Task, state: NodeState, today: Optional[date] = None, rules: LightRules = LightRules()) -> dict:
    """The API shape of SPEC 3 (and 6.6: recurrence, periods, current_period)."""
    recurring = bool(getattr(task, "recurrence_every", ""))
    return {
        "id": task.id,
        "plan_id": task.plan_id,
        "parent_id": task.parent_id,
        "level": task.level,
        "code": task.code,
        "title": task.title,
        "lead_units": [u.name for u in task.lead_units],
        "co_units": [u.name for u in task.co_units],
        "deadline": task.effective_deadline.isoformat() if task.effective_deadline else None,
        "original_deadline": task.deadline.isoformat() if task.deadline else None,
        "deadline_text": task.deadline_text,
        "extension_state": task.extension_state,
        "status": derived_status(task, state),
        "progress": int(round(state.percent)),
        "light": state.light,
        "overdue_days": state.overdue_days,
        "version": task.version,
        "recurrence": {"every": task.recurrence_every, "due": task.recurrence_due} if recurring else None,
        "periods": periods_json(task, today, rules) if recurring and today is not None else [],
        "current_period": task.current_period if recurring else None,
    }


@dataclass
class TaskFilter:
    level: Optional[int] = None
    unit_id: Optional[int] = None
    status: Optional[str] = None
    light: Optional[str] = None
    root_id: Optional[int] = None  # first-level task
    keyword: str = ""
    extended: bool = False  # only measures whose deadline was extended (已延期)


def parse_filter(args, *, labels_ok: bool = True) -> TaskFilter:
    """Validate filter arguments (a mapping of strings); raises Invalid with field errors."""
    errors: dict[str, list[str]] = {}
    f = TaskFilter()
    for field, label, attr, high in (("level", "层级 level", "level", None), ("task", "一级任务编号 task", "root_id", None)):
        try:
            value = parse_int(args.get(field) or (args.get("root") if field == "task" else None),
                              field=field, label=label, low=1, high=high)
        except Invalid as exc:
            errors.update(exc.errors)
        else:
            setattr(f, attr, value)
    unit = (args.get("unit") or "").strip()
    if unit:
        try:
            f.unit_id = find_unit(unit).id
        except NotFound as exc:
            errors["unit"] = [exc.message]
    status = (args.get("status") or "").strip()
    if status:
        from ..rules.status import LABEL_TO_STATUS

        status = LABEL_TO_STATUS.get(status, status) if labels_ok else status
        if status in STATUSES:
            f.status = status
        else:
            errors["status"] = ["状态应为 " + "、".join(STATUSES) + " 之一"]
    light = (args.get("light") or "").strip()
    if light:
        label_to_light = {v: k for k, v in LIGHT_LABELS.items()}
        light = label_to_light.get(light, light) if labels_ok else light
        if light in LIGHTS:
            f.light = light
        else:
            errors["light"] = ["预警应为 " + "、".join(LIGHTS) + " 之一"]
    f.keyword = (args.get("q") or args.get("keyword") or "").strip()[:100]
    extended = (args.get("extended") or "").strip()
    if extended:
        if extended in ("1", "true", "yes", "已延期"):
            f.extended = True
        elif extended not in ("0", "false", "no"):
            errors["extended"] = ["extended 应为 1 或 0"]
    if errors:
        raise Invalid(errors)
    return f


def _matches(task: Task, state: NodeState, f: TaskFilter, root_of: dict[int, int]) -> bool:
    if f.level is not None and task.level != f.level:
        return False
    if f.unit_id is not None and not any(link.unit_id == f.unit_id for link in task.unit_links):
        return False
    if f.status is not None and derived_status(task, state) != f.status:
        return False
    if f.light is not None and state.light != f.light:
        return False
    if f.root_id is not None and root_of.get(task.id) != f.root_id:
        return False
    if f.extended and not (task.is_leaf and task.is_extended):
        return False
    if f.keyword:
        haystack = " ".join([task.code, task.title, task.latest_progress or "", task.deadline_text]
                            + [u.full_name + u.short_name for u in task.lead_units + task.co_units])
        if f.keyword not in haystack:
            return False
    return True


def root_map(tasks: list[Task]) -> dict[int, int]:
    """Task id -> id of its first-level ancestor (tasks in tree order)."""
    by_id = {t.id: t for t in tasks}
    result: dict[int, int] = {}
    for t in tasks:
        if t.parent_id is None or t.parent_id not in by_id:
            result[t.id] = t.id
        else:
            result[t.id] = result.get(t.parent_id, t.parent_id)
    return result


def filter_view(view: PlanView, f: TaskFilter) -> list[Task]:
    """Visible tasks matching ``f``, in tree order."""
    roots = root_map(view.tasks)
    return [t for t in view.tasks if t.id in view.visible and _matches(t, view.states[t.id], f, roots)]


def filter_with_context(view: PlanView, f: TaskFilter) -> list[Task]:
    """Matching measures plus their ancestors (for the ledger's spanning rows)."""
    matched = {t.id for t in filter_view(view, f)}
    keep = with_ancestors(view.by_id, matched) & view.visible
    return [t for t in view.tasks if t.id in keep]


def get_task_for(actor: User, task_id: int) -> Task:
    """A task the actor may read; NotFound or Forbidden otherwise."""
    task = db.session.execute(task_query().where(Task.id == task_id)).scalars().unique().one_or_none()
    if task is None:
        raise NotFound("未找到该任务")
    if actor.can_read_all:
        return task
    if not actor.unit_id:
        raise Forbidden()
    if not can_unit_see(task, actor.unit_id):
        raise Forbidden("该任务不属于本单位")
    return task


def can_unit_see(task: Task, unit_id: int) -> bool:
    """A unit sees its own tasks and, for context, their ancestors."""
    if any(link.unit_id == unit_id for link in task.unit_links):
        return True
    # Ancestor of one of the unit's tasks?
    ids = [task.id]
    seen = set(ids)
    while ids:
        rows = db.session.execute(
            select(Task.id).where(Task.parent_id.in_(ids))
        ).scalars().all()
        if rows:
            hit = db.session.execute(
                select(TaskUnit.task_id).where(TaskUnit.task_id.in_(rows), TaskUnit.unit_id == unit_id).limit(1)
            ).first()
            if hit:
                return True
        ids = [r for r in rows if r not in seen]
        seen.update(ids)
    return False


def unit_role(task: Task, unit_id: Optional[int]) -> Optional[str]:
    """``lead``, ``co`` or None for a unit on a task."""
    roles = {link.role for link in task.unit_links if link.unit_id == unit_id}
    if LEAD in roles:
        return LEAD
    if CO in roles:
        return CO
    return None


def ancestors(task: Task) -> list[Task]:
    chain: list[Task] = []
    node = task.parent
    while node is not None:
        chain.append(node)
        node = node.parent
    return list(reversed(chain))


__all__ = [
    "PlanView", "TaskFilter", "load_plan_view", "filter_view", "filter_with_context", "parse_filter",
    "task_dict", "get_task_for", "get_plan", "list_plans", "find_unit", "unit_role", "ancestors",
    "status_label", "root_map", "tree_order",
]
