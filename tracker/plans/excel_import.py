"""Import of a plan from an .xlsx file in the ledger layout (SPEC 2.5).

``read_ledger`` turns the workbook into a ``PlanSpec`` whose nodes remember the
cells they came from ("第12行 E列"), plus the problems found while reading;
``import_plan_file`` adds ``validate_plan``'s checks and, when there is no
problem and it is not a dry run, writes the plan in one commit (all or nothing).

Layout accepted: any title rows above the header row (found by its labels, see
``ledger_layout``): ``序号 | 一级任务 | 二级任务 … | 具体工作举措 | 牵头单位 | 配合单位 | 完成时限 | …``
or ``序号 | 重点任务 | 具体措施 | 责任单位 | 完成时限 | 备注`` (first unit listed leads);
parent cells merged over their measures, filled down, or left blank below a
value (same parent); several units per cell separated by 、，,； or line breaks.
"""
from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from io import BytesIO
from typing import Optional

from openpyxl import load_workbook
from sqlalchemy import select

from .. import audit
from ..extensions import db
from ..models import Plan, User
from ..rules.deadlines import split_extended
from ..spreadsheets.limits import MAX_COLUMNS, MAX_ROWS, SheetTooLarge, check_workbook
from ..validation import normalise_newlines, text_problem
from .ledger_cells import MergedSheet, cell_text, clean_title, split_parent_text, where, without_continued
from .ledger_layout import LEVEL_NAMES, Header, ReadError, find_header, span_of_workbook
from .service import (
    NodeSpec,
    PlanCounts,
    PlanProblem,
    PlanSpec,
    UnitResolver,
    count_spec,
    create_plan,
    split_units,
    validate_plan,
)

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
MAX_UNPACKED_BYTES = 300 * 1024 * 1024  # a zip bomb is refused before parsing
PREVIEW_ROWS = 20

_ROW_OF = re.compile(r"第(\d+)行")


@dataclass
class PreviewRow:
    row: int
    code: str
    parents: list[str]
    title: str
    lead: str
    co: str
    deadline: str


@dataclass
class ParsedLedger:
    spec: PlanSpec
    problems: list[PlanProblem]
    preview: list[PreviewRow]
    level_headers: list[str]
    header_row: int = 0


@dataclass
class ImportReport:
    title: str
    problems: list[PlanProblem]
    counts: Optional[PlanCounts] = None
    preview: list[PreviewRow] = field(default_factory=list)
    level_headers: list[str] = field(default_factory=list)
    plan_id: Optional[int] = None
    created_units: list[str] = field(default_factory=list)
    dry_run: bool = True

    @property
    def ok(self) -> bool:
        return not self.problems


def load_sheet(data: bytes, max_bytes: int = DEFAULT_MAX_BYTES):
    """The first worksheet of an .xlsx file; ReadError with a clear message otherwise."""
    if not data:
        raise ReadError("文件为空")
    if len(data) > max_bytes:
        raise ReadError(f"文件过大（{len(data) / 1024 / 1024:.1f} MB），上限为 {max_bytes // 1024 // 1024} MB")
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise ReadError("文件是旧版 Excel（.xls）格式，请在 Excel/WPS 中另存为 .xlsx 后再导入")
    if not zipfile.is_zipfile(BytesIO(data)):
        raise ReadError("文件不是有效的 Excel（.xlsx）文件")
    try:
        with zipfile.ZipFile(BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
            if unpacked > MAX_UNPACKED_BYTES:
                raise ReadError("文件解压后过大，请确认是正常的工作台账文件")
            # Rows, cells and merged ranges are counted before openpyxl expands anything.
            check_workbook(archive)
    except SheetTooLarge as exc:
        raise ReadError(str(exc)) from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError, RuntimeError,
            NotImplementedError):
        raise ReadError("文件不是有效的 Excel（.xlsx）文件") from None
    try:
        wb = load_workbook(BytesIO(data), data_only=False)
    except Exception as exc:  # openpyxl raises many kinds on a damaged or foreign zip
        raise ReadError(f"无法读取 Excel 文件（{type(exc).__name__}），请确认是 .xlsx 格式") from None
    if not wb.worksheets:
        raise ReadError("文件中没有工作表")
    ws = wb.worksheets[0]
    if ws.max_row > MAX_ROWS:
        raise ReadError(f"工作表行数过多（{ws.max_row} 行），上限为 {MAX_ROWS} 行")
    return ws


