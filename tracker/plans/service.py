"""Building a plan tree from a description (seed file or Excel import).

``validate_plan`` lists every problem with where it is; ``create_plan`` writes
the plan only when there are none (all or nothing; the caller commits).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Optional

from sqlalchemy import select

from ..errors import Invalid
from ..extensions import db
from ..models import CO, LEAD, Plan, Task, TaskUnit, Unit, UnitGroup
from ..rules.deadlines import DeadlineError, Recurrence, parse_deadline, read_deadline
from ..rules.periods import title_recurrence
from ..rules.status import IN_PROGRESS, NOT_STARTED
from . import periods as periods_service
from . import unit_groups

DEADLINE_TEXT_MAX = 60  # tasks.deadline_text
UNIT_SEPARATORS = re.compile(r"[、，,；;\n\r]+")


def split_units(cell: str | None) -> list[str]:
    """Several units in one cell: separated by 、 ， , ； or a line break."""
    if not cell:
        return []
    return [part.strip() for part in UNIT_SEPARATORS.split(str(cell)) if part.strip()]


@dataclass
class NodeSpec:
    code: str
    title: str
    lead: list[str] = field(default_factory=list)
    co: list[str] = field(default_factory=list)
    deadline_text: Optional[str] = None
    description: str = ""
    children: list["NodeSpec"] = field(default_factory=list)
    where: str = ""  # e.g. "第12行" or "tasks[3].children[1]", for error messages
    # Where each field came from, for precise error messages: {"lead": "第12行 E列"}
    cells: dict[str, str] = field(default_factory=dict)

    def at(self, fieldname: str) -> str:
        return self.cells.get(fieldname) or self.where


@dataclass
class PlanSpec:
    title: str
    issuer: str = ""
    start: Optional[date] = None
    end: Optional[date] = None
    note: str = ""
    tasks: list[NodeSpec] = field(default_factory=list)


@dataclass
class PlanProblem:
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}：{self.message}" if self.where else self.message


class UnitResolver:
    """Matches unit names by full or short name, unit groups (各街镇) by name or alias,
    names the import maps (``mapping``: 各有关单位 -> [names]); optionally creates unknown units."""

    def __init__(self, create_missing: bool = False, mapping: Optional[dict[str, list[str]]] = None):
        self.create_missing = create_missing
        self.units: list[Unit] = list(db.session.execute(select(Unit).order_by(Unit.id)).scalars())
        self.by_name: dict[str, Unit] = {}
        for unit in self.units:
            self.by_name[unit.full_name] = unit
            self.by_name[unit.short_name] = unit
        self.groups: dict[str, UnitGroup] = {name: g for g in unit_groups.all_groups() for name in g.names}
        self.mapping = dict(mapping or {})
        self.created: list[Unit] = []

    def _plain_problem(self, name: str) -> str:
        if name in self.by_name:
            return ""
        group = self.groups.get(name)
        if group is not None:
            return "" if unit_groups.member_units(group, self.units) else f"单位组“{name}”没有任何启用的成员单位"
        if unit_groups.is_vague(name):
            return f"“{name}”{unit_groups.VAGUE_HINT}"
        if self.create_missing:
            return ""
        return f"未知的单位“{name}”（请先在单位管理中添加，或在导入时选择自动新建单位）"

    def problem(self, name: str) -> str:
        """Why ``name`` cannot be used in a unit cell, or "" when it can."""
        if name in self.mapping:
            for target in self.mapping[name]:
                message = self._plain_problem(target)
                if message:
                    return f"“{name}”映射到的{message}"
            return ""
        return self._plain_problem(name)

    def known(self, name: str) -> bool:
        return not self.problem(name)

    def expand(self, name: str) -> list[Unit]:
        """The units ``name`` stands for (one unit, a group's members, or a mapping's targets)."""
        if name in self.mapping:
            return [u for target in self.mapping[name] for u in self._expand_plain(target)]
        return self._expand_plain(name)

    def _expand_plain(self, name: str) -> list[Unit]:
        group = self.groups.get(name) if name not in self.by_name else None
        if group is not None:
            return unit_groups.member_units(group, self.units)
        return [self.get(name)]

    def get(self, name: str) -> Unit:
        unit = self.by_name.get(name)
        if unit is None:
            if not self.create_missing:
                raise KeyError(name)
            unit = Unit(full_name=name, short_name=name, kind="其他", emails="", active=True)
            db.session.add(unit)
            self.by_name[name] = unit
            self.created.append(unit)
        return unit

    def is_new(self, name: str) -> bool:
        """A plain name that would create a unit (with ``create_missing``)."""
        return not (name in self.by_name or name in self.groups or name in self.mapping
                    or unit_groups.is_vague(name))


def plan_spec_from_dict(data: dict, source: str = "") -> PlanSpec:
    """A PlanSpec from the JSON seed layout; Invalid on a malformed document."""
    if not isinstance(data, dict):
        raise Invalid({"file": [f"{source}：顶层应为对象"]})
    problems: list[str] = []
    title = data.get("title")
    if not isinstance(title, str) or not title.strip():
        problems.append("title：缺少计划名称")
        title = ""
    dates: dict[str, Optional[date]] = {}
    for key in ("start", "end"):
        value = data.get(key)
        try:
            dates[key] = date.fromisoformat(value) if value else None
        except (TypeError, ValueError):
            problems.append(f"{key}：日期应为 YYYY-MM-DD")
            dates[key] = None
    tasks_raw = data.get("tasks")
    if not isinstance(tasks_raw, list) or not tasks_raw:
        problems.append("tasks：计划没有任务")
        tasks_raw = []
    tasks = [_node_from_dict(t, f"tasks[{i}]", problems) for i, t in enumerate(tasks_raw)]
    if problems:
        raise Invalid({"file": [f"{source} {p}".strip() for p in problems]})
    return PlanSpec(
        title=title.strip(),
        issuer=str(data.get("issuer", "")),
        start=dates["start"],
        end=dates["end"],
        note=str(data.get("note", "")),
        tasks=[t for t in tasks if t is not None],
    )


def _node_from_dict(raw, path: str, problems: list[str]) -> Optional[NodeSpec]:
    """One task of the seed layout and its children; what is wrong goes into ``problems`` by path."""
    if not isinstance(raw, dict):
        problems.append(f"{path}：应为对象")
        return None
    title = raw.get("title")
    if not isinstance(title, str) or not title.strip():
        problems.append(f"{path}.title：缺少任务名称")
        title = ""
    kids_raw = raw.get("children", [])
    if not isinstance(kids_raw, list):
        problems.append(f"{path}.children：应为列表")
        kids_raw = []
    lead, co = raw.get("lead", []), raw.get("co", [])
    for key, value in (("lead", lead), ("co", co)):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            problems.append(f"{path}.{key}：应为单位名称列表")
    kids = [_node_from_dict(k, f"{path}.children[{i}]", problems) for i, k in enumerate(kids_raw)]
    deadline = raw.get("deadline")
    if deadline is not None and not isinstance(deadline, str):
        problems.append(f"{path}.deadline：应为文本")
        deadline = None
    return NodeSpec(
        code=str(raw.get("code", "")).strip(),
        title=title.strip(),
        lead=list(lead) if isinstance(lead, list) else [],
        co=list(co) if isinstance(co, list) else [],
        deadline_text=deadline,
        description=str(raw.get("description", "")),
        children=[k for k in kids if k is not None],
        where=path,
    )


def deadline_problem(text: str) -> str:
    """The message for a deadline text that cannot be stored, or ""."""
    if len(text.strip()) > DEADLINE_TEXT_MAX:
        return f"完成时限过长（最多 {DEADLINE_TEXT_MAX} 个字）：“{text.strip()}”"
    try:
        read_deadline(text)
    except DeadlineError as exc:
        return str(exc)
    return ""


def _recurrence(node: NodeSpec) -> Optional[tuple[Recurrence, Optional[date]]]:
    """(recurrence, first period's day) of a recurring measure, None otherwise (or for a bad text)."""
    try:
        reading = read_deadline(node.deadline_text)
    except DeadlineError:
        return None
    if reading.recurrence is not None:
        return reading.recurrence, None
    from_title = title_recurrence(node.title, reading)
    return (from_title, reading.deadline) if from_title is not None else None


def validate_plan(spec: PlanSpec, resolver: UnitResolver) -> list[PlanProblem]:
    """Every problem of a plan description: unknown units, bad deadlines, measures without a lead."""
    problems: list[PlanProblem] = []
    if not spec.title:
        problems.append(PlanProblem("", "缺少计划名称"))
    if not spec.tasks:
        problems.append(PlanProblem("", "计划中没有任何任务"))

    def check(node: NodeSpec) -> None:
        if not node.title:
            problems.append(PlanProblem(node.at("title"), "缺少任务名称"))
        for fieldname, names in (("lead", node.lead), ("co", node.co)):
            for name in names:
                message = resolver.problem(name)
                if message:
                    problems.append(PlanProblem(node.at(fieldname), message))
        if node.deadline_text:
            problem = deadline_problem(node.deadline_text)
            if problem:
                problems.append(PlanProblem(node.at("deadline"), problem))
        if node.children:
            for child in node.children:
                check(child)
        else:
            if node.deadline_text and (spec.start is None or spec.end is None) and _recurrence(node) is not None:
                problems.append(PlanProblem(node.at("deadline"), "循环举措需要计划的起止时间（可在标题中写明，如“（2023—2025年）”）"))
            if not node.lead:
                problems.append(PlanProblem(node.at("lead"), "具体举措缺少牵头单位"))
            if not node.deadline_text:
                problems.append(PlanProblem(node.at("deadline"), "具体举措缺少完成时限"))

    for top in spec.tasks:
        check(top)
    return problems


CN_LEVELS = "一二三四五六七八九"


def level_name(level: int) -> str:
    """1 -> 一级任务 (the words the ledger's headers use)."""
    return f"{CN_LEVELS[level - 1]}级任务" if 1 <= level <= len(CN_LEVELS) else f"{level}级任务"


@dataclass
class PlanCounts:
    levels: dict[int, int]
    measures: int

    def __str__(self) -> str:
        parts = [f"{level_name(level)} {n} 项" for level, n in sorted(self.levels.items())]
        return "，".join(parts) + f"（具体举措 {self.measures} 项）"


def count_spec(spec: PlanSpec) -> PlanCounts:
    levels: dict[int, int] = {}
    measures = 0
    stack = [(n, 1) for n in spec.tasks]
    while stack:
        node, level = stack.pop()
        levels[level] = levels.get(level, 0) + 1
        if not node.children:
            measures += 1
        stack.extend((c, level + 1) for c in node.children)
    return PlanCounts(levels, measures)


def create_plan(spec: PlanSpec, resolver: UnitResolver, *, replace: bool = False) -> Plan:
    """Write the plan (after ``validate_plan`` found nothing). The caller commits.

    With ``replace`` an existing plan of the same title is deleted first.
    """
    problems = validate_plan(spec, resolver)
    if problems:
        raise Invalid({"plan": [str(p) for p in problems]})
    existing = db.session.execute(select(Plan).where(Plan.title == spec.title)).scalar_one_or_none()
    if existing is not None:
        if not replace:
            raise Invalid({"title": [f"已存在同名计划“{spec.title}”"]})
        db.session.delete(existing)
        db.session.flush()
    plan = Plan(title=spec.title, issuer=spec.issuer, start_date=spec.start, end_date=spec.end, note=spec.note)
    db.session.add(plan)
    for i, top in enumerate(spec.tasks):
        _build_task(plan, spec, resolver, top, None, 1, i)
    db.session.flush()
    return plan


def _build_task(plan: Plan, spec: PlanSpec, resolver: UnitResolver, node: NodeSpec, parent: Optional[Task],
                level: int, position: int) -> Task:
    """The task of ``node`` (its periods when it recurs, its unit links) and, below it, its children's."""
    deadline = parse_deadline(node.deadline_text) if node.deadline_text else None
    leaf = not node.children
    task = Task(
        plan=plan,
        parent=parent,
        level=level,
        position=position,
        code=node.code,
        title=node.title,
        description=node.description,
        deadline=deadline,
        deadline_text=(node.deadline_text or "").strip(),
        is_leaf=leaf,
        status=IN_PROGRESS if leaf and deadline is None else NOT_STARTED,
        progress=0,
        version=1,
    )
    db.session.add(task)
    recurring = _recurrence(node) if leaf else None
    if recurring is not None and spec.start is not None and spec.end is not None:
        periods_service.attach_periods(task, recurring[0], spec.start, spec.end, recurring[1])
    _link_units(task, node, resolver)
    for i, child in enumerate(node.children):
        _build_task(plan, spec, resolver, child, task, level + 1, i)
    return task


def _link_units(task: Task, node: NodeSpec, resolver: UnitResolver) -> None:
    """Lead units first, then co-operating ones, each unit once per role (groups expanded)."""
    pos = 0
    leads: set[int] = set()
    for role, names in ((LEAD, node.lead), (CO, node.co)):
        seen: set[int] = set()
        for name, unit in ((n, u) for n in names for u in resolver.expand(n)):
            key = id(unit)
            # A group's lead member is not also listed as co-operating (a named unit may be both).
            if key in seen or (role == CO and key in leads and name not in resolver.by_name):
                continue
            seen.add(key)
            if role == LEAD:
                leads.add(key)
            task.unit_links.append(TaskUnit(unit=unit, role=role, position=pos))
            pos += 1
