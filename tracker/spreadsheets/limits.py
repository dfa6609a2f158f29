"""Refuse a workbook whose sheets are too large BEFORE openpyxl expands anything.

openpyxl builds an object for every cell and for every cell covered by a merged range, so a 5 KB file
with ``<mergeCell ref="A10:XFD50000"/>`` asks for 800 million objects. ``check_workbook`` streams the
worksheet XML of the (already size-checked) zip with expat, without building a tree, and counts rows,
cells and merged cells; the first limit exceeded ends the scan with a Chinese message naming it.
"""
from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from xml.parsers import expat

MAX_ROWS = 20_000          # highest row number of any cell or merged range
MAX_COLUMNS = 200          # highest column number (GR)
MAX_CELLS = 300_000        # <c> elements in all sheets together
MAX_MERGED_RANGES = 20_000
MAX_MERGED_CELLS = 100_000  # cells covered by merged ranges in all sheets together

_MAIN_NS = ("http://schemas.openxmlformats.org/spreadsheetml/2006/main", "http://purl.oclc.org/ooxml/spreadsheetml/main")
_REF = re.compile(r"\$?([A-Z]{1,3})\$?([0-9]{1,7})", re.ASCII)
# Parts openpyxl reads that cannot hold cells (skipped to save time).
_SKIP = re.compile(r"^xl/(sharedStrings\.xml|styles\.xml|theme/.*|media/.*|printerSettings/.*)$")


class SheetTooLarge(Exception):
    """The workbook exceeds a limit; the message names it."""


@dataclass
class Extent:
    rows: int = 0
    columns: int = 0
    cells: int = 0
    merged_ranges: int = 0
    merged_cells: int = 0


def column_number(letters: str) -> int:
    number = 0
    for ch in letters:
        number = number * 26 + (ord(ch) - 64)
    return number


def parse_ref(ref: str) -> tuple[int, int]:
    """``"XFD50000"`` → (row 50000, column 16384); SheetTooLarge on a malformed reference."""
    m = _REF.fullmatch(ref.strip())
    if m is None:
        raise SheetTooLarge(f"工作表中的单元格引用无效：{ref[:40]}")
    return int(m.group(2)), column_number(m.group(1))


class _Scanner:
    def __init__(self, extent: Extent):
        self.extent = extent

    def _reach(self, row: int, col: int, where: str) -> None:
        e = self.extent
        if col > MAX_COLUMNS:
            raise SheetTooLarge(f"工作表列数过多（{where} 到第 {col} 列），上限为 {MAX_COLUMNS} 列")
        if row > MAX_ROWS:
            raise SheetTooLarge(f"工作表行数过多（{where} 到第 {row} 行），上限为 {MAX_ROWS:,} 行")
        e.rows, e.columns = max(e.rows, row), max(e.columns, col)

    def start(self, name: str, attrs: dict) -> None:
        ns, _, local = name.rpartition(" ")
        if ns not in _MAIN_NS:
            return
        e = self.extent
        if local == "c":
            e.cells += 1
            if e.cells > MAX_CELLS:
                raise SheetTooLarge(f"单元格过多（上限为 {MAX_CELLS:,} 个），请只保留工作台账内容后再导入")
            ref = attrs.get("r")
            if ref:
                row, col = parse_ref(ref)
                self._reach(row, col, f"单元格 {ref}")
        elif local == "row":
            raw = attrs.get("r", "")
            if raw.isascii() and raw.isdigit():
                self._reach(int(raw), 1, "行")
        elif local == "mergeCell":
            ref = attrs.get("ref", "")
            first, _, last = ref.partition(":")
            (r1, c1), (r2, c2) = parse_ref(first), parse_ref(last or first)
            self._reach(max(r1, r2), max(c1, c2), f"合并单元格 {ref}")
            e.merged_ranges += 1
            e.merged_cells += (abs(r2 - r1) + 1) * (abs(c2 - c1) + 1)
            if e.merged_ranges > MAX_MERGED_RANGES:
                raise SheetTooLarge(f"合并单元格区域过多（上限为 {MAX_MERGED_RANGES:,} 个）")
            if e.merged_cells > MAX_MERGED_CELLS:
                raise SheetTooLarge(f"合并单元格覆盖的单元格过多（{ref} 等共 {e.merged_cells:,} 个，上限为 {MAX_MERGED_CELLS:,} 个）")


def check_workbook(archive: zipfile.ZipFile) -> Extent:
    """Scan every XML part that could hold cells; SheetTooLarge at the first limit exceeded."""
    extent = Extent()
    scanner = _Scanner(extent)
    for info in archive.infolist():
        if not info.filename.endswith(".xml") or _SKIP.match(info.filename):
            continue
        parser = expat.ParserCreate(namespace_separator=" ")
        parser.StartElementHandler = scanner.start
        try:
            with archive.open(info) as stream:
                parser.ParseFile(stream)
        except expat.ExpatError:
            raise SheetTooLarge(f"文件内容损坏（{info.filename[:60]} 不是有效的 XML）") from None
    return extent