def read_ledger(data: bytes, title: Optional[str] = None, *, max_bytes: int = DEFAULT_MAX_BYTES) -> ParsedLedger:
    """Parse a ledger-layout workbook into a PlanSpec; ReadError when the file is unusable."""
    ws = load_sheet(data, max_bytes)
    if ws.max_row <= 1 and ws.max_column <= 1 and ws.cell(row=1, column=1).value is None:
        raise ReadError("工作表为空")
    header = find_header(ws)
    problems: list[PlanProblem] = []
    level_numbers = _level_numbers(header, problems)
    plan_title = _plan_title(ws, title, header.row, problems)
    spec = PlanSpec(title=plan_title[:300])
    spec.start, spec.end = span_of_workbook(ws.parent, plan_title, header.row)
    if not plan_title:
        problems.append(PlanProblem("", "缺少计划名称：表头上方没有标题行，请指定计划名称"))
    rows = _RowReader(MergedSheet(ws), header, level_numbers, spec, problems)
    for r in range(header.row + 1, ws.max_row + 1):
        rows.read(r)
    if not spec.tasks and not problems:
        problems.append(PlanProblem(f"第{header.row + 1}行", "表头下方没有任何具体工作举措"))
    return ParsedLedger(spec=spec, problems=problems, preview=rows.preview, level_headers=rows.level_headers,
                        header_row=header.row)


def _level_numbers(header: Header, problems: list[PlanProblem]) -> list[int]:
    """The parent levels to read, up to a gap in the header's levels; problems for missing columns."""
    if "deadline" not in header.fields:
        problems.append(PlanProblem(f"第{header.row}行", "表头缺少“完成时限”列"))
    levels = header.levels
    level_numbers = sorted(levels)
    if level_numbers and level_numbers != list(range(1, len(level_numbers) + 1)):
        missing = [n for n in range(1, max(level_numbers)) if n not in levels]
        problems.append(PlanProblem(f"第{header.row}行", f"表头层级断档：缺少“{LEVEL_NAMES.get(missing[0], missing[0])}级任务”列"))
        level_numbers = [n for n in level_numbers if n < missing[0]]
    return level_numbers


def _plan_title(ws, title: Optional[str], header_row: int, problems: list[PlanProblem]) -> str:
    """The plan title: the option, else the first text of a row above the header."""
    plan_title = (title or "").strip()
    title_problem = text_problem(plan_title, single_line=True)
    if title_problem:
        problems.append(PlanProblem("计划名称", f"计划名称{title_problem}"))
        return ""
    if plan_title:
        return plan_title
    for r in range(1, header_row):
        for c in range(1, min(ws.max_column, MAX_COLUMNS) + 1):
            value = ws.cell(row=r, column=c).value
            if isinstance(value, str) and value.strip():
                break
        else:
            continue  # no text in this row
        found = clean_title(" ".join(normalise_newlines(value).split("\n")))
        problem = text_problem(found, single_line=True)
        if problem:
            problems.append(PlanProblem(where(r, c), f"标题{problem}"))
        elif found:
            return found
    return ""


