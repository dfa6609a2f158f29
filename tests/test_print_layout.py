"""Issue 14, point 10: the exports print on A3 with nothing cut.

Checks the workbook settings (row heights from the text, widths, merged parent cells split and
labelled where a group continues on a new page, repeated titles, 第N页 共M页, fit to width, the filter
in the title and file name, a named font) and, where LibreOffice Calc is installed, converts each
export to PDF and checks the page size and count.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from io import BytesIO
from pathlib import Path
from urllib.parse import unquote

import pytest
from openpyxl import load_workbook

from tracker.spreadsheets.print_layout import FONT_NAME, column_px, needed_height

T = "today=2024-07-01"
A3_LANDSCAPE = (1190.55, 841.89)


def _wb(client, url):
    r = client.get(url)
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    return r, load_workbook(BytesIO(r.data)).active


def _check_rows_fit(ws, first_row):
    """Every row has an explicit height at least what its text needs; merged cells too."""
    widths = {c: ws.column_dimensions[chr(64 + c)].width for c in range(1, ws.max_column + 1)}
    merged = {}
    for m in ws.merged_cells.ranges:
        if m.min_row >= first_row:
            merged[(m.min_row, m.min_col)] = m.max_row
    covered = {(r, c) for (top, c), bottom in merged.items() for r in range(top, bottom + 1)}
    for r in range(first_row, ws.max_row + 1):
        height = ws.row_dimensions[r].height
        assert height, f"row {r} has no explicit height"
        for c in range(1, ws.max_column + 1):
            if (r, c) in covered:
                continue
            text = str(ws.cell(row=r, column=c).value or "")
            assert height + 0.2 >= needed_height(text, column_px(widths[c])), (r, c, text[:30])
    for (top, c), bottom in merged.items():
        total = sum(ws.row_dimensions[r].height for r in range(top, bottom + 1))
        text = str(ws.cell(row=top, column=c).value or "")
        assert total + 0.5 >= needed_height(text, column_px(widths[c])), (top, c, text[:30])


def _check_print_setup(ws):
    assert int(ws.page_setup.paperSize) == 8 and ws.page_setup.orientation == "landscape"
    assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.print_title_rows == "$1:$2"  # the title and the header on every page
    assert "&P" in ws.oddFooter.center.text and "&N" in ws.oddFooter.center.text
    assert "第" in ws.oddFooter.center.text and "共" in ws.oddFooter.center.text
    assert ws["A3"].font.name == FONT_NAME and ws["A1"].font.name == FONT_NAME


def test_ledger_export_print_layout(seeded, client, auth):
    auth.login("admin")
    r, ws = _wb(client, f"/ledger/export.xlsx?{T}")
    _check_print_setup(ws)
    _check_rows_fit(ws, 3)
    breaks = [b.id for b in ws.row_breaks.brk]
    assert breaks, "a 92-measure ledger needs several A3 pages"
    # Where a page starts inside a group, its parent cells start again there and say （续）.
    for b in breaks:
        first = ws.cell(row=b + 1, column=2).value
        assert first, f"row {b + 1} starts a page without its first-level task"
        above = {m for m in ws.merged_cells.ranges if m.min_col == 2 and m.min_row <= b < m.max_row}
        assert not above, "a merged cell crosses a page break"
    continued = [r for r in range(3, ws.max_row + 1) if "（续）" in str(ws.cell(row=r, column=2).value or "")]
    assert set(continued) <= {b + 1 for b in breaks}


def test_filtered_exports_say_so_in_title_and_file_name(seeded, client, auth):
    auth.login("admin")
    r, ws = _wb(client, f"/ledger/export.xlsx?{T}&unit=区司法局&light=red")
    disposition = r.headers["Content-Disposition"]
    name = unquote(re.search(r"filename\*=UTF-8''(\S+)", disposition).group(1))
    assert "单位 区司法局" in name and "逾期" in name and name.endswith("2024-07-01.xlsx")
    assert 'filename="ledger-filtered-2024-07-01.xlsx"' in disposition  # a readable ASCII fallback
    assert "筛选：单位 区司法局" in ws["A1"].value
    r, ws = _wb(client, f"/overdue/export.xlsx?{T}&min_days=100")
    name = unquote(re.search(r"filename\*=UTF-8''(\S+)", r.headers["Content-Disposition"]).group(1))
    assert name.startswith("逾期清单-逾期 100 天以上")
    assert "实施方案" in ws["A1"].value and "筛选：逾期 100 天以上" in ws["A1"].value


def test_overdue_export_print_layout_and_task_labels(seeded, client, auth):
    auth.login("admin")
    _r, ws = _wb(client, f"/overdue/export.xlsx?{T}")
    _check_print_setup(ws)
    _check_rows_fit(ws, 3)
    assert ws["C2"].value == "一级任务"  # one plan: its title is in the title row, no plan column
    roots = [ws.cell(row=r, column=3).value for r in range(3, ws.max_row + 1)]
    assert roots and all(re.match(r"^[一二三四五六七八九十]+、", v) for v in roots), roots[:3]


# --- rendering with LibreOffice -----------------------------------------------------------------

def _soffice_calc() -> str | None:
    exe = shutil.which("soffice")
    if not exe:
        return None
    program = Path(exe).resolve().parent
    if not any((program / name).exists() for name in ("libsclo.so", "libsc.so")) and not list(
            program.glob("libsc*.so")):
        return None
    return exe


def _pdf_pages(pdf: bytes) -> tuple[int, set]:
    pages = len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf))
    boxes = {tuple(round(float(x)) for x in box.split()[2:4]) for box in re.findall(rb"/MediaBox\s*\[([^\]]*)\]", pdf)}
    return pages, boxes


@pytest.mark.parametrize("url, most_pages", [(f"/ledger/export.xlsx?{T}", 12), (f"/overdue/export.xlsx?{T}", 4),
                                             (f"/overdue/export.xlsx?{T}&min_days=200", 1)])
def test_exports_render_on_a3_pages(seeded, client, auth, tmp_path, url, most_pages):
    exe = _soffice_calc()
    if exe is None:
        pytest.skip("LibreOffice Calc is not installed (apt-get install libreoffice-calc-nogui)")
    auth.login("admin")
    r, ws = _wb(client, url)
    src = tmp_path / "export.xlsx"
    src.write_bytes(r.data)
    result = subprocess.run([exe, f"-env:UserInstallation=file://{tmp_path}/profile", "--headless",
                             "--convert-to", "pdf", "--outdir", str(tmp_path), str(src)],
                            capture_output=True, text=True, timeout=240, env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
    pdf_path = tmp_path / "export.pdf"
    assert pdf_path.exists(), result.stdout + result.stderr
    pages, boxes = _pdf_pages(pdf_path.read_bytes())
    assert boxes == {(1191, 842)}, boxes  # A3 landscape, every page
    expected = len(ws.row_breaks.brk) + 1
    assert pages == expected and pages <= most_pages, (pages, expected)
