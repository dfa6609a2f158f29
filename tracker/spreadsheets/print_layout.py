"""Print layout of exported sheets: what Excel and WPS do not work out by themselves.

openpyxl writes no row heights, so wrapped text is cut and merged cells overflow when
printed. ``PrintLayout`` estimates each row's height from its text and the column widths
(merged cells included), sets explicit page breaks for A3 landscape fitted to the width,
splits merged parent cells where a group continues on a new page (the label is repeated
with "（续）"), repeats the title and header rows on every page and puts 第N页 共M页 in the
footer. Pure layout: the caller writes the cells (as text) and hands over the merges.
"""
from __future__ import annotations

import math
import unicodedata
from copy import copy
from dataclasses import dataclass, field

from openpyxl.cell.cell import MergedCell
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.merge import MergedCellRange
from openpyxl.worksheet.pagebreak import Break, RowBreak

FONT_NAME = "宋体"  # present on every Chinese Windows PC and in WPS; LibreOffice substitutes a CJK font
FONT_SIZE = 10.5
LINE_PT = 14.5  # one line of 10.5 pt text, with leading
PAD_PT = 5.0
MIN_ROW_PT = 20.0
# A3 landscape in points and the margins set below (inches * 72).
PAGE_W_PT, PAGE_H_PT = 1190.55, 841.89
MARGIN_LR_IN, MARGIN_TB_IN, HEADER_IN = 0.4, 0.6, 0.25
SAFETY = 0.94  # leave room for rounding in the spreadsheet program's own layout
CONTINUED = "（续）"


def text_px(text: str, size: float = FONT_SIZE) -> float:
    """Width of one line of text in pixels at 96 dpi: CJK and full-width glyphs are one em, others ~half."""
    em = size * 96 / 72
    return sum(em if unicodedata.east_asian_width(ch) in ("W", "F") else em * 0.55 for ch in text)


def column_px(width_chars: float) -> float:
    """Excel's column width (in '0' characters of the default 11 pt font) in pixels."""
    return math.floor(width_chars * 7 + 5)


def text_lines(text: str, width_px: float, size: float = FONT_SIZE) -> int:
    usable = max(width_px - 8, 10)
    lines = 0
    for paragraph in (text or "").split("\n"):
        lines += max(1, math.ceil(text_px(paragraph, size) / usable))
    return lines


def needed_height(text: str, width_px: float, size: float = FONT_SIZE) -> float:
    return max(MIN_ROW_PT, text_lines(text, width_px, size) * LINE_PT * size / FONT_SIZE + PAD_PT)


@dataclass
class Merge:
    top: int
    col: int
    bottom: int
    text: str = ""