class _RowReader:
    """The rows below the header, one at a time, into the plan tree of ``spec``.

    A parent cell is an explicit value, the value of a merged range, or carried down from the
    rows above (a blank below a value); each row under its parents is one measure."""

    def __init__(self, sheet: MergedSheet, header: Header, level_numbers: list[int], spec: PlanSpec,
                 problems: list[PlanProblem]):
        self.sheet, self.header, self.spec, self.problems = sheet, header, spec, problems
        self.fields = header.fields
        self.parent_cols = [header.levels[n] for n in level_numbers]
        self.level_headers = [header.level_labels[n] for n in level_numbers]
        self.measure_fields = [f for f in ("code", "title", "lead", "co", "deadline", "note") if f in self.fields]
        self.nodes: dict[tuple, NodeSpec] = {}
        self.prev_path: list[Optional[tuple]] = [None] * len(self.parent_cols)
        self.preview: list[PreviewRow] = []

    def read(self, r: int) -> None:
        own, own_value = self._measure_cells(r)
        parent_raw, parent_value = self._parent_cells(r)
        if not (own_value or parent_value) and not own.get("title"):
            return  # a blank row (or only the tail of merged parent cells)
        path, gap_at = self._parent_path(parent_raw)
        if gap_at is not None:
            self.problems.append(PlanProblem(where(r, self.parent_cols[gap_at - 1]),
                                             f"层级断档：有{self.level_headers[gap_at]}但缺少{self.level_headers[gap_at - 1]}"))
        if self.parent_cols and path[0] is None and gap_at is None:
            self.problems.append(PlanProblem(where(r, self.parent_cols[0]), f"缺少上级任务（{self.level_headers[0]}为空）"))
        self.prev_path = path
        measure = self._measure(r, own)
        parent_key = next((k for k in reversed(path) if k is not None), None)
        if gap_at is None and parent_key is not None:
            self.nodes[parent_key].children.append(measure)
        elif not self.parent_cols:
            self.spec.tasks.append(measure)
        if len(self.preview) < PREVIEW_ROWS:
            self.preview.append(PreviewRow(
                row=r, code=measure.code, parents=[self.nodes[k].title if k is not None else "" for k in path],
                title=measure.title, lead="、".join(measure.lead), co="、".join(measure.co),
                deadline=measure.deadline_text or "",
            ))

    def _measure_cells(self, r: int) -> tuple[dict[str, str], bool]:
        """The measure's own fields of row ``r``, and whether the row holds a value of its own."""
        own: dict[str, str] = {}
        any_own_value = False
        for f in self.measure_fields:
            cell, origin, continued = self.sheet.cell(r, self.fields[f])
            # A measure field merged over several rows: each row shares the value (reported once).
            text = cell_text(cell, where(*origin), [] if continued else self.problems, allow_date=(f == "deadline"))
            if f == "deadline":
                # A ledger exported by the tracker writes "原时限 → 延至 YYYY-MM-DD": the plan keeps
                # the original text; the extension is not imported (it lives in the task history).
                text = split_extended(text)[0]
            own[f] = text
            if text and not continued:
                any_own_value = True
        return own, any_own_value

    def _parent_cells(self, r: int) -> tuple[list[tuple[str, tuple[int, int], bool]], bool]:
        """(text, origin, continued) of each parent cell of row ``r``, and whether one starts here."""
        parent_raw: list[tuple[str, tuple[int, int], bool]] = []
        any_own_value = False
        for c in self.parent_cols:
            cell, origin, continued = self.sheet.cell(r, c)
            text = cell_text(cell, where(*origin), self.problems if origin[0] == r else [])
            parent_raw.append((text, origin, continued))
            if text and not continued:
                any_own_value = True
        return parent_raw, any_own_value

    def _parent_path(self, parent_raw) -> tuple[list[Optional[tuple]], Optional[int]]:
        """The row's parent keys (explicit, merged or carried down) and the first level gap, if any."""
        path: list[Optional[tuple]] = []
        gap_at: Optional[int] = None
        for i, (text, origin, _continued) in enumerate(parent_raw):
            above = tuple(path)
            text = without_continued(text)
            if not text:
                path.append(self.prev_path[i] if tuple(self.prev_path[:i]) == above else None)
                continue
            if i > 0 and path[i - 1] is None and gap_at is None:
                gap_at = i
            key = (path[i - 1] if i > 0 else None, text)
            path.append(key)
            if key not in self.nodes:
                self._add_parent(key, text, origin, i)
        return path, gap_at

    def _add_parent(self, key: tuple, text: str, origin: tuple[int, int], level_index: int) -> None:
        code, ptitle, attrs = split_parent_text(text)
        loc = where(*origin)
        node = NodeSpec(code=code, title=ptitle, lead=split_units(attrs.get("lead")),
                        co=split_units(attrs.get("co")), deadline_text=attrs.get("deadline") or None,
                        where=loc, cells={k: loc for k in ("title", "lead", "co", "deadline")})
        self.nodes[key] = node
        if level_index == 0:
            self.spec.tasks.append(node)
        elif key[0] is not None:
            self.nodes[key[0]].children.append(node)
        # else: a level gap, reported by ``read``; the node stays unattached.

    def _measure(self, r: int, own: dict[str, str]) -> NodeSpec:
        loc = {f: where(r, self.fields[f]) for f in self.measure_fields}
        lead, co = split_units(own.get("lead")), split_units(own.get("co"))
        if self.header.responsible_only:
            lead, co = lead[:1], lead[1:]
            if "lead" in loc:
                loc["co"] = loc["lead"]
        measure = NodeSpec(code=own.get("code", ""), title=own.get("title", ""), lead=lead, co=co,
                           deadline_text=own.get("deadline") or None, description=own.get("note", ""),
                           where=f"第{r}行", cells=loc)
        if not measure.title:
            self.problems.append(PlanProblem(loc.get("title", f"第{r}行"), "缺少具体工作举措"))
        return measure


