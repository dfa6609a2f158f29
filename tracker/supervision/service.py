"""The bureau's lists (SPEC 3): 逾期清单 and 未报送 (催办 is ``urge.py``)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from io import BytesIO
from typing import Optional

from sqlalchemy import select

from ..errors import Invalid
from ..extensions import db
from ..models import LEAD, Plan, ProgressUpdate, Task, Unit
from ..plans.access import unit_role
from ..plans.rows import TaskRow, UnitInfo, load_open_measures
from ..plans.view import root_map
from ..rules.lights import is_overdue, report_owed, report_period
from ..rules.status import status_label
from ..validation import MAX_DATE, MIN_DATE, parse_id, parse_int

PERIOD_RE = re.compile(r"^([0-9]{4})-([0-9]{2})$", re.ASCII)


@dataclass
class OverdueRow:
    task: TaskRow
    days: int
    root: Optional[RootRow]  # first-level task (a lightweight row: id, code, title)
    plan_title: str = ""
    unit_role: str = ""  # the filtered unit's role on this measure: lead | co

    @property
    def lead_names(self) -> str:
        return "、".join(u.name for u in self.task.lead_units)

    @property
    def co_names(self) -> str:
        return "、".join(u.name for u in self.task.co_units)


@dataclass
class OverdueFilter:
    unit_id: Optional[int] = None
    root_id: Optional[int] = None
    min_days: int = 0
    plan_id: Optional[int] = None
    role: str = ""  # with a unit: "" both, "lead" only where it leads, "co" only where it co-operates
    sort: str = "days"
    desc: bool = True


# Sortable columns of the overdue list (?sort=KEY&dir=asc|desc); the default puts the longest overdue first.
OVERDUE_SORTS = ("days", "code", "plan", "lead", "deadline", "status")
UNIT_ROLES = {"lead": "牵头", "co": "配合"}


@dataclass
class RootRow:
    id: int
    code: str
    title: str
    plan_id: int


def parse_overdue_filter(args) -> OverdueFilter:
    errors: dict[str, list[str]] = {}
    f = OverdueFilter()
    unit = (args.get("unit") or "").strip()
    if unit:
        if unit.isascii() and unit.isdigit():
            try:
                f.unit_id = parse_id(unit, field="unit", label="单位编号")
            except Invalid as exc:
                errors.update(exc.errors)
        else:
            found = db.session.execute(
                select(Unit.id).where((Unit.full_name == unit) | (Unit.short_name == unit))
            ).scalar_one_or_none()
            if found is None:
                errors["unit"] = [f"未找到单位：{unit}"]
            f.unit_id = found
    for name, label, attr, low, high in (("task", "一级任务编号", "root_id", 1, None),
                                         ("min_days", "最少逾期天数", "min_days", 0, 100000)):
        try:
            value = parse_int(args.get(name), field=name, label=label, low=low, high=high)
        except Invalid as exc:
            errors.update(exc.errors)
        else:
            if value is not None:
                setattr(f, attr, value)
    try:
        f.plan_id = parse_id(args.get("plan"), field="plan", label="计划编号")
    except Invalid as exc:
        errors.update(exc.errors)
    role = (args.get("role") or "").strip()
    if role and role not in UNIT_ROLES:
        errors["role"] = ["单位角色应为 lead（牵头）或 co（配合）"]
    f.role = role if role in UNIT_ROLES else ""
    sort = (args.get("sort") or "").strip()
    if sort and sort not in OVERDUE_SORTS:
        errors["sort"] = ["排序列无效"]
    f.sort = sort if sort in OVERDUE_SORTS else "days"
    direction = (args.get("dir") or "").strip()
    if direction and direction not in ("asc", "desc"):
        errors["dir"] = ["排序方向应为 asc 或 desc"]
    f.desc = direction == "desc" if direction else f.sort == "days"
    if errors:
        raise Invalid(errors)
    return f


def _roots_by_task() -> tuple[dict[int, RootRow], list[RootRow]]:
    """Every task id → its first-level ancestor (one lightweight query)."""
    rows = db.session.execute(select(Task.id, Task.parent_id, Task.code, Task.title, Task.plan_id, Task.position)).all()
    roots = {r.id: RootRow(r.id, r.code, r.title, r.plan_id) for r in rows if r.parent_id is None}
    result = {task_id: roots[root_id] for task_id, root_id in root_map(rows).items() if root_id in roots}
    position = {r.id: r.position for r in rows}
    ordered = sorted(roots.values(), key=lambda x: (x.plan_id, position[x.id], x.id))
    return result, ordered


def overdue_rows(today: date, f: OverdueFilter = OverdueFilter()) -> tuple[list[OverdueRow], list[RootRow]]:
    """Overdue measures on ``today`` (most overdue first), filtered; plus the first-level tasks."""
    tasks = load_open_measures(Task.effective_deadline < today)
    roots, root_list = _roots_by_task()
    titles = dict(db.session.execute(select(Plan.id, Plan.title)).all())
    rows = []
    for task in tasks:
        if not is_overdue(task.status, task.effective_deadline, task.claimed_on, today):
            continue
        days = (today - task.effective_deadline).days
        if days < f.min_days:
            continue
        role = ""
        if f.unit_id is not None:
            role = unit_role(task, f.unit_id)
            if role is None or (f.role and f.role != role):
                continue
        if f.plan_id is not None and task.plan_id != f.plan_id:
            continue
        root = roots.get(task.id)
        if f.root_id is not None and (root is None or root.id != f.root_id):
            continue
        rows.append(OverdueRow(task=task, days=days, root=root, plan_title=titles.get(task.plan_id, ""),
                               unit_role=role))
    sort_overdue(rows, f.sort, f.desc)
    return rows, root_list


def _code_key(code: str) -> tuple:
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"[.\-]", code or ""))


def sort_overdue(rows: list[OverdueRow], sort: str = "days", desc: bool = True) -> None:
    """Order rows in place by a column; ties keep plan order (plan, code)."""
    keys = {
        "days": lambda r: r.days,
        "code": lambda r: _code_key(r.task.code),
        "plan": lambda r: r.plan_title,
        "lead": lambda r: r.lead_names,
        "deadline": lambda r: r.task.deadline,
        "status": lambda r: r.task.status,
    }
    rows.sort(key=lambda r: (r.task.plan_id, _code_key(r.task.code)))
    rows.sort(key=keys.get(sort, keys["days"]), reverse=desc)


def overdue_workbook(rows: list[OverdueRow], today: date, filter_note: str = "") -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    from ..plans.excel_export import parent_head
    from ..spreadsheets.print_layout import FONT_NAME, FONT_SIZE, PrintLayout
    from ..spreadsheets.writer import text_cell, write_row

    wb = Workbook()
    ws = wb.active
    ws.title = "逾期清单"
    plans = sorted({r.plan_title for r in rows if r.plan_title})
    multi = len(plans) > 1  # with one plan its title is in the title row, not on every line
    headers = ["序号", "具体工作举措"] + (["计划"] if multi else []) + [
        "一级任务", "牵头单位", "配合单位", "完成时限", "逾期起始日", "逾期天数", "状态", "最新进展"]
    widths = [7, 46] + ([22] if multi else []) + [30, 18, 20, 14, 12, 9, 9, 40]
    scope = plans[0] if len(plans) == 1 else ("、".join(plans) if plans else "")
    title = (f"{scope + ' ' if scope else ''}逾期清单（统计日期 {today.isoformat()}，共 {len(rows)} 项）"
             + (f"  筛选：{filter_note}" if filter_note else ""))
    # Every cell through the one spreadsheet writer: text stays text (no formula), bad characters replaced.
    text_cell(ws, 1, 1, title)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headers))
    ws["A1"].font = Font(name=FONT_NAME, bold=True, size=14)
    ws["A1"].alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    ws.row_dimensions[1].height = 36
    write_row(ws, 2, headers)
    thin = Side(style="thin", color="999999")
    body_font = Font(name=FONT_NAME, size=FONT_SIZE)
    for col, width in enumerate(widths, start=1):
        cell = ws.cell(row=2, column=col)
        cell.font = Font(name=FONT_NAME, size=FONT_SIZE, bold=True)
        cell.fill = PatternFill("solid", fgColor="DDDDDD")
        ws.column_dimensions[cell.column_letter].width = width
    red = PatternFill("solid", fgColor="F8D7DA")
    for row, r in enumerate(rows, start=3):
        t = r.task
        root = parent_head(r.root.code, r.root.title) if r.root else ""
        write_row(ws, row, [t.code, t.title] + ([r.plan_title] if multi else []) + [
            root, r.lead_names, r.co_names, t.deadline_label, t.effective_deadline + timedelta(days=1),
            r.days, status_label(t.status, t.is_ongoing), t.latest_progress or ""])
        ws.cell(row=row, column=headers.index("逾期起始日") + 1).number_format = "yyyy-mm-dd"
        ws.cell(row=row, column=headers.index("逾期天数") + 1).fill = red
    for row in ws.iter_rows(min_row=2, max_row=ws.max_row):
        for cell in row:
            cell.border = Border(top=thin, bottom=thin, left=thin, right=thin)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            if cell.row > 2:
                cell.font = body_font
    ws.freeze_panes = "A3"
    ws.auto_filter.ref = f"A2:{get_column_letter(len(headers))}{ws.max_row}"
    PrintLayout(ws, widths, (1, 2), 3, ws.max_row).apply()
    out = BytesIO()
    wb.save(out)
    return out.getvalue()


# --- 未报送 ------------------------------------------------------------------------------------

def parse_period(text: str | None, today: date) -> str:
    text = (text or "").strip()
    if not text:
        return report_period(today)
    m = PERIOD_RE.match(text)
    if not m or not 1 <= int(m.group(2)) <= 12 or not MIN_DATE.year <= int(m.group(1)) <= MAX_DATE.year:
        raise Invalid({"period": [f"月份格式应为 YYYY-MM：{text}"]})
    return text


@dataclass
class MissingUnit:
    unit: UnitInfo
    measures: list[TaskRow] = field(default_factory=list)


def missing_reports(period: str, unit_id: Optional[int] = None) -> list[MissingUnit]:
    """Lead units with open measures that have no progress report for ``period``, per measure.

    Which measures owe a report is ``lights.report_owed`` (the unit's "本月未报送" filter uses
    it too): 待审核 and finished measures owe none, so both lists show the same set.
    """
    reported = set(db.session.execute(
        select(ProgressUpdate.task_id).where(ProgressUpdate.period == period).distinct()
    ).scalars())
    by_unit: dict[int, MissingUnit] = {}
    for task in load_open_measures():
        if task.id in reported or (task.last_report_period or "") == period:
            continue
        if not report_owed(task.status, "", period):
            continue  # claimed (待审核) or finished: no report form, nothing owed
        for link in task.unit_links:
            if link.role != LEAD or not link.unit.active:
                continue
            if unit_id is not None and link.unit_id != unit_id:
                continue
            by_unit.setdefault(link.unit_id, MissingUnit(link.unit)).measures.append(task)
    return sorted(by_unit.values(), key=lambda m: (-len(m.measures), m.unit.id))