@dataclass
class PrintLayout:
    ws: object
    widths: list[float]  # column widths in characters, column 1 first
    title_rows: tuple[int, int]  # rows repeated on every page, e.g. (1, 2)
    first_body_row: int
    last_row: int
    merges: list[Merge] = field(default_factory=list)
    heights: dict[int, float] = field(default_factory=dict)
    breaks: list[int] = field(default_factory=list)

    # --- sizes ---------------------------------------------------------------------------------
    def scale(self) -> float:
        """Fit-to-width scale the spreadsheet program will use (never above 100 %)."""
        total_pt = sum(column_px(w) for w in self.widths) * 0.75
        usable = PAGE_W_PT - 2 * MARGIN_LR_IN * 72
        return min(1.0, usable / total_pt)

    def _cell_text(self, row: int, col: int) -> str:
        value = self.ws.cell(row=row, column=col).value
        return "" if value is None else str(value)

    def measure_rows(self) -> None:
        merged_tops = {(m.top, m.col) for m in self.merges}
        covered = {(r, m.col) for m in self.merges for r in range(m.top, m.bottom + 1)}
        for r in range(self.first_body_row, self.last_row + 1):
            h = MIN_ROW_PT
            for c, w in enumerate(self.widths, start=1):
                if (r, c) in covered or (r, c) in merged_tops:
                    continue
                h = max(h, needed_height(self._cell_text(r, c), column_px(w)))
            self.heights[r] = h
        for m in self.merges:
            self._fit_merge(m)

    def _fit_merge(self, m: Merge) -> None:
        """Grow the rows of a merged cell evenly until its text fits."""
        need = needed_height(self._cell_text(m.top, m.col), column_px(self.widths[m.col - 1]))
        rows = range(m.top, m.bottom + 1)
        have = sum(self.heights[r] for r in rows)
        if need > have:
            extra = (need - have) / len(rows)
            for r in rows:
                self.heights[r] += extra

    # --- pages ---------------------------------------------------------------------------------
    def page_body_pt(self) -> float:
        usable = PAGE_H_PT - 2 * MARGIN_TB_IN * 72
        titles = sum(self._title_height(r) for r in range(self.title_rows[0], self.title_rows[1] + 1))
        return (usable * SAFETY) / self.scale() - titles

    def _title_height(self, r: int) -> float:
        h = self.ws.row_dimensions[r].height
        return h if h else MIN_ROW_PT

    def paginate(self) -> None:
        limit = self.page_body_pt()
        used = 0.0
        self.breaks = []
        for r in range(self.first_body_row, self.last_row + 1):
            h = self.heights[r]
            if used and used + h > limit:
                self.breaks.append(r - 1)  # the break comes after row r-1
                used = 0.0
            used += h

    def split_merges(self) -> None:
        """A merged cell crossing a page break becomes one merge per page, the label repeated."""
        starts = {b + 1 for b in self.breaks}
        result: list[Merge] = []
        for m in self.merges:
            top = m.top
            for r in range(m.top + 1, m.bottom + 1):
                if r in starts:
                    result.append(Merge(top, m.col, r - 1, m.text))
                    self._continue_label(m, r)
                    top = r
            result.append(Merge(top, m.col, m.bottom, m.text))
        self.merges = result

    def _continue_label(self, m: Merge, row: int) -> None:
        source = self.ws.cell(row=m.top, column=m.col)
        cell = self.ws.cell(row=row, column=m.col)
        head, _, rest = (source.value or "").partition("\n")
        cell.value = head + CONTINUED + ("\n" + rest if rest else "")
        cell._style = copy(source._style)

    # --- writing -------------------------------------------------------------------------------
    def apply(self, *, header_title: str = "") -> None:
        self.measure_rows()
        self.paginate()
        if self.breaks:
            self.split_merges()
            for m in self.merges:
                self._fit_merge(m)
        ws = self.ws
        for r, h in self.heights.items():
            ws.row_dimensions[r].height = round(h, 1)
        for m in self.merges:
            if m.bottom > m.top:
                self._merge(m)
        ws.row_breaks = RowBreak()
        for b in self.breaks:
            ws.row_breaks.append(Break(id=b))
        setup(ws, self.title_rows, header_title)

    def _merge(self, m: Merge) -> None:
        ws = self.ws
        letter = get_column_letter(m.col)
        ws.merged_cells.ranges.add(MergedCellRange(ws, f"{letter}{m.top}:{letter}{m.bottom}"))
        style = ws.cell(row=m.top, column=m.col)._style
        for rr in range(m.top + 1, m.bottom + 1):
            covered = MergedCell(ws, rr, m.col)
            covered._style = copy(style)
            ws._cells[(rr, m.col)] = covered


def setup(ws, title_rows: tuple[int, int], header_title: str = "") -> None:
    """A3 landscape, fitted to one page wide, titles repeated, 第N页 共M页 in the footer."""
    ws.print_title_rows = f"{title_rows[0]}:{title_rows[1]}"
    ws.page_setup.paperSize = ws.PAPERSIZE_A3
    ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = MARGIN_LR_IN
    ws.page_margins.top = ws.page_margins.bottom = MARGIN_TB_IN
    ws.page_margins.header = ws.page_margins.footer = HEADER_IN
    ws.oddFooter.center.text = "第 &P 页 共 &N 页"
    ws.oddFooter.center.font = f"{FONT_NAME},常规"
    ws.oddFooter.center.size = 9
    if header_title:
        ws.oddHeader.right.text = header_title.replace("&", "&&")
        ws.oddHeader.right.font = f"{FONT_NAME},常规"
        ws.oddHeader.right.size = 9
