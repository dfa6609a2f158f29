"""Excel export of the ledger: layout, merges, header, print setup, filters, text safety."""
import re
from io import BytesIO

from openpyxl import load_workbook
from sqlalchemy import select

from tracker.extensions import db
from tracker.models import Task

from .conftest import TODAY

HEADER = ["序号", "一级任务", "二级任务", "具体工作举措", "牵头单位", "配合单位", "完成时限", "状态", "进度", "最新进展", "预警"]


def _export(runner, tmp_path, *args):
    path = tmp_path / "ledger.xlsx"
    result = runner.invoke(args=["export-ledger", str(path), "--today", TODAY.isoformat(), *args])
    return result, path


def test_export_seeded_plan_layout(seeded, runner, tmp_path):
    result, path = _export(runner, tmp_path)
    assert result.exit_code == 0, result.output
    assert "92" in result.output
    ws = load_workbook(path).active
    assert "实施方案" in ws["A1"].value and TODAY.isoformat() in ws["A1"].value
    assert [c.value for c in ws[2]] == HEADER
    measure_rows = [r for r in range(3, ws.max_row + 1) if ws.cell(row=r, column=4).value]
    assert len(measure_rows) == 92 and measure_rows == list(range(3, 95))
    # Parent cells merged vertically over their measures; together they cover every row once.
    for col, letter, count in ((2, "B", 20), (3, "C", 63)):
        ranges = [m for m in ws.merged_cells.ranges if m.min_col == col]
        assert all(m.max_col == col for m in ranges)
        covered = sorted(r for m in ranges for r in range(m.min_row, m.max_row + 1))
        assert len(covered) == len(set(covered))
        starts = [r for r in range(3, 95) if ws.cell(row=r, column=col).value]
        # A group that continues on the next page repeats its label there, marked （续）.
        assert len([r for r in starts if "（续）" not in ws.cell(row=r, column=col).value]) == count
        breaks = {b.id + 1 for b in ws.row_breaks.brk}
        assert all(r in breaks for r in starts if "（续）" in ws.cell(row=r, column=col).value)
        for m in ranges:
            assert m.min_row in starts
    assert ws["B3"].value.startswith("一、着力提高政治能力")
    assert "牵头单位：区司法局" in ws["B3"].value
    assert ws.freeze_panes == "A3"
    assert ws.print_title_rows == "$1:$2"
    assert int(ws.page_setup.paperSize) == 8  # A3
    assert ws.page_setup.orientation == "landscape"
    assert ws.page_setup.fitToWidth == 1 and ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws["D3"].alignment.wrap_text
    assert ws.column_dimensions["D"].width >= 30
    # Percent is a number formatted as a percentage; the light cell is coloured.
    assert isinstance(ws["I3"].value, (int, float)) and ws["I3"].number_format == "0%"
    fills = {ws.cell(row=r, column=11).value.split("（")[0]: ws.cell(row=r, column=11).fill.fgColor.rgb
             for r in measure_rows}
    assert fills.get("逾期", "00F8CBAD").endswith("F8CBAD")
    assert all(rgb != "00000000" for rgb in fills.values())


def test_export_writes_formula_like_text_as_text(seeded, runner, tmp_path):
    with seeded.app_context():
        task = db.session.execute(select(Task).where(Task.is_leaf).order_by(Task.id)).scalars().first()
        task.title = "=HYPERLINK(\"http://evil\",\"x\")"
        task.latest_progress = "<script>alert(1)</script>\x07"
        db.session.commit()
    result, path = _export(runner, tmp_path)
    assert result.exit_code == 0, result.output
    ws = load_workbook(path).active
    cell = ws["D3"]
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK")
    assert ws["J3"].value == "<script>alert(1)</script>"


def test_export_bad_plan_and_today(seeded, runner, tmp_path):
    result, _ = _export(runner, tmp_path, "--plan", "999")
    assert result.exit_code != 0 and "未找到该计划" in result.output
    result = runner.invoke(args=["export-ledger", str(tmp_path / "x.xlsx"), "--today", "2024-13-01"])
    assert result.exit_code != 0 and "错误" in result.output


def _ledger_count(client, query):
    html = client.get("/ledger" + query).get_data(as_text=True)
    return int(re.search(r"共 (\d+) 项具体举措", html).group(1))


def test_download_matches_filtered_ledger(seeded, client, auth):
    auth.login("admin")
    html = client.get(f"/ledger?light=red&today={TODAY}").get_data(as_text=True)
    assert "/ledger/export.xlsx?" in html and "light=red" in html
    for query in (f"?today={TODAY}", f"?light=red&today={TODAY}", f"?unit=区司法局&today={TODAY}",
                  f"?q=执法&status=not_started&today={TODAY}"):
        expected = _ledger_count(client, query)
        response = client.get("/ledger/export.xlsx" + query)
        assert response.status_code == 200
        assert response.mimetype.endswith("spreadsheetml.sheet")
        ws = load_workbook(BytesIO(response.data)).active
        rows = [r for r in range(3, ws.max_row + 1) if ws.cell(row=r, column=4).value]
        assert len(rows) == expected, query
    ws = load_workbook(BytesIO(client.get(f"/ledger/export.xlsx?light=red&today={TODAY}").data)).active
    assert "筛选：预警 逾期" in ws["A1"].value
    assert all(ws.cell(row=r, column=11).value.startswith("逾期") for r in range(3, ws.max_row + 1)
               if ws.cell(row=r, column=4).value)


def test_unit_user_export_has_only_own_measures(seeded, client, auth):
    auth.login("sfj")
    ledger_rows = _ledger_count(client, f"?today={TODAY}")
    ws = load_workbook(BytesIO(client.get(f"/ledger/export.xlsx?today={TODAY}").data)).active
    rows = [r for r in range(3, ws.max_row + 1) if ws.cell(row=r, column=4).value]
    assert 0 < len(rows) == ledger_rows < 92
    assert all("区司法局" in (ws.cell(row=r, column=5).value or "") + (ws.cell(row=r, column=6).value or "")
               for r in rows)


def test_export_bad_filter_is_not_500(seeded, client, auth):
    auth.login("admin")
    assert client.get("/ledger/export.xlsx?light=purple").status_code == 422
    assert client.get("/ledger/export.xlsx?plan=abc").status_code == 422
    assert client.get("/ledger/export.xlsx?plan=999").status_code == 404
