"""The one way the tracker writes cells into an .xlsx (ledger export, overdue export, any later sheet).

- Text is always a string cell: ``=HYPERLINK(…)``, ``+1``, ``-1``, ``@SUM(…)`` stay visible text, never a
  formula (openpyxl turns any str starting with ``=`` into a formula unless told otherwise). Text that a
  spreadsheet could read as a formula when the cell is edited also gets Excel's quote prefix.
- Characters XML 1.0 cannot hold (C0 controls other than tab/newline/CR, lone surrogates, U+FFFE/U+FFFF)
  are dropped, so a bad character stored before the input rule existed never breaks an export.
- Numbers, dates and None are written as they are.
"""
from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any, Iterable

from openpyxl.cell.cell import TYPE_STRING

REPLACEMENT = ""
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")


def clean(text: Any) -> str:
    """``text`` as a str that XML (and so every spreadsheet program) can hold."""
    return _ILLEGAL_XML.sub(REPLACEMENT, "" if text is None else str(text))


def text_cell(ws, row: int, column: int, value: Any, style: str | None = None):
    """Write ``value`` as a text cell (never a formula), with an optional named style; returns the cell."""
    cell = ws.cell(row=row, column=column)
    text = clean(value)
    cell.value = text
    cell.data_type = TYPE_STRING
    if style is not None:
        cell.style = style  # replaces the whole style, so before the quote prefix
    if text.startswith(FORMULA_TRIGGERS):
        cell.quotePrefix = True
    return cell


def value_cell(ws, row: int, column: int, value: Any):
    """Numbers, dates and empty cells as they are; everything else as text."""
    if value is None or (isinstance(value, (int, float, date, datetime)) and not isinstance(value, bool)):
        cell = ws.cell(row=row, column=column)
        cell.value = value
        return cell
    return text_cell(ws, row, column, value)


def write_row(ws, row: int, values: Iterable[Any]) -> None:
    """One row from column A: ``ws.append`` without its formula interpretation."""
    for column, value in enumerate(values, start=1):
        value_cell(ws, row, column, value)