def _row_key(problem: PlanProblem) -> int:
    m = _ROW_OF.search(problem.where or "")
    return int(m.group(1)) if m else 0


def check_plan(parsed: ParsedLedger, resolver: UnitResolver, *, replace: bool) -> list[PlanProblem]:
    """Reading problems plus validate_plan's, sorted by row; and a duplicate title unless replacing."""
    problems = list(parsed.problems)
    seen = {(p.where, p.message) for p in problems}
    for p in validate_plan(parsed.spec, resolver):
        if (p.where, p.message) not in seen and not (p.message == "计划中没有任何任务" and problems):
            if p.message == "缺少计划名称" and any("计划名称" in q.message for q in problems):
                continue
            problems.append(p)
            seen.add((p.where, p.message))
    if parsed.spec.title and not replace:
        exists = db.session.execute(select(Plan.id).where(Plan.title == parsed.spec.title)).first()
        if exists:
            problems.append(PlanProblem("标题", f"已存在同名计划“{parsed.spec.title}”（可改用其他名称，或选择替换同名计划）"))
    problems.sort(key=_row_key)
    return problems


def import_plan_file(data: bytes, actor: Optional[User], *, dry_run: bool, create_units: bool = False,
                     title: Optional[str] = None, replace: bool = False, filename: str = "",
                     max_bytes: int = DEFAULT_MAX_BYTES, mapping: Optional[dict[str, list[str]]] = None) -> ImportReport:
    """Dry-run or import a ledger file. Writes nothing unless there is no problem and not ``dry_run``."""
    try:
        parsed = read_ledger(data, title, max_bytes=max_bytes)
    except ReadError as exc:
        return ImportReport(title=title or "", problems=[PlanProblem(filename, str(exc))], dry_run=dry_run)
    resolver = UnitResolver(create_missing=create_units, mapping=mapping)
    problems = check_plan(parsed, resolver, replace=replace)
    report = ImportReport(title=parsed.spec.title, problems=problems, counts=count_spec(parsed.spec),
                          preview=parsed.preview, level_headers=parsed.level_headers, dry_run=dry_run)
    unknown = sorted({name for name in _all_unit_names(parsed.spec) if resolver.is_new(name)})
    report.created_units = unknown if create_units else []
    if problems or dry_run:
        db.session.rollback()
        return report
    try:
        plan = create_plan(parsed.spec, resolver, replace=replace)
        for unit in resolver.created:
            audit.record("unit_create", actor, target_type="unit", detail=f"导入计划时新建单位：{unit.full_name}",
                         username="" if actor else "cli")
        db.session.flush()
        audit.record("import_plan", actor, target_type="plan", target_id=plan.id,
                     detail=f"{filename}：{plan.title}；{report.counts}" + ("（替换同名计划）" if replace else ""),
                     username="" if actor else "cli")
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    report.plan_id = plan.id
    return report


def _all_unit_names(spec: PlanSpec) -> set[str]:
    names: set[str] = set()
    stack = list(spec.tasks)
    while stack:
        node = stack.pop()
        names.update(node.lead)
        names.update(node.co)
        stack.extend(node.children)
    return names

