"""Issue 9: a small workbook that claims a huge sheet is refused before openpyxl expands anything.

A 5 KB file with ``<mergeCell ref="A10:XFD50000"/>`` used to take the dry run past 4.8 GB; now the sheet
XML is counted first (tracker/spreadsheets/limits.py) and the CLI and the admin page refuse it with the
limit named, and nothing is written. Hostile cell text is a problem naming the cell.
"""
from __future__ import annotations

import re
import zipfile
from io import BytesIO

import pytest

from tests.test_import import ROWS, make_xlsx
from tests.test_routes_login import logged_in
from tracker.spreadsheets import limits


def with_sheet_xml(data: bytes, change) -> bytes:
    """The workbook with its first worksheet's XML passed through ``change``."""
    source = zipfile.ZipFile(BytesIO(data))
    out = BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                content = change(content.decode("utf-8")).encode("utf-8")
            target.writestr(info, content)
    return out.getvalue()


def merge_bomb(ref: str = "A10:XFD50000") -> bytes:
    def add_merge(xml: str) -> str:
        xml = re.sub(r"<mergeCells.*?</mergeCells>", "", xml, flags=re.S)
        return xml.replace("</sheetData>", f'</sheetData><mergeCells count="1"><mergeCell ref="{ref}"/></mergeCells>')
    return with_sheet_xml(make_xlsx(), add_merge)


@pytest.mark.parametrize("ref, named", [
    ("A10:XFD50000", "列数过多"),
    ("A10:A30000", "行数过多"),
    ("A10:GR5000", "合并单元格覆盖的单元格过多"),
])
def test_merge_bomb_is_refused_by_the_cli_dry_run(seeded, tmp_path, ref, named):
    data = merge_bomb(ref)
    assert len(data) < 8_000
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(data)
    result = seeded.test_cli_runner().invoke(args=["import-plan", str(path), "--dry-run"])
    assert result.exit_code == 1
    assert result.output.startswith("错误：") and named in result.output and "上限" in result.output, result.output


def test_merge_bomb_is_refused_by_the_admin_page(seeded):
    client = logged_in(seeded, "admin")
    r = client.post("/import", data={"file": (BytesIO(merge_bomb()), "bomb.xlsx")}, content_type="multipart/form-data")
    assert r.status_code == 422
    assert "列数过多" in r.get_data(as_text=True)


def test_too_many_cells_and_merged_ranges(seeded, tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_CELLS", 20)
    path = tmp_path / "cells.xlsx"
    path.write_bytes(make_xlsx())
    result = seeded.test_cli_runner().invoke(args=["import-plan", str(path), "--dry-run"])
    assert result.exit_code == 1 and "单元格过多" in result.output
    monkeypatch.setattr(limits, "MAX_CELLS", 300_000)
    monkeypatch.setattr(limits, "MAX_MERGED_RANGES", 1)
    result = seeded.test_cli_runner().invoke(args=["import-plan", str(path), "--dry-run"])
    assert result.exit_code == 1 and "合并单元格区域过多" in result.output
    monkeypatch.setattr(limits, "MAX_MERGED_RANGES", 20_000)
    result = seeded.test_cli_runner().invoke(args=["import-plan", str(path), "--dry-run"])
    assert result.exit_code == 0, result.output


def test_control_characters_in_cells_name_the_cell(seeded, tmp_path):
    """A control character XML can carry (DEL, C1) in a cell: a problem at 第N行 X列, nothing written."""
    rows = [list(r) for r in ROWS]
    rows[0][3] = "举措\x7f甲"
    rows[2][4] = "区交\x85通局"
    data = make_xlsx(rows)
    path = tmp_path / "ctl.xlsx"
    path.write_bytes(data)
    result = seeded.test_cli_runner().invoke(args=["import-plan", str(path), "--dry-run"])
    assert result.exit_code == 1
    assert "第3行 D列" in result.output and "第5行 E列" in result.output and "U+007F" in result.output, result.output


def test_unit_name_with_a_line_break_is_refused_everywhere(seeded, tmp_path):
    """Admin form (single-line rule), CLI create-user display name, import title option."""
    client = logged_in(seeded, "admin")
    r = client.post("/admin/units/new", data={"full_name": "新单位\r\nBcc: x@evil.example", "short_name": "新单位",
                                              "kind": "区直部门"})
    assert r.status_code == 422 and "单位全称不能包含换行" in r.get_data(as_text=True)
    result = seeded.test_cli_runner().invoke(args=["create-user", "u1", "--role", "viewer", "--name", "甲\n乙"],
                                             input="long-enough-1\n")
    assert result.exit_code == 1 and "显示名称不能包含换行" in result.output
    path = tmp_path / "t.xlsx"
    path.write_bytes(make_xlsx())
    result = seeded.test_cli_runner().invoke(args=["import-plan", str(path), "--dry-run", "--title", "计划\r\n名称"])
    assert result.exit_code == 1 and "计划名称不能包含换行" in result.output
