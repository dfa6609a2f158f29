"""Export of the ledger (工作台账) to .xlsx in the layout of SPEC 2.5.

The workbook shows exactly the rows ``build_ledger`` gives for a (filtered)
plan view: one row per measure, parent cells merged vertically over their
measures, a title row with the plan and the as-of date, a frozen header row,
light colours, and an A3-landscape print setup. Every text cell is written as
a string cell, so text starting with ``=`` never becomes a formula.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from io import BytesIO
from typing import Optional

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side
from openpyxl.utils import get_column_letter

from ..models import Plan, Task
from ..rules.lights import LIGHT_LABELS, NodeState
from ..rules.status import status_label
from ..spreadsheets.print_layout import FONT_NAME, FONT_SIZE, Merge, PrintLayout
from ..spreadsheets.writer import text_cell
from .ledger import LedgerTable, ParentCell, unit_names

# Column layout after the parent levels; (header, width in characters).
MEASURE_COLUMNS = [
    ("具体工作举措", 46),
    ("牵头单位", 16),
    ("配合单位", 20),
    ("完成时限", 14),
    ("状态", 9),
    ("进度", 8),
    ("最新进展", 36),
    ("预警", 12),
]
PARENT_WIDTH = 24
CODE_WIDTH = 6
TITLE_SUFFIX = "工作台账"

LIGHT_FILLS = {
    "red": "F8CBAD",
    "yellow": "FFE699",
    "green": "C6E0B4",
    "done": "D9D9D9",
}
HEADER_FILL = "DDEBF7"
THIN = Side(style="thin", color="808080")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
WRAP_TOP = Alignment(wrap_text=True, vertical="top")
WRAP_CENTER = Alignment(wrap_text=True, vertical="center", horizontal="center")

@dataclass
class ExportInfo:
    title: str
    today: date
    filter_note: str = ""


SPAN_KEYWORD = "计划期限:"


def sheet_title(plan: Plan, today: date) -> str:
    """The title row: the plan and the as-of date (the import reads the plan title back from it)."""
    return f"{plan.title}{TITLE_SUFFIX}（截至{today.isoformat()}）"


def parent_head(code: str, title: str) -> str:
    """``九、标题`` / ``（三）标题``: how the ledger writes a task's number and title."""
    code = (code or "").strip()
    if not code:
        return title
    if code.startswith(("（", "(")) or code.endswith(("、", ".", "．")):
        return f"{code}{title}"
    return f"{code}、{title}"


def parent_text(task: Task) -> str:
    """A parent cell: ``一、标题`` / ``（三）标题`` and, when it has units, a second line naming them."""
    head = parent_head(task.code, task.title)
    parts = []
    lead, co = unit_names(task, "lead"), unit_names(task, "co")
    if lead:
        parts.append(f"牵头单位：{lead}")
    if co:
        parts.append(f"配合单位：{co}")
    if task.deadline_text:
        parts.append(f"完成时限：{task.deadline_text}")
    return head + ("\n" + "；".join(parts) if parts else "")


def _text(ws, row: int, col: int, value: str, style: str | None = None):
    """A string cell, never a formula (spreadsheets/writer.py)."""
    return text_cell(ws, row, col, value, style)


def ledger_workbook(plan: Plan, table: LedgerTable, today: date, *, filter_note: str = "") -> Workbook:
    wb = Workbook()
    ws = wb.active
    ws.title = "工作台账"
    headers = [("序号", CODE_WIDTH)] + [(h, PARENT_WIDTH) for h in table.level_headers] + MEASURE_COLUMNS
    first_measure_col = 2 + len(table.level_headers)
    title = sheet_title(plan, today)
    _title_row(ws, title + (f"  筛选：{filter_note}" if filter_note else ""), len(headers))
    styles = _LedgerStyles.add_to(wb)

    # Row 2: header.
    header_row = 2
    for col, (label, width) in enumerate(headers, start=1):
        _text(ws, header_row, col, label, styles.header)
        ws.column_dimensions[get_column_letter(col)].width = width

    merges: list[Merge] = []
    r = header_row
    for row in table.rows:
        r += 1
        merges += _measure_row(ws, r, row, styles, first_measure_col)

    # Row heights from the text, page breaks for A3 fitted to the width, parent cells merged per
    # page (their label repeated where a group continues), titles and page numbers on every page.
    # build_ledger's spans never overlap, so the layout adds the merged ranges directly.
    ws.freeze_panes = ws.cell(row=header_row + 1, column=1)
    PrintLayout(ws, [w for _, w in headers], (1, header_row), header_row + 1, r, merges).apply()
    wb.properties.title = title
    wb.properties.creator = "行动计划督办台账"
    if plan.start_date and plan.end_date:  # read back by the import: recurring measures' periods
        wb.properties.keywords = f"{SPAN_KEYWORD}{plan.start_date.isoformat()}/{plan.end_date.isoformat()}"
    return wb


