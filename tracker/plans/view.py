"""A plan as one reader sees it on ``today``: the tree of ``TaskRow`` with computed lights and roll-ups.

Every reader loads a plan's tasks with a fixed number of queries (``rows.load_plan_rows``)
and computes lights and roll-ups in Python, so pages cost the same number of SQL
statements whatever the plan's size. The filters of the ledger and the API and the
API's task shape (``task_dict``) are here too.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cached_property
from types import MappingProxyType
from typing import Callable, Hashable, Iterable, Mapping, Optional, TypeVar

from ..cache.readcache import remember, revision_key
from ..errors import Invalid, NotFound
from ..models import Plan, User
from ..rules.lights import LIGHT_LABELS, LIGHTS, LightRules, NodeState, evaluate_tree
from ..rules.periods import period_light
from ..rules.status import DONE, IN_PROGRESS, NOT_STARTED, STATUSES
from ..validation import parse_int
from .access import find_unit
from .rows import TaskRow, load_plan_rows

T = TypeVar("T")


def unit_task_ids(tasks: Iterable[TaskRow], unit_id: int) -> set[int]:
    """Ids of tasks a unit leads or co-operates on."""
    return {t.id for t in tasks if any(link.unit_id == unit_id for link in t.unit_links)}


def with_ancestors(tasks_by_id: Mapping[int, TaskRow], ids: set[int]) -> set[int]:
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
    tasks: tuple[TaskRow, ...]  # all tasks of the plan, in tree order (sealed rows, shared by the read cache)
    states: Mapping[int, NodeState]
    visible: frozenset[int]  # ids the reader may see
    own: frozenset[int] = frozenset()  # ids the reader's unit is responsible for (unit users)
    revision: Optional[Hashable] = None  # the data revision it was read at (None: nothing is cached)
    params: tuple = ()  # what else it depends on: plan, day, rules, visibility, subtree

    def derived(self, what: str, params: Hashable, build: Callable[[], T]) -> T:
        """A value computed from this view (a ledger table, the dashboard's figures), kept while the view's
        data revision is current: callers name it, the read cache keys it."""
        return remember(what, (self.params, params), build, revision=self.revision)

    @cached_property
    def by_id(self) -> dict[int, TaskRow]:
        return {t.id: t for t in self.tasks}

    def children_of(self) -> dict[Optional[int], list[TaskRow]]:
        result: dict[Optional[int], list[TaskRow]] = {}
        for t in self.tasks:
            result.setdefault(t.parent_id, []).append(t)
        return result

    def visible_tasks(self) -> list[TaskRow]:
        return [t for t in self.tasks if t.id in self.visible]


def tree_order(tasks: list) -> list:
    """Depth-first order by position, the order of the printed ledger (rows or ORM tasks)."""
    children: dict[Optional[int], list] = {}
    for t in tasks:
        children.setdefault(t.parent_id, []).append(t)
    for kids in children.values():
        kids.sort(key=lambda t: (t.position, t.id))
    ordered: list = []
    stack = list(reversed(children.get(None, [])))
    while stack:
        node = stack.pop()
        ordered.append(node)
        stack.extend(reversed(children.get(node.id, [])))
    return ordered


def root_map(tasks: Iterable) -> dict[int, int]:
    """Task id -> id of its topmost ancestor among ``tasks`` (its first-level task), in any order.

    ``tasks``: anything with ``id`` and ``parent_id`` (rows, tasks, lightweight SELECT rows).
    """
    by_id = {t.id: t for t in tasks}
    result: dict[int, int] = {}
    for task in by_id.values():
        path, node = [], task
        while node.id not in result and node.parent_id in by_id and len(path) < 50:
            path.append(node.id)
            node = by_id[node.parent_id]
        root = result.get(node.id, node.id)
        result.update(dict.fromkeys(path, root))
        result[node.id] = root
    return result


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
    if not actor.can_read_all:
        root_id = None  # a unit's visibility is computed over the whole plan
    rev = revision_key()
    params = (plan.id, today, rules, visibility_key(actor), root_id)

    def build():
        view = view_from_tasks(plan, actor, today, rules, load_plan_rows(plan.id, root_id))
        return view.tasks, view.states, view.visible, view.own

    tasks, states, visible, own = remember("plan_view", params, build, revision=rev)
    return PlanView(plan=plan, today=today, tasks=tasks, states=states, visible=visible, own=own, revision=rev,
                    params=params)


def view_from_tasks(plan: Plan, actor: User, today: date, rules: LightRules, tasks: list[TaskRow]) -> PlanView:
    """A PlanView over already loaded rows."""
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


# --- The API's shape --------------------------------------------------------------------

def derived_status(task, state: NodeState) -> str:
    """A measure's status; a parent's from its roll-up. ``task``: a TaskRow or (after a write) a Task."""
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


def task_dict(task, state: NodeState, today: Optional[date] = None, rules: LightRules = LightRules()) -> dict:
    """The API shape of SPEC 3 (and 6.6: recurrence, periods, current_period) of a TaskRow
    (reads) or a Task (the answer to a write)."""
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


# --- Filters (the ledger and the API) ---------------------------------------------------

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


def _matches(task: TaskRow, state: NodeState, f: TaskFilter, root_of: dict[int, int]) -> bool:
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


def filter_view(view: PlanView, f: TaskFilter) -> list[TaskRow]:
    """Visible tasks matching ``f``, in tree order."""
    roots = root_map(view.tasks)
    return [t for t in view.tasks if t.id in view.visible and _matches(t, view.states[t.id], f, roots)]


def filter_with_context(view: PlanView, f: TaskFilter) -> list[TaskRow]:
    """Matching measures plus their ancestors (for the ledger's spanning rows)."""
    matched = {t.id for t in filter_view(view, f)}
    keep = with_ancestors(view.by_id, matched) & view.visible
    return [t for t in view.tasks if t.id in keep]
