"""The assessment as .xlsx. All spreadsheet writing of this capability is ``write_sheet`` (it uses the
ledger export's string-cell writer, so text starting with ``=`` stays text)."""
from __future__ import annotations

from io import BytesIO

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

from ..plans.excel_export import _text
from .assessment import Assessment

HEADERS = [("名次", 6), ("单位", 22), ("类别", 10), ("牵头举措", 9), ("完成", 7), ("按期完成", 9), ("按期完成率", 10),
           ("逾期", 7), ("逾期天数", 9), ("应报", 7), ("已报", 7), ("按时报送", 9), ("按时报送率", 10), ("未报送", 8),
           ("退回", 7), ("延期申请", 9), ("获批延期", 9), ("得分", 8)]


def write_sheet(title: str, caption: str, headers: list[tuple[str, int]], rows: list[list], notes: list[str]) -> bytes:
    """One sheet: caption row, header row, data rows (str as text cells, numbers as numbers), notes."""
    wb = Workbook()
    ws = wb.active
    ws.title = title[:31]
    _text(ws, 1, 1, caption).font = Font(bold=True, size=14)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headers))
    for col, (name, width) in enumerate(headers, start=1):
        cell = _text(ws, 2, col, name)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
        cell.alignment = Alignment(horizontal="center", wrap_text=True)
        ws.column_dimensions[cell.column_letter].width = width
    for r, values in enumerate(rows, start=3):
        for c, value in enumerate(values, start=1):
            if isinstance(value, str):
                _text(ws, r, c, value)
            else:
                ws.cell(row=r, column=c, value=value)
    for i, note in enumerate(notes, start=len(rows) + 4):
        _text(ws, i, 1, note)
    ws.freeze_panes = "A3"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    out = BytesIO()
    wb.save(out)
    return out.getvalue()


def _rate(value):
    return None if value is None else round(value, 4)


def assessment_xlsx(result: Assessment, plan_title: str) -> bytes:
    rows = [[r.rank, r.unit, r.kind, r.measures, r.completed, r.completed_on_time, _rate(r.on_time_rate), r.overdue,
             r.overdue_days, r.reports_due, r.reports_filed, r.reports_on_time, _rate(r.reporting_rate),
             r.reports_missing, r.returns, r.extensions_requested, r.extensions_granted, r.score]
            for r in result.units]
    caption = f"{plan_title} {result.period.title}考核情况（统计至 {result.asof.isoformat()}）"
    return write_sheet("考核", caption, HEADERS, rows, ["计分方法：" + result.weights.formula()])
