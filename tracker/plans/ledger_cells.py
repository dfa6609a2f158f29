"""Reading a ledger sheet's cells: merged ranges seen through, cell values as text (formulas and stray dates
refused, naming the cell), parent labels split into number, title and units.

Used by ``excel_import.read_ledger``; where the columns are is ``ledger_layout``'s business.
"""
from __future__ import annotations

import re
from datetime import date, datetime, time

from openpyxl.utils import get_column_letter

from ..validation import normalise_newlines, text_problem
from .service import PlanProblem

_PARENT_CODE = re.compile(r"^\s*((?:（[^）\n]{1,8}）)|(?:\([^)\n]{1,8}\))|(?:[一二三四五六七八九十百零〇]+|\d+(?:\.\d+)*)[、.．])\s*(.*)$", re.S)
_PARENT_ATTR = re.compile(r"(牵头单位|配合单位|完成时限)[:：]")
_TITLE_SUFFIXES = (re.compile(r"\s*筛选[:：].*$"), re.compile(r"\s*[（(]截至[^）)]*[）)]\s*$"), re.compile(r"工作台账\s*$"))


def where(row: int, col: int) -> str:
    return f"第{row}行 {get_column_letter(col)}列"


def clean_title(text: str) -> str:
    title = text.strip()
    for pattern in _TITLE_SUFFIXES:
        title = pattern.sub("", title).strip()
    return title


def without_continued(text: str) -> str:
    """A parent label repeated on a new printed page (``四、标题（续）``) is the same parent."""
    head, sep, rest = (text or "").partition("\n")
    if head.rstrip().endswith("（续）"):
        return head.rstrip()[:-3].rstrip() + sep + rest
    return text


def split_parent_text(text: str) -> tuple[str, str, dict[str, str]]:
    """``一、标题\\n牵头单位：A；配合单位：B`` -> (code, title, {"lead": "A", "co": "B"})."""
    lines = text.strip().split("\n", 1)
    head = lines[0].strip()
    rest = lines[1] if len(lines) > 1 else ""
    attrs: dict[str, str] = {}
    marks = list(_PARENT_ATTR.finditer(rest))
    if marks:
        names = {"牵头单位": "lead", "配合单位": "co", "完成时限": "deadline"}
        for i, m in enumerate(marks):
            end = marks[i + 1].start() if i + 1 < len(marks) else len(rest)
            attrs[names[m.group(1)]] = rest[m.end():end].strip().strip("；;").strip()
        extra = rest[:marks[0].start()].strip()
    else:
        extra = rest.strip()
    if extra:
        head = f"{head}\n{extra}"
    m = _PARENT_CODE.match(head)
    if m and m.group(2).strip():
        code = m.group(1).strip().rstrip("、.．").strip()
        return code, m.group(2).strip(), attrs
    return "", head, attrs


class MergedSheet:
    """Cell access that sees through merged ranges."""

    def __init__(self, ws):
        self.ws = ws
        self.origin: dict[tuple[int, int], tuple[int, int]] = {}
        for rng in ws.merged_cells.ranges:
            top = (rng.min_row, rng.min_col)
            for r in range(rng.min_row, rng.max_row + 1):
                for c in range(rng.min_col, rng.max_col + 1):
                    if (r, c) != top:
                        self.origin[(r, c)] = top

    def cell(self, row: int, col: int):
        """(cell holding the value, origin (row, col), is_continuation of a merged range)."""
        top = self.origin.get((row, col))
        if top is None:
            return self.ws.cell(row=row, column=col), (row, col), False
        return self.ws.cell(row=top[0], column=top[1]), top, True


def is_formula(cell) -> bool:
    return cell.data_type == "f" or (isinstance(cell.value, str) and cell.value.startswith("=") and cell.data_type != "s")


def cell_text(cell, loc: str, problems: list[PlanProblem], *, allow_date: bool = False, kind: str = "text") -> str:
    """The text of a cell; formulas and (outside 完成时限) dates are problems naming the cell."""
    value = cell.value
    if value is None:
        return ""
    if is_formula(cell):
        problems.append(PlanProblem(loc, "单元格含公式，请改为文本后再导入"))
        return ""
    if isinstance(value, (datetime, date, time)):
        if allow_date and isinstance(value, (datetime, date)):
            day = value.date() if isinstance(value, datetime) else value
            return day.isoformat()
        problems.append(PlanProblem(loc, "单元格是日期格式，应为文本"))
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if not isinstance(value, str):
        return str(value)
    value = normalise_newlines(value).strip()
    problem = text_problem(value)
    if problem:
        problems.append(PlanProblem(loc, f"单元格{problem}，请删除后再导入"))
        return ""
    return value