def _title_row(ws, text: str, ncols: int) -> None:
    """Row 1: the plan and the as-of date (and the filter, if any), merged across the table."""
    cell = _text(ws, 1, 1, text)
    cell.font = Font(name=FONT_NAME, bold=True, size=14)
    cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=ncols)
    ws.row_dimensions[1].height = 30


@dataclass
class _LedgerStyles:
    """Named styles: one assignment per cell (fast for 10,000-row ledgers)."""

    header: str
    body: str
    center: str
    code: str
    percent: str
    lights: dict[str, str]

    @classmethod
    def add_to(cls, wb: Workbook) -> "_LedgerStyles":
        def named(name: str, alignment: Alignment, **extra) -> str:
            extra.setdefault("font", Font(name=FONT_NAME, size=FONT_SIZE))
            wb.add_named_style(NamedStyle(name=name, border=BORDER, alignment=alignment, **extra))
            return name

        return cls(
            header=named("台账表头", WRAP_CENTER, font=Font(name=FONT_NAME, size=FONT_SIZE, bold=True),
                         fill=PatternFill("solid", fgColor=HEADER_FILL)),
            body=named("台账正文", WRAP_TOP),
            center=named("台账居中", WRAP_CENTER),
            code=named("台账序号", Alignment(horizontal="center", vertical="top", wrap_text=True)),
            percent=named("台账进度", WRAP_CENTER, number_format="0%"),
            lights={light: named(f"台账预警{light}", WRAP_CENTER, fill=PatternFill("solid", fgColor=rgb))
                    for light, rgb in LIGHT_FILLS.items()},
        )


def _measure_row(ws, r: int, row, styles: _LedgerStyles, col: int) -> list[Merge]:
    """One measure's row: its number, parent cells (merged downwards), then from column ``col`` its fields."""
    m: Task = row.measure
    state: NodeState = row.state
    merges: list[Merge] = []
    _text(ws, r, 1, m.code or "", styles.code)
    for level, cell_value in enumerate(row.parents, start=1):
        parent_col = 1 + level
        if isinstance(cell_value, ParentCell):
            _text(ws, r, parent_col, parent_text(cell_value.task), styles.body)
            if cell_value.rowspan > 1:
                merges.append(Merge(r, parent_col, r + cell_value.rowspan - 1))
        elif cell_value == "":
            ws.cell(row=r, column=parent_col).style = styles.body
    _text(ws, r, col, m.title, styles.body)
    _text(ws, r, col + 1, unit_names(m, "lead"), styles.body)
    _text(ws, r, col + 2, unit_names(m, "co"), styles.body)
    _text(ws, r, col + 3, m.deadline_label or "", styles.center)
    _text(ws, r, col + 4, status_label(m.status, m.is_ongoing), styles.center)
    pct = ws.cell(row=r, column=col + 5, value=round(state.percent / 100.0, 4))
    pct.style = styles.percent
    _text(ws, r, col + 6, m.latest_progress or "", styles.body)
    label = LIGHT_LABELS.get(state.light, state.light)
    if state.overdue_days:
        label += f"（{state.overdue_days}天）"
    elif state.reason and state.light == "yellow":
        label += f"（{state.reason}）"
    _text(ws, r, col + 7, label, styles.lights.get(state.light, styles.lights["done"]))
    return merges


def ledger_xlsx_bytes(plan: Plan, table: LedgerTable, today: date, *, filter_note: str = "") -> bytes:
    buffer = BytesIO()
    ledger_workbook(plan, table, today, filter_note=filter_note).save(buffer)
    return buffer.getvalue()


def export_filename(plan: Plan, today: date, filter_note: str = "") -> str:
    """``工作台账-一级任务 3，状态 推进中-2024-07-15.xlsx`` (no characters a file system refuses)."""
    note = "".join("-" if ch in '\\/:*?"<>|\n\r\t' else ch for ch in filter_note)[:60]
    return f"工作台账-{note + '-' if note else ''}{today.isoformat()}.xlsx"


def content_disposition(filename: str, ascii_name: str) -> str:
    """``attachment`` with a readable ASCII fallback and the UTF-8 name (RFC 6266 / 5987)."""
    from urllib.parse import quote

    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"



class _ReadAll:
    """A reader who sees every task (CLI export)."""

    can_read_all = True
    unit_id = None


def export_plan_ledger(path, plan_id: Optional[int], today: date, config) -> int:
    """Write the whole ledger of a plan to ``path``; returns the number of measure rows."""
    from ..rules.lights import LightRules
    from .access import get_plan
    from .ledger import build_ledger
    from .view import load_plan_view

    plan = get_plan(plan_id)
    view = load_plan_view(plan, _ReadAll(), today, LightRules.from_config(config))
    table = build_ledger(view, view.tasks)
    data = ledger_xlsx_bytes(plan, table, today)
    from ..files import open_private

    with open_private(path) as fh:  # 0600: the ledger is for the service user (or whoever ran the export)
        fh.write(data)
    return len(table.rows)
